"""Benchmark: signed inbound SMS at the real webhook app vs a bare Flask route, under gunicorn.

    OUTREACH_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python benchmarks/webhooks.py [--workers 4] [--requests 2000] [--concurrency 8]

Both apps run under gunicorn (several workers) on loopback; the real one on a PostgreSQL
schema of its own, dropped afterwards.  A separate load process drives (1) as many requests as
it can with ``--concurrency`` connections for a bounded count, then (2) a paced 100 requests/s
for ``--paced-seconds``; it prints requests/s and p50/p99 latency for both and their ratio.
Target: real >= half the bare throughput; p99 < 100 ms at 100 requests/s.

A third app, the floor (``floor_flask.py``), checks the signature and inserts one handled-once
row: what recording any message costs.  Each line also gives the server's CPU per request
(gunicorn workers, and all PostgreSQL processes), read from /proc: unlike requests per second
it hardly moves when other work shares the machine, so compare versions by it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if sys.path and Path(sys.path[0]).resolve() == HERE:
    sys.path.pop(0)  # this file is named webhooks.py: never shadow the webhooks package

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


def drive(url: str, public: str, count: int, concurrency: int, rate: float, seconds: float) -> dict:
    """Send signed inbound SMS; closed loop (rate 0) or paced at ``rate`` per second."""
    import requests
    from twilio.request_validator import RequestValidator

    from outreach.sandbox import SANDBOX_ACCOUNT_SID

    validator = RequestValidator(TOKEN)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    total = count if rate == 0 else int(rate * seconds)
    counter = iter(range(total))
    start = time.perf_counter()

    def worker() -> None:
        http = requests.Session()
        for n in counter:
            if rate:
                delay = start + n / rate - time.perf_counter()
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


def server_cpu(server) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """CPU seconds so far of the server's gunicorn workers and of every PostgreSQL process.

    CPU per request, unlike requests per second, hardly moves when other work shares the
    machine, so it is the figure to compare between runs and versions.
    """
    procs = _processes()
    workers = [pid for pid, ppid, _ in procs if ppid == server.pid]
    database = [pid for pid, _, name in procs if name == "postgres"]
    return {"app": sum(map(_cpu, workers)), "db": sum(map(_cpu, database))}


def load_process(
    url: str,
    public: str,
    args: argparse.Namespace,
    rate: float,
    server=None,  # type: ignore[no-untyped-def]
) -> dict:
    """Run :func:`drive` in a separate Python process and return its figures (with the
    server's CPU per request when ``server`` is given)."""
    before = server_cpu(server) if server is not None else None
    command = [
        sys.executable, __file__, "--drive", url, "--public", public,
        "--requests", str(args.requests), "--concurrency", str(args.concurrency),
        "--rate", str(rate), "--paced-seconds", str(args.paced_seconds),
    ]  # fmt: skip
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    figures: dict = json.loads(out.stdout.strip().splitlines()[-1])
    if before is not None:
        after = server_cpu(server)
        for part in ("app", "db"):
            figures[f"{part}_cpu_ms"] = (after[part] - before[part]) * 1000 / figures["requests"]
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
    url = make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
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


def drop_schema(admin_url: str, schema: str) -> None:
    from sqlalchemy import text

    from outreach.db import make_engine

    admin = make_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def show(name: str, figures: dict) -> None:
    print(
        f"{name:22} {figures['requests']:6d} req  {figures['rps']:8.1f} req/s  "
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
    parser.add_argument("--drive", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--public", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        figures = drive(
            args.drive, args.public, args.requests, args.concurrency, args.rate, args.paced_seconds
        )
        print(json.dumps(figures))
        return 0
    admin_url = os.environ.get("OUTREACH_TEST_POSTGRES_URL") or os.environ.get("DATABASE_URL")
    if not admin_url or not admin_url.startswith("postgresql"):
        raise SystemExit("set OUTREACH_TEST_POSTGRES_URL to a PostgreSQL server")
    url, schema = prepare_schema(admin_url)
    real_port, bare_port, floor_port = free_port(), free_port(), free_port()
    public = f"http://127.0.0.1:{real_port}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PUBLIC_BASE_URL": public,
        "OUTREACH_SANDBOX_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": "",
        "TWILIO_AUTH_TOKEN": "",
    }
    real = start_gunicorn("webhooks:create_app()", real_port, args.workers, env)
    bare = start_gunicorn("bare_flask:app", bare_port, args.workers, env, "--pythonpath", str(HERE))
    floor = start_gunicorn(
        "floor_flask:app", floor_port, args.workers, env, "--pythonpath", str(HERE)
    )
    try:
        sms = "/twilio/sms"
        bare_url, real_url = f"http://127.0.0.1:{bare_port}{sms}", f"{public}{sms}"
        floor_url = f"http://127.0.0.1:{floor_port}{sms}"
        print(f"gunicorn -w {args.workers}; load: separate process, {args.concurrency} connections")
        bare_max = load_process(bare_url, f"{public}{sms}", args, 0, bare)
        floor_max = load_process(floor_url, f"{public}{sms}", args, 0, floor)
        real_max = load_process(real_url, f"{public}{sms}", args, 0, real)
        bare_paced = load_process(bare_url, f"{public}{sms}", args, 100, bare)
        real_paced = load_process(real_url, f"{public}{sms}", args, 100, real)
    finally:
        stop(real)
        stop(bare)
        stop(floor)
        drop_schema(admin_url, schema)
    show("bare, max", bare_max)
    show("floor, max", floor_max)
    show("real, max", real_max)
    show("bare, 100 req/s", bare_paced)
    show("real, 100 req/s", real_paced)
    ratio = real_max["rps"] / bare_max["rps"]
    print(f"real/bare throughput ratio {ratio:.2f} (target >= 0.5)")
    print(
        f"floor/bare ratio {floor_max['rps'] / bare_max['rps']:.2f}: signing and recording a "
        "message at all, before any conversation"
    )
    print(f"real p99 at 100 req/s {real_paced['p99_ms']:.1f} ms (target < 100 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
