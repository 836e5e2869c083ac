"""Benchmark: what one signed reply costs, in one process, for workshops of several sizes.

    python benchmarks/workshop_scale.py [--scales 1,10] [--requests 1000]
        [--database-url URL | --sqlite] [--profile N]

Runs the same inbound-SMS mix as ``benchmarks/webhooks.py`` (200 customers; "预约保养", "2",
"明天下午三点", "HELP", "周六上午可以") through the real webhook app with Flask's test client,
once per workshop scale, each on a fresh database.  A workshop of scale ``n``
(:func:`scaled_config`) is the example one ``n`` times over: ``n`` times the advisors, the
technicians, the arrivals per interval and the special bays' hours.  It prints the CPU per
request of this process and of its own PostgreSQL backends, the ratio to the first scale, the
statements per reply, what was booked and held, and the CPU per reply of each message.

The two scales do not do the same things with the same messages: the larger workshop has room
for every customer, so more of its replies hold and book.  So the CPU is also given per
outcome, by what the reply did (its script, and for an offer how many slots it held), with
the process's and the PostgreSQL backends' CPU of those replies: that compares like with
like.  ``--profile N`` prints the N costliest functions (cProfile) of each scale's run.

This measures the code without HTTP or gunicorn; ``benchmarks/webhooks.py --workshop-scale``
measures the served app.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if sys.path and Path(sys.path[0]).resolve() == HERE:
    sys.path[0] = str(ROOT)  # never shadow the webhooks package with benchmarks/webhooks.py

TOKEN = "bench-sandbox-token"  # noqa: S105 - the sandbox signing key for this run only
PUBLIC = "http://127.0.0.1:5000"
PHONES = [f"+86139{n:08d}" for n in range(1, 201)]
BODIES = ["预约保养", "2", "明天下午三点", "HELP", "周六上午可以"]
EXAMPLE = ROOT / "config" / "dealership.example.toml"
SCALED_NUMBERS = ("max_arrivals_per_interval", "technicians", "alignment_bay", "body_shop")


def scaled_config(scale: int, folder: Path) -> Path:
    """The example configuration with a workshop ``scale`` times larger, written to ``folder``.

    Advisors are repeated (A01 … becomes A01 … A20 at scale 10, with the same days and cars
    per interval); technicians, arrivals per interval and each bay's hours are multiplied.
    """
    text = EXAMPLE.read_text(encoding="utf-8")
    if scale != 1:
        for name in SCALED_NUMBERS:
            text, count = re.subn(
                rf"^({name}\s*=\s*)([0-9.]+)",
                lambda m: m.group(1) + _times(m.group(2), scale),
                text,
                count=1,
                flags=re.MULTILINE,
            )
            if count != 1:
                raise SystemExit(f"{EXAMPLE}: no '{name} =' line to scale")
        blocks = re.findall(
            r"^\[\[capacity\.advisors\]\]\n(?:(?!\n\[).*\n)*", text, flags=re.MULTILINE
        )
        if not blocks:
            raise SystemExit(f"{EXAMPLE}: no [[capacity.advisors]] to scale")
        extra = []
        number = len(blocks)
        for copy in range(1, scale):
            for block in blocks:
                number += 1
                renamed = re.sub(r'code = "[^"]*"', f'code = "A{number:02d}"', block)
                renamed = re.sub(r'name = "([^"]*)"', rf'name = "\g<1>{copy + 1}"', renamed)
                extra.append(renamed)
        anchor = text.index(blocks[-1]) + len(blocks[-1])
        text = text[:anchor] + "\n" + "\n".join(extra) + text[anchor:]
    path = folder / f"dealership.scale{scale}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _times(number: str, scale: int) -> str:
    return str(int(number) * scale) if number.isdigit() else f"{float(number) * scale:g}"


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` so far (Linux /proc); a gone process counts 0."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def backends(admin_url: str, name: str) -> list[int]:
    """The PostgreSQL backend processes of the connections named ``name`` (application_name):
    other work on the same server is not counted."""
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


def run_scale(args: argparse.Namespace, scale: int, folder: Path) -> dict[str, Any]:
    from sqlalchemy import event, func, make_url, select, text
    from twilio.request_validator import RequestValidator

    import outreach.capacity.offer as offering
    import outreach.models
    from outreach.db import Base, make_engine, make_sessionmaker
    from outreach.sandbox import SANDBOX_ACCOUNT_SID
    from outreach.settings import load_settings
    from webhooks import ENGINE_KEY, create_app
    from webhooks.handlers import Handlers

    schema = None
    if args.sqlite:
        url = f"sqlite:///{folder}/scale{scale}.db"
    else:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = make_engine(args.database_url)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        url = (
            make_url(args.database_url)
            .update_query_dict({"options": f"-csearch_path={schema}", "application_name": schema})
            .render_as_string(hide_password=False)
        )
    try:
        environ = {
            "DATABASE_URL": url,
            "OUTREACH_CONFIG": str(scaled_config(scale, folder)),
            "PUBLIC_BASE_URL": PUBLIC,
            "OUTREACH_SANDBOX_AUTH_TOKEN": TOKEN,
        }
        settings = load_settings(environ)
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        with make_sessionmaker(engine)() as session, session.begin():
            for n, phone in enumerate(PHONES):
                session.add(
                    outreach.models.Customer(
                        external_id=f"B{n:05d}", name=f"客户{n}", phone=phone, consent=True
                    )
                )
        engine.dispose()
        app = create_app(settings)
        # What each reply did, for the per-outcome figures: its script and the slots it held.
        did: dict[str, Any] = {"kind": None, "held": 0}
        handlers = app.config["HANDLERS"]
        place_holds = offering.place_holds

        def handle_sms(*a: Any, **kw: Any) -> Any:
            reply = handlers.handle_sms(*a, **kw)
            did["kind"] = reply.kind
            return reply

        def counting_holds(*a: Any, **kw: Any) -> Any:
            held = place_holds(*a, **kw)
            did["held"] += len(held)
            return held

        app.config["HANDLERS"] = Handlers(
            handle_sms=handle_sms,
            voice_turn=handlers.voice_turn,
            call_unanswered=handlers.call_unanswered,
        )
        offering.place_holds = counting_holds
        statements = [0]
        timings: dict[str, list[float]] = {}  # statement text -> wall seconds of each run
        started: list[float] = []

        def before(*_: Any) -> None:
            statements[0] += 1
            started.append(time.perf_counter())

        def after(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
            timings.setdefault(" ".join(statement.split())[:150], []).append(
                time.perf_counter() - started.pop()
            )

        event.listen(app.extensions[ENGINE_KEY], "before_cursor_execute", before)
        event.listen(app.extensions[ENGINE_KEY], "after_cursor_execute", after)
        client = app.test_client()
        validator = RequestValidator(TOKEN)
        requests = []
        for n in range(args.requests + args.warm_up):
            data = {
                "AccountSid": SANDBOX_ACCOUNT_SID,
                "MessageSid": "SM" + uuid.uuid4().hex,
                "From": PHONES[n % len(PHONES)],
                "To": "+15005550006",
                "Body": BODIES[(n // len(PHONES)) % len(BODIES)],
            }
            signature = validator.compute_signature(PUBLIC + "/twilio/sms", data)
            requests.append((data, {"X-Twilio-Signature": signature}))

        by_body: dict[str, list[float]] = {}  # app CPU of each reply, by message
        by_outcome: dict[str, list[tuple[float, float]]] = {}  # (app, database) CPU per reply
        database: list[int] = []  # the PostgreSQL backends, once known (after the warm-up)

        def post(batch: list) -> None:
            for data, headers in batch:
                did.update(kind=None, held=0)
                db = cpu_seconds(database) if database else 0.0
                cpu = time.process_time()
                response = client.post("/twilio/sms", data=data, headers=headers)
                spent = time.process_time() - cpu
                db = (cpu_seconds(database) - db) if database else 0.0
                by_body.setdefault(data["Body"], []).append(spent)
                by_outcome.setdefault(outcome(did), []).append((spent, db))
                if response.status_code != 200:
                    raise SystemExit(f"status {response.status_code}: {response.data[:200]!r}")

        post(requests[: args.warm_up])
        if args.analyze and schema:
            # What autovacuum does on a server where it is on (this machine's has it off):
            # without statistics the planner takes the warmed-up tables for nearly empty and
            # may scan a whole table instead of its primary key.
            with engine.begin() as conn:
                for table in Base.metadata.sorted_tables:
                    conn.execute(text(f'ANALYZE "{table.name}"'))
        by_body.clear()
        by_outcome.clear()
        timings.clear()
        counted = statements[0]
        database.extend(backends(args.database_url, schema) if schema else [])
        me, db0, wall = time.process_time(), cpu_seconds(database), time.perf_counter()
        profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not waits
        if profiler:
            profiler.enable()
        post(requests[args.warm_up :])
        if profiler:
            profiler.disable()
        offering.place_holds = place_holds
        app_ms = (time.process_time() - me) * 1000 / args.requests
        db_ms = (cpu_seconds(database) - db0) * 1000 / args.requests
        wall_ms = (time.perf_counter() - wall) * 1000 / args.requests
        per_request = (statements[0] - counted) / args.requests
        with make_sessionmaker(engine)() as session:
            booked = session.scalar(select(func.count()).select_from(outreach.models.Appointment))
            holds = session.scalar(select(func.count()).select_from(outreach.models.SlotHold))
        if args.statements:
            print(f"--- scale {scale}: statements by total time (ms per reply, runs per reply)")
            costly = sorted(timings.items(), key=lambda kv: -sum(kv[1]))[: args.statements]
            for statement, runs in costly:
                share = 1000 * sum(runs) / args.requests
                print(f"{share:6.2f} ms {len(runs) / args.requests:5.2f}x  {statement}")
        if profiler:
            print(f"--- scale {scale}: costliest functions (cumulative) ---")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
        return {
            "app": app_ms,
            "db": db_ms,
            "wall": wall_ms,
            "statements": per_request,
            "booked": booked or 0,
            "holds": holds or 0,
            "by_body": {b: 1000 * sum(t) / len(t) for b, t in by_body.items()},
            "by_outcome": {
                name: (
                    len(runs),
                    1000 * sum(a for a, _ in runs) / len(runs),
                    1000 * sum(d for _, d in runs) / len(runs),
                )
                for name, runs in by_outcome.items()
            },
        }
    finally:
        if schema:
            admin = make_engine(args.database_url)
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            admin.dispose()


def outcome(did: dict[str, Any]) -> str:
    """What a reply did: its script, and for an offer how many slots it held."""
    kind = did["kind"] or "nothing"
    if kind in ("slot_options", "offer"):
        return f"{kind} ({did['held']} held)"
    return kind


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="1,10", help="workshop scales, comma separated")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warm-up", type=int, default=200, help="requests before measuring")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("OUTREACH_TEST_POSTGRES_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    )
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="ANALYZE the tables after the warm-up (as autovacuum would, where it is on)",
    )
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions")
    parser.add_argument(
        "--statements", type=int, default=0, help="print the N statements taking most time"
    )
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        results = {scale: run_scale(args, scale, Path(tmp)) for scale in scales}
    first = results[scales[0]]
    backend = "SQLite" if args.sqlite else "PostgreSQL"
    if args.analyze:
        backend += ", tables analyzed after the warm-up"
    print(f"{args.requests} replies per scale after {args.warm_up} warm-up, {backend}, in-process")
    for scale, r in results.items():
        total, base = r["app"] + r["db"], first["app"] + first["db"]
        print(
            f"scale {scale:3d}: cpu/req app {r['app']:6.2f} ms  db {r['db']:5.2f} ms  "
            f"total {total:6.2f} ms ({total / base:4.2f}x scale {scales[0]})  "
            f"wall {r['wall']:6.2f} ms  statements/req {r['statements']:5.2f}  "
            f"appointments {r['booked']:.0f}  holds placed {r['holds']:.0f}"
        )
    bodies = " ".join(f"{b!r:>10}" for b in BODIES)
    print(f"app CPU ms per reply, by message:  {bodies}")
    for scale, r in results.items():
        row = " ".join(f"{r['by_body'].get(b, float('nan')):10.2f}" for b in BODIES)
        print(f"scale {scale:3d}:                        {row}")
    print("CPU ms per reply by outcome (replies; app + database = total; database counted in")
    print("the kernel's clock ticks, so only the sum over many replies is meaningful):")
    names = sorted({n for r in results.values() for n in r["by_outcome"]})
    for name in names:
        cells = []
        for scale, r in results.items():
            got = r["by_outcome"].get(name)
            if got is None:
                cells.append(f"x{scale}: {'-':>28}")
                continue
            count, app, db = got
            cells.append(f"x{scale}: {count:4d}  {app:6.2f} + {db:5.2f} = {app + db:6.2f}")
        print(f"  {name:24s} " + "   ".join(cells))
    for scale, r in list(results.items())[1:]:
        # Like for like: each scale's cost per outcome, weighted by the first scale's outcomes
        # (those both scales had), so a different mix of outcomes does not count.
        common = [n for n in first["by_outcome"] if n in r["by_outcome"]]
        weights = {n: first["by_outcome"][n][0] for n in common}
        replies = sum(weights.values())
        if not replies:
            continue
        here = sum(w * sum(r["by_outcome"][n][1:]) for n, w in weights.items()) / replies
        there = sum(w * sum(first["by_outcome"][n][1:]) for n, w in weights.items()) / replies
        print(
            f"like for like, scale {scale} with scale {scales[0]}'s outcomes ({replies} of "
            f"{args.requests} replies had outcomes both saw): {here:6.2f} ms against "
            f"{there:6.2f} ms ({here / there:4.2f}x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
