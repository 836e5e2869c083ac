"""Benchmark: select every due customer for all campaigns, at scale, on SQLite and PostgreSQL.

    python benchmarks/due_selection.py 1000000            # SQLite (file cached under results/)
    python benchmarks/due_selection.py 100000 --postgres  # also PostgreSQL

Generates N vehicles (one customer each) with about 5 visits per vehicle and some deferred
items, then times ``iter_due`` over all campaigns in a fresh subprocess per run (so peak memory
is the selection's own, read from ``ru_maxrss``).  It also runs the same selection written as a
naive per-vehicle ORM loop on a subset, checks both agree on that subset, and prints the ratio
of per-vehicle cost.  Medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
TODAY = date(2026, 11, 28)
PG_URL = os.environ.get(
    "OUTREACH_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
VISIT_TYPES = ["maintenance", "maintenance", "inspection", "repair", "detailing"]


def rows(n: int, seed: int):
    """Customers, vehicles, visits and deferred items as tuples, deterministic per seed."""
    rng = random.Random(seed)
    created = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None).isoformat(" ")
    customers, vehicles, visits, items = [], [], [], []
    visit_id = item_id = 0
    for i in range(1, n + 1):
        customers.append(
            (
                i,
                f"C{i}",
                f"客户{i}",
                f"+8613{i:09d}",
                "zh-CN",
                "Asia/Shanghai",
                "sms",
                1,
                created,
                created,
            )
        )
        vehicles.append(
            (i, f"V{i}", i, f"LSV{i:014d}", f"沪A{i % 100000:05d}", "Lavida", 2015 + i % 10, 1)
        )
        km_per_day = rng.randint(15, 90)
        day = TODAY - timedelta(days=rng.randint(30, 900))
        km = rng.randint(1_000, 60_000)
        for _ in range(rng.randint(3, 7)):
            visit_id += 1
            reading = km if rng.random() > 0.1 else None
            visits.append(
                (visit_id, f"S{visit_id}", i, day.isoformat(), reading, rng.choice(VISIT_TYPES))
            )
            step = rng.randint(20, 200)
            day += timedelta(days=step)
            km += step * km_per_day
            if day >= TODAY:
                break
        if rng.random() < 0.1:
            item_id += 1
            due_by = TODAY + timedelta(days=rng.randint(-30, 90))
            items.append(
                (
                    item_id,
                    f"D{item_id}",
                    i,
                    "后刹车片剩余 30%",
                    rng.choice(["safety", "high", "low"]),
                    due_by.isoformat(),
                    0,
                )
            )
    return customers, vehicles, visits, items


COLUMNS = {
    "customers": "id, external_id, name, phone, locale, timezone, preferred_channel, consent, "
    "created_at, updated_at",
    "vehicles": "id, external_id, customer_id, vin, plate, model, model_year, active",
    "visits": "id, external_id, vehicle_id, visited_on, odometer_km, type",
    "deferred_items": "id, external_id, vehicle_id, description, severity, due_by, "
    "found_during_repair",
}


def build(url: str, n: int, seed: int) -> None:
    from sqlalchemy import insert

    from outreach.db import make_engine
    from outreach.history import COLUMNS as COLUMNS_HISTORY
    from outreach.history import history_select
    from outreach.migrate import upgrade
    from outreach.models import VehicleHistory

    engine = make_engine(url)
    upgrade(engine)
    data = dict(zip(COLUMNS, rows(n, seed), strict=True))
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        for table, columns in COLUMNS.items():
            values = data[table]
            if engine.dialect.name == "sqlite":
                marks = ", ".join("?" * len(values[0]))
                raw.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
            else:
                with raw.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
    with engine.begin() as conn:
        started = time.perf_counter()
        conn.execute(insert(VehicleHistory).from_select(COLUMNS_HISTORY, history_select()))
        print(f"vehicle_history refreshed in {time.perf_counter() - started:.1f} s (import cost)")
        if engine.dialect.name != "sqlite":
            conn.execute(text("ANALYZE"))
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would include the parent's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def select_once(url: str) -> dict:
    """Run in a child process: time the set-based selection, report time and peak memory."""
    from outreach.campaigns import iter_due
    from outreach.db import make_engine, make_sessionmaker
    from outreach.settings import load_settings

    settings = load_settings({})
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        started = time.perf_counter()
        count = sum(1 for _ in iter_due(session, settings, TODAY))
        elapsed = time.perf_counter() - started
    peak_mb = peak_rss_mb()
    return {"seconds": elapsed, "due": count, "peak_mb": peak_mb}


def naive(url: str, limit: int) -> dict:
    """The maintenance selection as a per-vehicle ORM loop over the first ``limit`` vehicles."""
    from dateutil.relativedelta import relativedelta
    from sqlalchemy import select

    from outreach.campaigns import iter_due
    from outreach.db import make_engine, make_sessionmaker
    from outreach.models import Vehicle
    from outreach.settings import load_settings

    settings = load_settings({})
    config = settings.campaigns.maintenance_interval
    horizon = TODAY + timedelta(days=config.lead_days)
    sessions = make_sessionmaker(make_engine(url))
    with sessions() as session:
        started = time.perf_counter()
        due = set()
        for vehicle in session.scalars(select(Vehicle).order_by(Vehicle.id).limit(limit)):
            customer = vehicle.customer
            if not customer.consent or customer.opted_out_at is not None or not vehicle.active:
                continue
            visits = sorted(vehicle.visits, key=lambda v: v.visited_on)
            services = [v for v in visits if v.type in ("maintenance", "inspection")]
            if not services:
                continue
            last = services[-1]
            readings = [v for v in visits if v.odometer_km is not None]
            span = (readings[-1].visited_on - readings[0].visited_on).days if readings else 0
            rate = (
                (readings[-1].odometer_km - readings[0].odometer_km) / span
                if span > 0
                else config.default_km_per_day
            )
            if last.odometer_km is not None:
                est = readings[-1].odometer_km + rate * (horizon - readings[-1].visited_on).days
                km_due = est - last.odometer_km >= config.interval_km
            else:
                km_due = rate * (horizon - last.visited_on).days >= config.interval_km
            if last.visited_on + relativedelta(months=config.interval_months) <= horizon or km_due:
                due.add(vehicle.id)
        elapsed = time.perf_counter() - started
        fast = {
            i.vehicle_id
            for i in iter_due(session, settings, TODAY, ["maintenance_interval"])
            if i.vehicle_id <= limit
        }
    return {"seconds": elapsed, "vehicles": limit, "agree": due == fast, "due": len(due)}


def child(mode: str, url: str, limit: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--url", url, "--limit", str(limit), "0"],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench(label: str, url: str, n: int, repeat: int, subset: int) -> dict:
    runs = [child("select", url, 0) for _ in range(repeat)]
    loop = child("naive", url, subset)
    median = statistics.median(r["seconds"] for r in runs)
    per_fast = median / n
    per_naive = loop["seconds"] / subset
    result = {
        "backend": label,
        "vehicles": n,
        "due": runs[0]["due"],
        "median_s": round(median, 2),
        "runs_s": [round(r["seconds"], 2) for r in runs],
        "peak_mb": round(max(r["peak_mb"] for r in runs)),
        "naive_subset": subset,
        "naive_s": round(loop["seconds"], 2),
        "naive_agrees": loop["agree"],
        "ratio_per_vehicle": round(per_naive / per_fast, 1),
    }
    print(
        f"{label:<10} {n:>9,} vehicles  due {result['due']:>8,}  median {median:6.2f} s "
        f"(runs {result['runs_s']})  peak {result['peak_mb']} MB  |  naive ORM loop "
        f"{subset:,} vehicles {loop['seconds']:.2f} s -> {result['ratio_per_vehicle']}x slower "
        f"per vehicle, agrees: {loop['agree']}"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("vehicles", type=int)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--subset", type=int, default=2000, help="vehicles for the naive loop")
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    parser.add_argument("--child", choices=["select", "naive"])
    parser.add_argument("--url")
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    if args.child:
        fn = select_once(args.url) if args.child == "select" else naive(args.url, args.limit)
        print(json.dumps(fn))
        return
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"due-{args.vehicles}-{args.seed}.db"
    url = f"sqlite:///{path}"
    if not path.exists():
        started = time.perf_counter()
        build(url, args.vehicles, args.seed)
        print(f"built {path.name} in {time.perf_counter() - started:.0f} s")
    results = [bench("sqlite", url, args.vehicles, args.repeat, args.subset)]
    if args.postgres:
        schema = "bench_due"
        from sqlalchemy import create_engine, make_url

        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
        pg = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        pg_url = pg.render_as_string(hide_password=False)
        started = time.perf_counter()
        build(pg_url, args.vehicles, args.seed)
        print(f"built PostgreSQL schema in {time.perf_counter() - started:.0f} s")
        try:
            results.append(bench("postgresql", pg_url, args.vehicles, args.repeat, args.subset))
        finally:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    (RESULTS / f"due_selection-{args.vehicles}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
