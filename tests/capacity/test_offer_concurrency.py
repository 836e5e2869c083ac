"""Many customers offered and holding several slots at once: no deadlock, never over capacity.

Each thread plays a customer in the conversation: release their holds and offer three held
slots in one transaction (twice), then book one of the held slots.  The workshop has fewer
places than the customers want, so the offers fight over the same days' labour rows.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from outreach.capacity import (
    SlotTaken,
    book,
    offer_slots,
    release_customer_holds,
    run_with_retries,
)
from outreach.models import Appointment, CapacityTake, CapacityUnit, SlotHold
from tests.capacity.conftest import NOW, capacity_settings, customer_with_vehicle

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
CUSTOMERS = 16


def _customer_turns(engine, cap, customer_id, vehicle_id) -> str:
    """Two offers of three held slots, then a booking of the first slot held: an outcome."""
    sessions = sessionmaker(engine, expire_on_commit=False)
    held = []
    for _ in range(2):
        with sessions() as session, session.begin():
            release_customer_holds(session, customer_id)
            held = offer_slots(
                session, cap, jobs=["small"], now=NOW, customer_id=customer_id, hold_for="sms"
            )
    if not held:
        return "nothing offered"

    def confirm(session):
        book(
            session,
            cap,
            customer_id=customer_id,
            vehicle_id=vehicle_id,
            jobs=["small"],
            starts_at=held[0].starts_at,
            now=NOW,
            hold_id=held[0].hold_id,
        )

    try:
        run_with_retries(sessions, confirm, attempts=1)  # no retry: a deadlock must not happen
    except SlotTaken:
        return "taken"
    return "booked"


@pytest.mark.parametrize("committing_engine", BACKENDS, indirect=True)
def test_concurrent_multi_slot_offers_never_deadlock_nor_overbook(committing_engine, settings):
    """Sixteen customers offering, holding and booking at once: no error, ledger consistent."""
    cap = capacity_settings(settings, horizon_days=3)  # Mon-Wed: 12 one-hour places
    with sessionmaker(committing_engine)() as session, session.begin():
        people = [customer_with_vehicle(session) for _ in range(CUSTOMERS)]
    barrier = threading.Barrier(CUSTOMERS)
    outcomes: list[str] = []

    def run(person):
        barrier.wait()
        try:
            outcomes.append(_customer_turns(committing_engine, cap, *person))
        except Exception as exc:  # recorded, so the test fails with the reason
            outcomes.append(f"error: {exc!r}")

    threads = [threading.Thread(target=run, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert [o for o in outcomes if o.startswith("error")] == []
    assert len(outcomes) == CUSTOMERS
    with sessionmaker(committing_engine)() as session:
        units = {u.key: u for u in session.scalars(select(CapacityUnit))}
        assert all(u.used <= u.capacity for u in units.values())
        live_hold = select(SlotHold.id).where(SlotHold.status == "held")
        booked = select(Appointment.id).where(Appointment.status == "booked")
        taken = dict(
            session.execute(
                select(CapacityTake.unit_key, func.sum(CapacityTake.amount))
                .where(
                    CapacityTake.hold_id.in_(live_hold) | CapacityTake.appointment_id.in_(booked)
                )
                .group_by(CapacityTake.unit_key)
            ).all()
        )
        # Every unit's "used" is exactly what live holds and bookings took: nothing leaked.
        assert {k: u.used for k, u in units.items() if u.used} == taken
        appointments = session.scalar(select(func.count()).select_from(Appointment))
        assert appointments == outcomes.count("booked") <= 12
        labour = sum(u.used for u in units.values() if u.kind == "labour")
        assert labour <= 3 * 240
