"""Reliability soak: N sender processes × M messages against a local Twilio stand-in.

    python benchmarks/soak_dispatch.py --senders 1,2,4,8 --messages 200 --rate 1
    python benchmarks/soak_dispatch.py --senders 2 --messages 400 --rate 20 --fault 5xx \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Each sender is the shipped command, ``outreach dispatch --every 2``, configured through a
TOML file (the example configuration, ``[sending]`` as given, the contact window open around
the clock) and ``TWILIO_*`` variables pointing the real Twilio SDK at the stand-in
(``tests/fakes``).  Faults (``--fault``), starting once a quarter of the messages is created:

- ``5xx``: every request answers 500 for 10 s (every other send is created first);
- ``refused``: the port is closed and open connections are reset for 10 s;
- ``kill``: a sender is SIGKILLed and replaced, three times, 3 s apart;
- ``dbdrop``: ``pg_terminate_backend`` on every sender's connections, three times
  (PostgreSQL only).

Prints, per sender count: messages created at the provider, duplicates (a message created
twice), lost (neither created nor handed to a person), handed off, and how many were
delivered (created) after the fault ended.  A run ends when no row is queued or sending.
SQLite in a temporary folder by default; ``--database-url`` takes a PostgreSQL URL, where each
run gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import collections
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, insert, make_url, select, text
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.dispatch import drop_schema, own_schema  # noqa: E402 - after the path set-up
from outreach.db import make_engine  # noqa: E402
from outreach.migrate import upgrade  # noqa: E402
from outreach.models import Customer, OutboxMessage  # noqa: E402
from tests.fakes.cli_sender import sender_env, start_sender, write_config  # noqa: E402
from tests.fakes.twilio_standin import (  # noqa: E402
    fail_5xx_for,
    refuse_connections_for,
    start_standin,
    stop_standin,
)

FAULT_SECONDS = 10.0
FAULTS = ("none", "kill", "5xx", "refused", "dbdrop")


@dataclass
class Result:
    backend: str
    senders: int
    created: int
    duplicates: int
    lost: int
    handed_off: int
    delivered: int
    after_fault: int
    wall: float
    statuses: dict[str, int]

    def ok(self, messages: int, fault: str) -> bool:
        if self.duplicates or self.lost:
            return False
        if fault in ("none", "5xx", "refused"):
            return self.handed_off == 0 and self.delivered == messages
        return True


def seed(engine: Engine, count: int) -> None:
    upgrade(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(Customer),
            [
                {
                    "external_id": f"S{n:06d}",
                    "name": "soak",
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
                    "body": f"soak {n}",
                    "not_before": now,
                    "next_attempt_at": now,
                    "status": "queued",
                    "idempotency_key": f"soak:{n}",
                    "created_at": now,
                }
                for n, cid in enumerate(ids)
            ],
        )


def statuses(engine: Engine) -> dict[str, int]:
    for attempt in range(10):  # SQLite under eight busy senders: wait for the lock
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                ).all()
            return {status: count for status, count in rows}
        except OperationalError:
            if attempt == 9:
                raise
            time.sleep(1)
    raise AssertionError("unreachable")


def drop_connections(engine: Engine, prefix: str) -> int:
    with engine.begin() as conn:
        return len(
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name LIKE :prefix AND pid <> pg_backend_pid()"
                ),
                {"prefix": prefix + "%"},
            ).all()
        )


def run_once(args: argparse.Namespace, base_url: str, senders: int, folder: Path) -> Result:
    url, schema = own_schema(base_url)
    engine = make_engine(url)
    server, state, standin = start_standin()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        seed(engine, args.messages)
        config = write_config(
            folder,
            rate_per_second=args.rate,
            batch_size=args.batch,
            lease_seconds=args.lease,
            backoff_base_seconds=args.backoff,
        )
        prefix = f"soak-{schema or folder.name}-"
        logs = folder / f"senders-{senders}.log"

        def spawn(n: int) -> subprocess.Popen[bytes]:
            return start_sender(sender_env(url, standin, config, f"{prefix}{n}"), logs)

        procs = [spawn(n) for n in range(senders)]
        started = time.monotonic()
        fault_after = args.messages // 4  # the fault starts once a quarter is created
        fault_end: float | None = None
        hits: list[float] = []
        deadline = started + args.messages / args.rate * 3 + args.lease * 4 + 120
        rng = random.Random(senders)
        while True:
            now = time.monotonic()
            due = len(state.created) >= fault_after
            if args.fault != "none" and fault_end is None and due:
                fault_end = now + FAULT_SECONDS
                if args.fault == "5xx":
                    fail_5xx_for(state, FAULT_SECONDS)
                elif args.fault == "refused":
                    refuse_connections_for(state, FAULT_SECONDS)
                else:
                    hits = [now, now + 3, now + 6]
            while hits and now >= hits[0]:
                hits.pop(0)
                if args.fault == "kill":
                    victim = rng.randrange(len(procs))
                    procs[victim].send_signal(signal.SIGKILL)
                    procs[victim].wait()
                    procs[victim] = spawn(len(procs) + victim + 100 * len(hits))
                elif args.fault == "dbdrop":
                    drop_connections(engine, prefix)
            counts = statuses(engine)
            busy = counts.get("queued", 0) + counts.get("sending", 0)
            settled = busy == 0 and not hits
            if settled and (args.fault == "none" or (fault_end is not None and now > fault_end)):
                break
            if all(proc.poll() is not None for proc in procs):
                tail = logs.read_text(errors="replace").splitlines()[-5:]
                print("  every sender exited:", *tail, sep="\n    ", flush=True)
                break
            if now > deadline:
                print(f"  timed out with {counts}", flush=True)
                break
            time.sleep(0.5)
        wall = time.monotonic() - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        stop_standin(server)
    counts = statuses(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(OutboxMessage.body, OutboxMessage.status)).all()
        why = conn.scalars(
            select(OutboxMessage.last_error).where(OutboxMessage.status == "handed_off")
        ).all()
    for reason in why:  # what a person was handed, and why
        print(f"  handed off: {reason}", flush=True)
    engine.dispose()
    if schema is not None:
        drop_schema(base_url, schema)
    per_body = collections.Counter(c.body for c in state.created)
    first: dict[str, float] = {}
    for c in sorted(state.created, key=lambda c: c.at):
        first.setdefault(c.body, c.at)
    end = (fault_end or 0.0) if args.fault != "none" else 0.0
    lost = sum(1 for body, status in rows if body not in per_body and status != "handed_off")
    return Result(
        backend=make_url(url).get_backend_name(),
        senders=senders,
        created=len(state.created),
        duplicates=sum(k - 1 for k in per_body.values()),
        lost=lost,
        handed_off=counts.get("handed_off", 0),
        delivered=len(per_body),
        after_fault=sum(1 for at in first.values() if end and at >= end) if end else 0,
        wall=wall,
        statuses=counts,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--senders", default="1,2,4,8", help="sender counts, comma-separated")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rate", type=float, default=1.0, help="[sending] rate_per_second")
    parser.add_argument("--batch", type=int, default=20, help="[sending] batch_size")
    parser.add_argument("--lease", type=float, default=120, help="[sending] lease_seconds")
    parser.add_argument("--backoff", type=float, default=30, help="[sending] backoff_base_seconds")
    parser.add_argument("--fault", choices=FAULTS, default="none")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.fault == "dbdrop" and not (args.database_url or "").startswith("postgresql"):
        parser.error("--fault dbdrop needs a PostgreSQL --database-url")

    failed = False
    print(
        f"{args.messages} messages, rate {args.rate:g}/s, batch {args.batch}, lease "
        f"{args.lease:g} s, back-off {args.backoff:g} s, fault {args.fault}",
        flush=True,
    )
    print("backend     senders  created  dupl  lost  handed_off  delivered  after_fault  wall")
    for senders in [int(n) for n in args.senders.split(",")]:
        folder = Path(tempfile.mkdtemp(prefix="soak-"))
        base_url = args.database_url or f"sqlite:///{folder}/soak.db"
        r = run_once(args, base_url, senders, folder)
        good = r.ok(args.messages, args.fault)
        failed |= not good
        print(
            f"{r.backend:10} {r.senders:8} {r.created:8} {r.duplicates:5} {r.lost:5} "
            f"{r.handed_off:11} {r.delivered:10} {r.after_fault:12} {r.wall:5.0f} s"
            f"{'' if good else '  FAIL ' + str(r.statuses)}",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
