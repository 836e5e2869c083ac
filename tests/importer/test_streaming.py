"""Importing in bounded memory (#15): a file is read a batch at a time, and the result does not
depend on the batch size — duplicates, references, the odometer rule and re-imports included."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.importer import context, table, visits
from outreach.models import Customer, DeferredItem, Vehicle, VehicleHistory, Visit
from tests.conftest import BACKENDS, fresh_engine
from tests.test_importer import messages, run, write


@pytest.fixture
def tiny_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of two rows, lookups of three ids, odometers checked one vehicle at a time."""
    for module in (table, context, visits):
        monkeypatch.setattr(module, "BATCH", 2)
    monkeypatch.setattr(table, "LOOKUP", 3)
    monkeypatch.setattr(visits, "VEHICLES_AT_ONCE", 1)


def export(directory: Path, seed: int) -> Path:
    """A shuffled export with duplicates, bad references and odometer conflicts far apart."""
    rng = random.Random(seed)
    customers = [f"C{n},客户{n},139{n:08d},zh-CN" for n in range(1, 31)]
    customers.append("C3,重复,13900000099,zh-CN")  # a duplicate id, far from the first
    vehicles = [f"V{n},C{rng.randint(1, 32)},VIN{n:05d},沪A{n:05d},Lavida" for n in range(1, 31)]
    rows = []
    for n in range(1, 151):
        vehicle = rng.randint(1, 31)
        month = rng.randint(1, 12)
        km = month * 1000 + rng.choice([0, 0, 0, 0, -900, 5000])  # some readings go backwards
        rows.append(
            f"S{n},V{vehicle},2025-{month:02d}-{rng.randint(1, 28):02d},{km},repair,A0{n % 3},"
        )
    rows.append("S7,V1,2025-01-01,1,repair,,")  # duplicate visit id
    rng.shuffle(rows)
    deferred = [
        f"D{n},V{rng.randint(1, 30)},S{rng.randint(1, 160)},刹车片,low,2026-05-01"
        for n in range(40)
    ]
    return write(
        directory,
        customers="customer_id,name,phone,locale\n" + "\n".join(customers) + "\n",
        vehicles="vehicle_id,customer_id,vin,plate,model\n" + "\n".join(vehicles) + "\n",
        visits="visit_id,vehicle_id,date,odometer_km,type,advisor,advisor_name\n"
        + "\n".join(rows)
        + "\n",
        deferred_work="item_id,vehicle_id,visit_id,description,severity,due_by\n"
        + "\n".join(deferred)
        + "\n",
    )


def snapshot(session: Session) -> dict[str, list[object]]:
    return {
        "customers": sorted(session.execute(select(Customer.external_id, Customer.name)).all()),
        "vehicles": sorted(session.execute(select(Vehicle.external_id, Vehicle.customer_id)).all()),
        "visits": sorted(
            session.execute(
                select(Visit.external_id, Visit.vehicle_id, Visit.visited_on, Visit.odometer_km)
            ).all()
        ),
        "deferred": sorted(
            session.execute(select(DeferredItem.external_id, DeferredItem.visit_id)).all()
        ),
        "history": sorted(
            session.execute(
                select(VehicleHistory.vehicle_id, VehicleHistory.first_km, VehicleHistory.last_km)
            ).all()
        ),
    }


def import_twice(settings, tmp_path: Path, seed: int):  # type: ignore[no-untyped-def]
    """Messages and stored rows after an import and a re-import of a changed export."""
    with fresh_engine("sqlite", tmp_path) as engine, Session(engine) as session:
        first = run(session, settings, export(tmp_path / "one", seed))
        second = run(session, settings, export(tmp_path / "two", seed + 1))
        return messages(first), messages(second), second.files, snapshot(session)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_result_does_not_depend_on_the_batch_size(settings, tmp_path, seed, monkeypatch):
    (tmp_path / "a" / "one").mkdir(parents=True)
    (tmp_path / "a" / "two").mkdir()
    (tmp_path / "b" / "one").mkdir(parents=True)
    (tmp_path / "b" / "two").mkdir()
    whole = import_twice(settings, tmp_path / "a", seed)
    for module in (table, context, visits):
        monkeypatch.setattr(module, "BATCH", 2)
    monkeypatch.setattr(table, "LOOKUP", 3)
    monkeypatch.setattr(visits, "VEHICLES_AT_ONCE", 1)
    batched = import_twice(settings, tmp_path / "b", seed)
    assert batched == whole
    assert any("duplicate" in m for m in whole[0]) and any("odometer" in m for m in whole[0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_visit_moved_and_rejected_counts_again_on_its_vehicle(
    settings, tmp_path, backend, tiny_batches
):
    """S2 moves from V1 to V2 and is rejected there: its stored reading is V1's again, so a
    later V1 reading below it is rejected, though V1 was checked before V2."""
    base = "customer_id,name,phone,locale\nC1,李雷,13912345678,zh-CN\n"
    cars = (
        "vehicle_id,customer_id,vin,plate,model\nV1,C1,VIN1,沪A1,Lavida\nV2,C1,VIN2,沪A2,Lavida\n"
    )
    header = "visit_id,vehicle_id,date,odometer_km,type\n"
    with fresh_engine(backend, tmp_path) as engine, Session(engine) as session:
        (tmp_path / "one").mkdir()
        (tmp_path / "two").mkdir()
        stored = header + "S1,V1,2025-01-01,10000,repair\nS2,V1,2025-06-01,20000,repair\n"
        stored += "S3,V2,2025-03-01,50000,repair\n"
        assert (
            messages(
                run(
                    session,
                    settings,
                    write(tmp_path / "one", customers=base, vehicles=cars, visits=stored),
                )
            )
            == []
        )
        moved = header + "S4,V1,2025-09-01,15000,repair\nS2,V2,2025-06-01,20000,repair\n"
        report = run(
            session, settings, write(tmp_path / "two", customers=base, vehicles=cars, visits=moved)
        )
        assert [m.split(":")[:3] for m in messages(report)] == [
            ["visits.csv", "2", "odometer_km"],
            ["visits.csv", "3", "odometer_km"],
        ]
        rows = session.execute(
            select(Visit.external_id, Visit.vehicle_id).order_by(Visit.external_id)
        ).all()
        v1 = session.scalar(select(Vehicle.id).where(Vehicle.external_id == "V1"))
        assert [(e, v == v1) for e, v in rows] == [("S1", True), ("S2", True), ("S3", False)]
