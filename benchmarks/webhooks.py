"""Benchmark: signed inbound SMS at the real webhook app vs a bare Flask route, under gunicorn.

    OUTREACH_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python benchmarks/webhooks.py [--workers 4] [--requests 2000] [--concurrency 8]
            [--workshop-scale 1,10]

Both apps run under gunicorn (several workers) on loopback; the real one on a PostgreSQL
schema of its own, dropped afterwards.  A separate load process drives (1) as many requests as
it can with ``--concurrency`` connections for a bounded count, then (2) a paced 100 requests/s
for ``--paced-seconds``; it prints requests/s and p50/p99 latency for both and their ratio.
Target: real >= half the bare throughput; p99 < 100 ms at 100 requests/s.

A third app, the floor (``floor_flask.py``), checks the signature and inserts one handled-once
row: what recording any message costs.  Each line also gives the server's CPU per request
(gunicorn workers, and all PostgreSQL processes), read from /proc: unlike requests per second
it hardly moves when other work shares the machine, so compare versions by it.

``--workshop-scale 1,10`` serves the real app once per workshop size, side by side (each its
own gunicorn and schema, the same 200 customers and messages): the example workshop and one
ten times larger (:func:`workshop_scale.scaled_config`).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if sys.path and Path(sys.path[0]).resolve() == HERE:
    sys.path.pop(0)  # this file is named webhooks.py: never shadow the webhooks package
sys.path.append(str(HERE))  # after the project: workshop_scale, never this file as webhooks

from workshop_scale import scaled_config  # noqa: E402 - needs the path set above

TOKEN = "bench-sandbox-token"  # noqa: S105 - the sandbox signing key for this run only
PHONES = [f"+86139{n:08d}" for n in range(1, 201)]
BODIES = ["预约保养", "2", "明天下午三点", "HELP", "周六上午可以"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# --- the load process ----------------------------------------------------------------------


def drive(
    url: str, public: str, count: int, concurrency: int, rate: float, seconds: float, first: int
) -> dict:
    """Send signed inbound SMS; closed loop (rate 0) or paced at ``rate`` per second.

    The messages are the mix's numbers ``first``, ``first + 1`` …: a run continues the one
    before it (a warm-up, the closed-loop run) instead of starting the conversations over.
    """
    import requests
    from twilio.request_validator import RequestValidator

    from outreach.sandbox import SANDBOX_ACCOUNT_SID

    validator = RequestValidator(TOKEN)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    total = count if rate == 0 else int(rate * seconds)
    counter = iter(range(first, first + total))
    start = time.perf_counter()

    def worker() -> None:
        http = requests.Session()
        for n in counter:
            if rate:
                delay = start + (n - first) / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            data = {
                "AccountSid": SANDBOX_ACCOUNT_SID,
                "MessageSid": "SM" + uuid.uuid4().hex,
                "From": PHONES[n % len(PHONES)],
                "To": "+15005550006",
                "Body": BODIES[(n // len(PHONES)) % len(BODIES)],
            }
            headers = {"X-Twilio-Signature": validator.compute_signature(public, data)}
            t0 = time.perf_counter()
            response = http.post(url, data=data, headers=headers, timeout=15)
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                if response.status_code != 200:
                    errors[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "rps": len(latencies) / wall,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, name) of every process (Linux /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                head, tail = (entry / "stat").read_text().rsplit(")", 1)
            except OSError:
                continue
            out.append((int(entry.name), int(tail.split()[1]), head.split("(", 1)[1]))
    return out


def backends(admin_url: str, name: str) -> list[int]:
    """The PostgreSQL backend processes of the connections named ``name`` (application_name)."""
    from sqlalchemy import text

    from outreach.db import make_engine

    admin = make_engine(admin_url)
    with admin.connect() as conn:
        pids = list(
            conn.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                {"name": name},
            )
        )
    admin.dispose()
    return pids


def server_cpu(server, admin_url: str, name: str | None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """CPU seconds so far of the server's gunicorn workers, and per PostgreSQL backend of its
    connections (named ``name``: other work on the same server is not counted).

    CPU per request, unlike requests per second, hardly moves when other work shares the
    machine, so it is the figure to compare between runs and versions.
    """
    procs = _processes()
    workers = [pid for pid, ppid, _ in procs if ppid == server.pid]
    database = backends(admin_url, name) if name else []
    return {"app": sum(map(_cpu, workers)), "db": {pid: _cpu(pid) for pid in database}}


def load_process(
    url: str,
    public: str,
    args: argparse.Namespace,
    rate: float,
    server=None,  # type: ignore[no-untyped-def]
    name: str | None = None,
    *,
    first: int = 0,
    count: int | None = None,
) -> dict:
    """Run :func:`drive` in a separate Python process and return its figures (with the
    server's CPU per request when ``server`` is given; its database connections are those
    whose application_name is ``name``)."""
    before = server_cpu(server, args.admin_url, name) if server is not None else None
    command = [
        sys.executable, __file__, "--drive", url, "--public", public,
        "--requests", str(count or args.requests), "--concurrency", str(args.concurrency),
        "--rate", str(rate), "--paced-seconds", str(args.paced_seconds), "--first", str(first),
    ]  # fmt: skip
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    figures: dict = json.loads(out.stdout.strip().splitlines()[-1])
    if before is not None:
        after = server_cpu(server, args.admin_url, name)
        count = figures["requests"]
        figures["app_cpu_ms"] = (after["app"] - before["app"]) * 1000 / count
        db = sum(cpu - before["db"].get(pid, 0.0) for pid, cpu in after["db"].items())
        figures["db_cpu_ms"] = db * 1000 / count
    return figures


# --- the servers ---------------------------------------------------------------------------


def start_gunicorn(target: str, port: int, workers: int, env: dict[str, str], *extra: str):  # type: ignore[no-untyped-def]
    command = [
        sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
        "--log-level", "warning", *extra, target,
    ]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, env=env)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit(f"gunicorn {target} did not start")


def stop(proc) -> None:  # type: ignore[no-untyped-def]
    proc.terminate()
    proc.wait(timeout=30)


def outcomes(url: str) -> dict[str, int]:
    """Appointments booked and slot holds placed so far in the schema of ``url``."""
    from sqlalchemy import func, select

    import outreach.models
    from outreach.db import make_engine, make_sessionmaker

    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        booked = session.scalar(select(func.count()).select_from(outreach.models.Appointment))
        holds = session.scalar(select(func.count()).select_from(outreach.models.SlotHold))
    engine.dispose()
    return {"booked": booked or 0, "holds": holds or 0}


def prepare_schema(admin_url: str) -> tuple[str, str]:
    """A fresh PostgreSQL schema with every table and the demo customers; (url, schema)."""
    from sqlalchemy import make_url, text

    import outreach.models
    from outreach.db import Base, make_engine, make_sessionmaker

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    url = make_url(admin_url).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema}
    )
    rendered = url.render_as_string(hide_password=False)
    engine = make_engine(rendered)
    Base.metadata.create_all(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        for n, phone in enumerate(PHONES):
            session.add(
                outreach.models.Customer(
                    external_id=f"B{n:05d}", name=f"客户{n}", phone=phone, consent=True
                )
            )
    engine.dispose()
    return rendered, schema


def _renamed(url: str, name: str) -> str:
    """``url`` with its connections named ``name`` (application_name)."""
    from sqlalchemy import make_url

    renamed = make_url(url).update_query_dict({"application_name": name})
    return renamed.render_as_string(hide_password=False)


def drop_schema(admin_url: str, schema: str) -> None:
    from sqlalchemy import text

    from outreach.db import make_engine

    admin = make_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def show(name: str, figures: dict) -> None:
    print(
        f"{name:24} {figures['requests']:6d} req  {figures['rps']:8.1f} req/s  "
        f"p50 {figures['p50_ms']:6.1f} ms  p99 {figures['p99_ms']:6.1f} ms  "
        f"errors {figures['errors']}  cpu/req app {figures['app_cpu_ms']:5.2f} ms "
        f"db {figures['db_cpu_ms']:5.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--paced-seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument(
        "--workshop-scale",
        default="1",
        help="workshop sizes to serve side by side, e.g. 1,10 (see workshop_scale.py)",
    )
    parser.add_argument(
        "--warm-up",
        type=int,
        default=100,
        help="replies sent to each real app before measuring (its first messages of the mix)",
    )
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--drive", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--public", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        figures = drive(
            args.drive,
            args.public,
            args.requests,
            args.concurrency,
            args.rate,
            args.paced_seconds,
            args.first,
        )
        print(json.dumps(figures))
        return 0
    scales = [int(n) for n in args.workshop_scale.split(",")]
    admin_url = os.environ.get("OUTREACH_TEST_POSTGRES_URL") or os.environ.get("DATABASE_URL")
    if not admin_url or not admin_url.startswith("postgresql"):
        raise SystemExit("set OUTREACH_TEST_POSTGRES_URL to a PostgreSQL server")
    args.admin_url = admin_url
    folder = Path(tempfile.mkdtemp(prefix="bench-workshops-"))
    schemas: dict[int, tuple[str, str]] = {n: prepare_schema(admin_url) for n in scales}
    bare_port, floor_port = free_port(), free_port()
    ports = {n: free_port() for n in scales}
    floor_name = f"{schemas[scales[0]][1]}_floor"
    env = {
        **os.environ,
        "DATABASE_URL": _renamed(schemas[scales[0]][0], floor_name),
        "OUTREACH_SANDBOX_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": "",
        "TWILIO_AUTH_TOKEN": "",
    }
    sms = "/twilio/sms"
    publics = {n: f"http://127.0.0.1:{ports[n]}" for n in scales}
    reals = {}
    for n in scales:
        env_n = {
            **env,
            "DATABASE_URL": schemas[n][0],
            "PUBLIC_BASE_URL": publics[n],
            "OUTREACH_CONFIG": str(scaled_config(n, folder)),
        }
        reals[n] = start_gunicorn("webhooks:create_app()", ports[n], args.workers, env_n)
    env["PUBLIC_BASE_URL"] = publics[scales[0]]
    bare = start_gunicorn("bare_flask:app", bare_port, args.workers, env, "--pythonpath", str(HERE))
    floor = start_gunicorn(
        "floor_flask:app", floor_port, args.workers, env, "--pythonpath", str(HERE)
    )
    signed_as = f"{publics[scales[0]]}{sms}"  # the bare and floor apps check this signature
    try:
        bare_url = f"http://127.0.0.1:{bare_port}{sms}"
        floor_url = f"http://127.0.0.1:{floor_port}{sms}"
        print(
            f"gunicorn -w {args.workers}; load: separate process, {args.concurrency} "
            f"connections; workshop scales {', '.join(map(str, scales))} side by side"
        )
        bare_max = load_process(bare_url, signed_as, args, 0, bare)
        floor_max = load_process(floor_url, signed_as, args, 0, floor, floor_name)
        for n in scales:  # every worker has loaded what it loads on first use
            load_process(f"{publics[n]}{sms}", f"{publics[n]}{sms}", args, 0, count=args.warm_up)
        real_max = {
            n: load_process(
                f"{publics[n]}{sms}",
                f"{publics[n]}{sms}",
                args,
                0,
                reals[n],
                schemas[n][1],
                first=args.warm_up,
            )
            for n in scales
        }
        after_max = {n: outcomes(schemas[n][0]) for n in scales}
        bare_paced = load_process(bare_url, signed_as, args, 100, bare)
        real_paced = {
            n: load_process(
                f"{publics[n]}{sms}",
                f"{publics[n]}{sms}",
                args,
                100,
                reals[n],
                schemas[n][1],
                first=args.warm_up + args.requests,
            )
            for n in scales
        }
    finally:
        for proc in (*reals.values(), bare, floor):
            stop(proc)
        for _, schema in schemas.values():
            drop_schema(admin_url, schema)
    show("bare, max", bare_max)
    show("floor, max", floor_max)
    for n in scales:
        show(f"real x{n}, max", real_max[n])
    show("bare, 100 req/s", bare_paced)
    for n in scales:
        show(f"real x{n}, 100 req/s", real_paced[n])
    first = scales[0]
    for n in scales:
        cpu = real_max[n]["app_cpu_ms"] + real_max[n]["db_cpu_ms"]
        base = real_max[first]["app_cpu_ms"] + real_max[first]["db_cpu_ms"]
        print(
            f"workshop x{n}: server cpu per reply {cpu:.2f} ms (app + PostgreSQL; target <= 6 ms"
            f"{'' if n == first else f'; {cpu / base:.2f}x of x{first}, target <= 1.2x'}); "
            f"real/bare throughput {real_max[n]['rps'] / bare_max['rps']:.2f}; "
            f"p99 at 100 req/s {real_paced[n]['p99_ms']:.1f} ms (target < 100 ms); "
            f"after the max run: {after_max[n]['booked']} appointments, "
            f"{after_max[n]['holds']} holds placed"
        )
    print(
        f"floor/bare ratio {floor_max['rps'] / bare_max['rps']:.2f}: signing and recording a "
        "message at all, before any conversation"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
