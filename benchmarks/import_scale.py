"""Import a DMS export of 1,000,000 vehicles and 5,000,000 visits; report peak RSS and rows/s.

    python benchmarks/import_scale.py                      # full size, SQLite and PostgreSQL
    python benchmarks/import_scale.py --scale 0.1          # a tenth: 100,000 vehicles
    python benchmarks/import_scale.py --backends sqlite

The export (customers.csv, vehicles.csv, visits.csv) is generated once into ``--workdir``:
0.8 customers per vehicle, 5 visits per vehicle, the visits of a vehicle spread over the whole
file (all vehicles' first visits, then their second …), so no vehicle's readings sit together.
Each import runs in a child process of its own — ``outreach db upgrade`` on a new database,
then what ``outreach import`` runs, in one transaction — that reports its peak resident set
size (``ru_maxrss``, the high-water mark of the whole process) and the time taken.  The
target is a peak RSS under 500 MB.  PostgreSQL: ``--postgres-url`` (default
``$OUTREACH_TEST_POSTGRES_URL``); the benchmark makes a schema of its own and drops it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import make_url, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from outreach.db import make_engine, make_sessionmaker, transaction  # noqa: E402 - after the path set-up above
from outreach.importer import import_directory  # noqa: E402
from outreach.migrate import upgrade  # noqa: E402
from outreach.settings import DEFAULT_CONFIG, load_settings  # noqa: E402

FULL_VEHICLES = 1_000_000
VISITS_PER_VEHICLE = 5
CUSTOMERS_PER_VEHICLE = 0.8
TARGET_MB = 500


def generate(directory: Path, vehicles: int) -> dict[str, int]:
    """Write the export (unless already there for this size); rows per file."""
    customers = max(1, int(vehicles * CUSTOMERS_PER_VEHICLE))
    visits = vehicles * VISITS_PER_VEHICLE
    rows = {"customers.csv": customers, "vehicles.csv": vehicles, "visits.csv": visits}
    stamp = directory / "size.json"
    if stamp.exists() and json.loads(stamp.read_text()) == rows:
        return rows
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "customers.csv").open("w", encoding="utf-8") as f:
        f.write("customer_id,name,phone,locale,consent\n")
        for n in range(customers):
            locale = "zh-CN" if n % 5 else "en"
            f.write(f"C{n},客户{n},139{n:08d},{locale},{'yes' if n % 3 else 'no'}\n")
    with (directory / "vehicles.csv").open("w", encoding="utf-8") as f:
        f.write("vehicle_id,customer_id,vin,plate,model,model_year\n")
        for n in range(vehicles):
            f.write(
                f"V{n},C{n % customers},LSV{n:014d},沪A{n % 100000:05d},Lavida,{2010 + n % 15}\n"
            )
    first = date(2021, 1, 4)
    with (directory / "visits.csv").open("w", encoding="utf-8") as f:
        f.write("visit_id,vehicle_id,date,odometer_km,type,advisor,advisor_name\n")
        for k in range(VISITS_PER_VEHICLE):
            on = (first + timedelta(days=180 * k)).isoformat()
            kind = "maintenance" if k % 2 == 0 else "repair"
            for n in range(vehicles):
                km = 3000 + 9000 * k + n % 2000
                f.write(f"S{k}-{n},V{n},{on},{km},{kind},A{n % 40:02d},\n")
    stamp.write_text(json.dumps(rows))
    return rows


def child(url: str, directory: Path) -> None:
    """Upgrade a new database at ``url``, import ``directory``, print what it took (JSON)."""
    engine = make_engine(url)
    upgrade(engine)
    settings = load_settings({"OUTREACH_CONFIG": str(DEFAULT_CONFIG), "DATABASE_URL": url})
    started = time.perf_counter()
    with transaction(make_sessionmaker(engine)) as session:
        report = import_directory(session, settings, directory, now=datetime.now(UTC))
    seconds = time.perf_counter() - started
    engine.dispose()
    rows = sum(c.inserted + c.updated + c.unchanged for c in report.files.values())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "rows": rows,
        "rejected": report.rejected,
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,  # this process only, not the server
        "peak_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
    }
    print(json.dumps(result))


def postgres_schema(base: str) -> tuple[str, str]:
    schema = f"bench_import_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def drop_schema(base: str, schema: str) -> None:
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def run_backend(backend: str, directory: Path, args: argparse.Namespace) -> dict[str, float]:
    schema = None
    with tempfile.TemporaryDirectory(prefix="import-scale-") as tmp:
        if backend == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'outreach.db'}"
        else:
            if not args.postgres_url:
                raise SystemExit("--postgres-url (or OUTREACH_TEST_POSTGRES_URL) is needed")
            url, schema = postgres_schema(args.postgres_url)
        try:
            done = subprocess.run(
                [sys.executable, __file__, "--child", url, str(directory)],
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
        finally:
            if schema is not None:
                drop_schema(args.postgres_url, schema)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1,000,000 vehicles")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=os.environ.get("OUTREACH_TEST_POSTGRES_URL", ""))
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "outreach-import-scale"
    )
    parser.add_argument("--child", nargs=2, metavar=("URL", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    vehicles = int(FULL_VEHICLES * args.scale)
    directory = args.workdir / f"v{vehicles}"
    started = time.perf_counter()
    rows = generate(directory, vehicles)
    print(
        f"export: {rows['customers.csv']:,} customers, {rows['vehicles.csv']:,} vehicles, "
        f"{rows['visits.csv']:,} visits ({time.perf_counter() - started:.0f} s to generate)"
    )
    ok = True
    for backend in args.backends.split(","):
        result = run_backend(backend, directory, args)
        rate = result["rows"] / result["seconds"]
        within = result["peak_mb"] < TARGET_MB
        ok &= within and result["rejected"] == 0
        print(
            f"{backend:<11} {result['rows']:>10,} rows in {result['seconds']:7.1f} s "
            f"= {rate:7,.0f} rows/s ({result['rows'] / result['cpu_seconds']:,.0f} rows per "
            f"importer CPU second), peak RSS {result['peak_mb']:6.0f} MB "
            f"({'<' if within else '>='} {TARGET_MB} MB), rejected {result['rejected']}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
