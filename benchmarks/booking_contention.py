"""Benchmark: 100 concurrent confirmations competing for the last 10 places, on PostgreSQL.

    python benchmarks/booking_contention.py [--database-url URL] [--processes 4]
        [--pool-size 5] [--rounds 5] [--workshop-scale 1,10]

Creates its own schema (dropped afterwards), a workshop whose Monday has exactly 10 one-hour
places left, and 100 customers.  The confirmations run in ``--processes`` spawned processes
(each with its own engine and a pool of ``--pool-size`` connections, as a web worker would have)
of ``confirmations / processes`` threads each, all released at once; latency includes waiting
for a pooled connection.  Before the start each process runs one confirmation in a rolled-back
transaction (see :func:`warm_up`), so the figures are those of warm workers.
Runs ``--rounds`` such contests, each on a fresh schema, and prints for each the bookings
made (must be 10), conflicts (SlotTaken), p50/p99 confirmation latency and the server CPU per
confirmation (the worker processes and their own PostgreSQL backends, from /proc), then the
median p50 and p99 over the rounds; exits non-zero if any round booked other than the places
left.  ``--workshop-scale 1,10`` runs each round for the contest's workshop and for one with
ten times its advisors, arrival places and bookings already made, side by side.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from datetime import time as clock
from pathlib import Path

from sqlalchemy import func, make_url, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from outreach.capacity import SlotTaken, book, run_with_retries
from outreach.capacity.config import AdvisorCapacity, CapacityConfig, JobType
from outreach.db import Base, make_engine, make_sessionmaker
from outreach.models import Appointment, CapacityUnit, Customer, Vehicle
from outreach.settings import DEFAULT_CONFIG, Settings, load_settings

DEFAULT_URL = os.environ.get(
    "OUTREACH_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PLACES = 10
PRE_BOOKED = 6
NOW = datetime(2026, 5, 31, 4, 0, tzinfo=UTC)  # Sunday 12:00 in Shanghai


def workshop(base: Settings, scale: int = 1) -> Settings:
    """One Monday with (PRE_BOOKED x scale + PLACES) one-hour places of labour, many arrival
    places; ``scale`` times the advisors and arrival places of the example contest."""
    hours = (clock(8, 0), clock(18, 0))
    config = CapacityConfig(
        max_arrivals_per_interval=4 * scale,
        opening_hours={**{d: hours for d in range(5)}, 5: None, 6: None},
        advisors=tuple(
            AdvisorCapacity(f"A{n}", f"Advisor {n}", frozenset(range(5))) for n in range(4 * scale)
        ),
        technicians=PRE_BOOKED * scale + PLACES,
        hours_per_technician=1.25,  # x 0.8 bookable = one hour per technician
        job_types={"small": JobType("small", {"zh-CN": "保养", "en": "service"}, 1.0, 300.0)},
        public_holidays=False,
    )
    return replace(base, capacity=config)


def slot(n: int) -> datetime:
    """Monday's n-th arrival interval (quarter hours from 08:00 Shanghai = 00:00 UTC)."""
    return datetime(2026, 6, 1, 0, 0, tzinfo=UTC).replace(minute=(n % 4) * 15, hour=(n // 4) % 10)


def setup(url: str, settings: Settings, n: int, pre_booked: int) -> list[tuple[int, int]]:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session, session.begin():
        people = []
        for i in range(n + pre_booked):
            c = Customer(
                external_id=f"B{i}", name=f"Customer {i}", phone=f"+8613900{i:06d}", consent=True
            )
            session.add(c)
            session.flush()
            v = Vehicle(
                external_id=f"BV{i}", customer_id=c.id, vin=f"VIN{i:014d}", plate="沪A1", model="M"
            )
            session.add(v)
            session.flush()
            people.append((c.id, v.id))
        for i, (c, v) in enumerate(people[:pre_booked]):
            confirmation(session, settings, (c, v, i))
    engine.dispose()
    return people[pre_booked:]


def confirmation(session, settings: Settings, task: tuple[int, int, int]) -> None:
    """Book customer and vehicle ``task[:2]`` for a one-hour job at Monday's ``task[2]``-th
    interval."""
    customer_id, vehicle_id, n = task
    book(
        session,
        settings,
        customer_id=customer_id,
        vehicle_id=vehicle_id,
        jobs=["small"],
        starts_at=slot(n),
        now=NOW,
    )


def warm_up(sessions, settings: Settings, task: tuple[int, int, int]) -> None:
    """One confirmation in a transaction that is rolled back: nothing is booked, but the process
    has compiled and cached its statements, as a web worker that has served a request has.
    Without it the first confirmations of every process also measure SQLAlchemy's compilation.
    The place it tries may already be taken by another process's warm-up: that is as good.
    """
    with sessions() as session:
        session.begin()
        try:
            confirmation(session, settings, task)
        except SlotTaken:
            pass
        finally:
            session.rollback()


def worker(url: str, settings: Settings, go, results, tasks, pool_size: int) -> None:
    engine = make_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=60)
    sessions = make_sessionmaker(engine)
    conns = [engine.connect() for _ in range(pool_size)]  # open the pool before the start
    for conn in conns:
        conn.close()
    warm_up(sessions, settings, tasks[0])
    barrier = threading.Barrier(len(tasks) + 1)

    def confirm(task: tuple[int, int, int]) -> None:
        barrier.wait()
        go.wait(60)
        start = time.perf_counter()
        try:
            run_with_retries(sessions, lambda session: confirmation(session, settings, task))
            outcome = "booked"
        except SlotTaken:
            outcome = "taken"
        except Exception as exc:  # reported, and the run fails
            outcome = f"error: {exc!r}"
        end = time.perf_counter()
        results.put((outcome, end - start, start, end))

    threads = [threading.Thread(target=confirm, args=(t,)) for t in tasks]
    for t in threads:
        t.start()
    barrier.wait()  # every thread is at its start line
    cpu = time.process_time()
    results.put(("ready", 0.0, 0.0, 0.0))
    for t in threads:
        t.join()
    results.put(("cpu", time.process_time() - cpu, 0.0, 0.0))
    engine.dispose()


def backend_cpu(admin, name: str) -> dict[int, float]:  # type: ignore[no-untyped-def]
    """CPU seconds so far of each PostgreSQL backend whose connection is named ``name``."""
    with admin.connect() as conn:
        pids = list(
            conn.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                {"name": name},
            )
        )
    return {pid: _cpu(pid) for pid in pids}


def _cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (Linux /proc); 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_round(
    args: argparse.Namespace, scale: int
) -> tuple[bool, float, float, float, float, float]:
    """One contest on a fresh schema; prints its figures; (all correct, p50 ms, p99 ms,
    server CPU ms per confirmation: the workers' and their PostgreSQL backends', ms from the
    release to the first and to the last confirmation done)."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    pre_booked = PRE_BOOKED * scale
    admin = make_engine(args.database_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(args.database_url).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema}
    )
    url_text = url.render_as_string(hide_password=False)
    try:
        settings = workshop(load_settings({"OUTREACH_CONFIG": str(DEFAULT_CONFIG)}), scale)
        people = setup(url_text, settings, args.confirmations, pre_booked)
        tasks = [(c, v, pre_booked + i) for i, (c, v) in enumerate(people)]
        ctx = multiprocessing.get_context("spawn")
        go, results = ctx.Event(), ctx.Queue()
        procs = [
            ctx.Process(
                target=worker,
                args=(url_text, settings, go, results, tasks[i :: args.processes], args.pool_size),
            )
            for i in range(args.processes)
        ]
        for p in procs:
            p.start()
        for _ in procs:  # every process has imported, connected, warmed up and is waiting
            if results.get(timeout=120)[0] != "ready":
                raise SystemExit("a worker reported before the start")
        time.sleep(0.2)  # its threads are past the barrier, on go.wait()
        database = backend_cpu(admin, schema)
        released = time.perf_counter()  # CLOCK_MONOTONIC: comparable across the processes
        go.set()
        outcomes = [results.get(timeout=60) for _ in tasks + procs]
        database_after = backend_cpu(admin, schema)  # before the workers close their pools
        for p in procs:
            p.join(60)
        worker_cpu = sum(s for o, s, _, _ in outcomes if o == "cpu")
        timed = [(start, end) for o, _, start, end in outcomes if o != "cpu"]
        outcomes = [(o, s) for o, s, _, _ in outcomes if o != "cpu"]
        db_cpu = sum(cpu - database.get(pid, 0.0) for pid, cpu in database_after.items())
        cpu_ms = (worker_cpu + db_cpu) * 1000 / len(tasks)
        engine = make_engine(url_text)
        with make_sessionmaker(engine)() as session:
            appointments = session.scalar(select(func.count()).select_from(Appointment))
            labour = session.get(CapacityUnit, "labour:2026-06-01")
            used, capacity = labour.used, labour.capacity
        engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
    booked = sum(1 for o, _ in outcomes if o == "booked")
    taken = sum(1 for o, _ in outcomes if o == "taken")
    errors = [o for o, _ in outcomes if o not in ("booked", "taken")]
    ms = sorted(1000 * s for _, s in outcomes)
    p50, p99 = statistics.median(ms), ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    print(
        f"x{scale:<3d} bookings made: {booked} (appointments: {appointments - pre_booked})  "
        f"conflicts: {taken}  errors: {len(errors)}  labour minutes: {used}/{capacity}  "
        f"p50 {p50:.1f} ms  p99 {p99:.1f} ms  max {ms[-1]:.1f} ms  "
        f"cpu/confirmation {cpu_ms:.2f} ms"
    )
    starts = sorted(1000 * (start - released) for start, _ in timed)
    ends = sorted(1000 * (end - released) for _, end in timed)
    print(
        f"     after the release: threads started {starts[0]:.1f}-{starts[-1]:.1f} ms, "
        f"first confirmation done {ends[0]:.1f} ms, last {ends[-1]:.1f} ms"
    )
    for e in errors[:3]:
        print(e)
    ok = (
        booked == PLACES and appointments - pre_booked == PLACES and not errors and used <= capacity
    )
    return ok, p50, p99, cpu_ms, ends[0], ends[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--confirmations", type=int, default=100)
    parser.add_argument("--pool-size", type=int, default=5, help="connections per process")
    parser.add_argument("--rounds", type=int, default=5, help="contests, each on a fresh schema")
    parser.add_argument(
        "--workshop-scale",
        default="1,10",
        help="workshop sizes side by side: x advisors, arrival places and bookings made before",
    )
    args = parser.parse_args()
    scales = [int(n) for n in args.workshop_scale.split(",")]
    print(
        f"{args.confirmations} confirmations from {args.processes} processes "
        f"({args.pool_size} connections each) for {PLACES} places, {args.rounds} rounds, "
        f"workshop scales {', '.join(map(str, scales))} side by side"
    )
    by_scale: dict[int, list[tuple[bool, float, float, float, float, float]]] = {
        n: [] for n in scales
    }
    for _ in range(args.rounds):
        for n in scales:
            by_scale[n].append(run_round(args, n))
    for n, rounds in by_scale.items():
        p50s, p99s, cpus = [r[1] for r in rounds], [r[2] for r in rounds], [r[3] for r in rounds]
        print(
            f"workshop x{n}, median of {args.rounds} rounds: p50 {statistics.median(p50s):.1f} ms  "
            f"p99 {statistics.median(p99s):.1f} ms (target p99 < 120 ms; "
            f"p99 range {min(p99s):.1f}-{max(p99s):.1f} ms)  "
            f"server cpu/confirmation {statistics.median(cpus):.2f} ms  "
            f"first / last done {statistics.median(r[4] for r in rounds):.1f} / "
            f"{statistics.median(r[5] for r in rounds):.1f} ms after the release"
        )
    rounds = [r for rs in by_scale.values() for r in rs]
    return 0 if all(r[0] for r in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
