"""Send 10,000 queued messages through sender processes to a local Twilio stand-in.

    python benchmarks/dispatch.py --rate 200 --messages 10000 --senders 1,2,4 --runs 3

Each sender runs the product's own sending code: ``outreach.outbox.dispatch`` with the real
``TwilioGateway`` (the twilio SDK) pointed at the stand-in through ``TWILIO_API_BASE_URL``.
Prints the achieved send rate against the configured one (the target, with two senders or
more, is within 5 %; exit 1 when it is missed or a message is sent twice or lost),
CPU per message (the senders and, on PostgreSQL, their server processes, from /proc),
duplicates (must be 0) and lost messages (must be 0); with ``--runs`` the sender counts
run side by side, round after round, and the medians are printed.  SQLite in a temporary folder by
default; ``--database-url`` takes a PostgreSQL URL instead: the benchmark makes a schema of
its own there and drops it afterwards.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, make_url, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from outreach.db import Base, make_engine  # noqa: E402 - after the path set-up above
from outreach.models import Customer, OutboxMessage  # noqa: E402
from tests.fakes.twilio_standin import start_standin, stop_standin  # noqa: E402


def seed(url: str, count: int) -> None:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(Customer),
            [
                {
                    "external_id": f"B{n:06d}",
                    "name": "bench",
                    "phone": f"+86139{n:08d}",
                    "consent": True,
                    "timezone": "Asia/Shanghai",
                }
                for n in range(count)
            ],
        )
        ids = conn.scalars(select(Customer.id).order_by(Customer.id)).all()
        conn.execute(
            insert(OutboxMessage),
            [
                {
                    "customer_id": cid,
                    "channel": "sms",
                    "to": f"+86139{n:08d}",
                    "body": f"bench {n}",
                    "not_before": now,
                    "next_attempt_at": now,
                    "status": "queued",
                    "idempotency_key": f"bench:{n}",
                }
                for n, cid in enumerate(ids)
            ],
        )
    engine.dispose()


def own_schema(url: str) -> tuple[str, str | None]:
    """A PostgreSQL URL made to use a new schema of its own (and the schema); SQLite as is."""
    if not url.startswith("postgresql"):
        return url, None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False), schema


def drop_schema(url: str, schema: str) -> None:
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backends(url: str, prefix: str) -> list[int]:
    """The PostgreSQL server processes serving connections named ``prefix…``."""
    engine = make_engine(url)
    with engine.connect() as conn:
        pids = conn.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE application_name LIKE :p"),
            {"p": prefix + "%"},
        ).all()
    engine.dispose()
    return list(pids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--senders", default="2", help="sender counts, comma-separated")
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1, help="runs per sender count (medians)")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    counts = [int(n) for n in args.senders.split(",")]
    results: dict[int, list[dict[str, float]]] = {n: [] for n in counts}
    failed = False
    for _ in range(args.runs):  # side by side: every sender count once per round
        for senders in counts:
            folder = tempfile.mkdtemp(prefix="dispatch-bench-")
            url, schema = own_schema(args.database_url or f"sqlite:///{folder}/bench.db")
            try:
                result = run(args, url, senders)
            finally:
                if schema is not None:
                    drop_schema(args.database_url, schema)
            failed |= not result.pop("ok")
            results[senders].append(result)
    if args.runs > 1:
        print(f"\nmedians of {args.runs} runs, configured {args.rate:g} msg/s:")
        print("senders  achieved msg/s  off %    CPU ms/msg (senders + database)")
        for senders, runs in results.items():
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(
                f"{senders:7}  {med['achieved']:14.1f}  {med['off']:+5.1f}    "
                f"{med['cpu_ms']:.2f} ({med['sender_ms']:.2f} + {med['db_ms']:.2f})"
            )
    return 1 if failed else 0


def run(args: argparse.Namespace, url: str, count: int) -> dict[str, float]:
    seed(url, args.messages)
    server, standin, base = start_standin()
    prefix = f"bench-{uuid.uuid4().hex[:8]}-"
    started = time.monotonic()
    senders = []
    for n in range(count):
        named = url
        if url.startswith("postgresql"):
            named = make_url(url).update_query_dict({"application_name": f"{prefix}{n}"})
            named = named.render_as_string(hide_password=False)
        senders.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.fakes.sender",
                    named,
                    base,
                    str(args.rate),
                    str(args.batch),
                    "hold",
                ],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        )
    for p in senders:  # each prints its count when the outbox is drained, then holds
        assert p.stdout is not None
        p.stdout.readline()
    wall = time.monotonic() - started
    sender_cpu = sum(cpu_seconds(p.pid) for p in senders)
    db_cpu = 0.0
    if url.startswith("postgresql"):
        db_cpu = sum(cpu_seconds(pid) for pid in backends(args.database_url, prefix))
    for p in senders:
        assert p.stdin is not None
        p.stdin.close()
    codes = [p.wait() for p in senders]
    stop_standin(server)

    engine = make_engine(url)
    with engine.connect() as conn:
        statuses = collections.Counter(conn.scalars(select(OutboxMessage.status)).all())
    engine.dispose()
    created = sorted(standin.created, key=lambda c: c.at)
    per_body = collections.Counter(c.body for c in created)
    duplicates = sum(k - 1 for k in per_body.values() if k > 1)
    lost = args.messages - len(per_body) - statuses.get("handed_off", 0)
    span = created[-1].at - created[0].at if len(created) > 1 else 0.0
    achieved = (len(created) - 1) / span if span else 0.0
    off = (achieved - args.rate) / args.rate * 100
    backend = make_url(url).get_backend_name()
    sender_ms = sender_cpu / args.messages * 1000
    db_ms = db_cpu / args.messages * 1000
    print(f"messages     {args.messages} through {count} senders on {backend}"
          f" (exit codes {codes})")  # fmt: skip
    print(f"configured   {args.rate:.1f} msg/s")
    print(f"achieved     {achieved:.1f} msg/s ({off:+.1f} %), first to last send {span:.1f} s")
    print(f"wall clock   {wall:.1f} s including process start")
    print(
        f"CPU / msg    {sender_ms + db_ms:.2f} ms (senders {sender_ms:.2f}, database {db_ms:.2f})"
    )
    print(f"statuses     {dict(statuses)}")
    print(f"duplicates   {duplicates}")
    print(f"lost         {lost}", flush=True)
    return {
        # The rate target is for two senders or more: one sender waits on its own round trips.
        "ok": duplicates == 0 and lost == 0 and (count < 2 or abs(off) <= 5),
        "achieved": achieved,
        "off": off,
        "cpu_ms": sender_ms + db_ms,
        "sender_ms": sender_ms,
        "db_ms": db_ms,
    }


if __name__ == "__main__":
    sys.exit(main())
