"""The day load stays equal to a recount from the unit rows, whatever happens to the ledger."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from outreach.capacity import (
    SlotTaken,
    SlotUnavailable,
    book,
    cancel,
    ledger,
    load,
    offer_slots,
    release_customer_holds,
    release_expired_holds,
    reschedule,
)
from outreach.models import Appointment, SlotHold
from outreach.preferences import SlotPreference
from outreach.settings import Settings
from tests.capacity.conftest import NOW, capacity_settings, customer_with_vehicle, local

DAYS = ("2026-06-01", "2026-06-02", "2026-06-03")
TIMES = ("09:00", "09:15", "10:00", "10:15", "14:30", "16:45")
JOB_SETS = (("small",), ("big",), ("align",), ("quick",), ("small", "align"))

# One step: what, which customer (of four), which day and time, which jobs, a flag.
STEP = st.tuples(
    st.sampled_from(
        ("offer", "book_hold", "book", "desk_book", "cancel", "reschedule", "release", "expire")
    ),
    st.integers(0, 3),
    st.integers(0, len(DAYS) - 1),
    st.integers(0, len(TIMES) - 1),
    st.integers(0, len(JOB_SETS) - 1),
    st.booleans(),
)


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Session]:
    """A session whose work is all rolled back at the end (one per generated example)."""
    with engine.connect() as connection:
        outer = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as s:
            yield s
        outer.rollback()


def assert_in_step(session: Session) -> None:
    session.flush()
    assert load.stored(session) == load.recount(session)


def run_step(session: Session, cap: Settings, people: list[tuple[int, int]], step: tuple) -> None:
    what, who, day, at, jobs, flag = step
    customer, vehicle = people[who]
    starts_at = local(DAYS[day], TIMES[at])
    now = NOW + timedelta(minutes=45) if what == "expire" else NOW
    booked = session.scalars(
        select(Appointment).where(
            Appointment.customer_id == customer, Appointment.status == "booked"
        )
    ).first()
    try:
        if what == "offer":
            preference = SlotPreference(on=date.fromisoformat(DAYS[day])) if flag else None
            offer_slots(
                session, cap, jobs=list(JOB_SETS[jobs]), preference=preference, now=now,
                customer_id=customer, hold_for="sms" if flag else "voice",
            )  # fmt: skip
        elif what == "book_hold":
            hold = session.scalars(
                select(SlotHold).where(SlotHold.customer_id == customer, SlotHold.status == "held")
            ).first()
            if hold is not None:
                book(
                    session, cap, customer_id=customer, vehicle_id=vehicle,
                    jobs=hold.jobs.split(","), starts_at=hold.starts_at, now=now, hold_id=hold.id,
                )  # fmt: skip
        elif what in ("book", "desk_book"):
            book(
                session, cap, customer_id=customer, vehicle_id=vehicle,
                jobs=list(JOB_SETS[jobs]), starts_at=starts_at, now=now,
                source="advisor" if what == "desk_book" else "bot",
            )  # fmt: skip
        elif what == "cancel" and booked is not None:
            cancel(session, cap, booked, now)
        elif what == "reschedule" and booked is not None:
            reschedule(session, cap, booked, starts_at=starts_at, now=now, release_holds=flag)
        elif what == "release":
            release_customer_holds(session, customer)
        elif what == "expire":
            release_expired_holds(session, now)
    except (SlotTaken, SlotUnavailable):
        pass  # refused: nothing changed, and the load must say so too


@pytest.mark.parametrize("size", ["small", "busy"])
@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=14))
def test_load_equals_a_recount_after_any_sequence(
    engine: Engine, settings: Settings, size: str, steps: list[tuple]
) -> None:
    """Holds, releases, expiries, bookings (from a hold, by the bot, at the desk),
    cancellations and reschedules, in any order, refused or not: after each, the day load
    equals the units recounted."""
    # "busy": one labour hour a day, so most steps are refused at a limit.
    cap = capacity_settings(settings, hours_per_technician=1.25 if size == "busy" else 5.0)
    with rolled_back(engine) as session:
        people = [customer_with_vehicle(session) for _ in range(4)]
        for step in steps:
            run_step(session, cap, people, step)
            assert_in_step(session)


def test_offers_read_the_day_load_not_the_units(session: Session, cap: Settings) -> None:
    """usage() answers from the day load: a unit changed outside the ledger is not seen until
    the load is rebuilt, and after the rebuild the figures agree again."""
    c, v = customer_with_vehicle(session)
    book(
        session, cap, customer_id=c, vehicle_id=v, jobs=["small"],
        starts_at=local("2026-06-01", "10:00"), now=NOW,
    )  # fmt: skip
    day = date(2026, 6, 1)
    used = ledger.usage(session, day, day)
    assert used["labour:2026-06-01"] == 60
    assert used["arr:2026-06-01T02:00Z"] == 1
    session.execute(
        ledger.UNITS.update().where(ledger.UNITS.c.key == "labour:2026-06-01").values(used=120)
    )
    assert ledger.usage(session, day, day)["labour:2026-06-01"] == 60
    assert load.stored(session) != load.recount(session)
    load.rebuild(session)
    assert ledger.usage(session, day, day)["labour:2026-06-01"] == 120
    assert load.stored(session) == load.recount(session)


def test_a_give_back_never_taken_is_refused(session: Session, cap: Settings) -> None:
    """The load cannot go below zero: a give-back of more than was taken fails loudly."""
    c, v = customer_with_vehicle(session)
    book(
        session, cap, customer_id=c, vehicle_id=v, jobs=["small"],
        starts_at=local("2026-06-01", "10:00"), now=NOW,
    )  # fmt: skip
    session.flush()
    with pytest.raises(Exception, match="capacity_day_load_used"), session.begin_nested():
        load.apply(session, [("labour:2026-06-01", "labour", date(2026, 6, 1), -61)])


def test_the_load_is_a_few_rows_per_day(session: Session, cap: Settings) -> None:
    """However many units a day has, its load is one row per kind in use."""
    for n in range(6):
        c, v = customer_with_vehicle(session)
        book(
            session, cap, customer_id=c, vehicle_id=v, jobs=["quick"],
            starts_at=local("2026-06-01", "09:00") + timedelta(minutes=15 * n), now=NOW,
        )  # fmt: skip
    stored = load.stored(session)
    assert sorted(stored) == [
        (date(2026, 6, 1), "arrivals"),
        (date(2026, 6, 1), "labour"),
        (date(2026, 6, 1), "reception"),
    ]
    assert len(stored[(date(2026, 6, 1), "reception")]) == 6


def test_a_cancelled_visit_leaves_nothing_in_the_day_object(
    session: Session, cap: Settings
) -> None:
    """Units given back to zero are removed from the stored object, not kept as zeros."""
    c, v = customer_with_vehicle(session)
    appointment = book(
        session, cap, customer_id=c, vehicle_id=v, jobs=["align"],
        starts_at=local("2026-06-01", "10:00"), now=NOW,
    )  # fmt: skip
    cancel(session, cap, appointment, NOW)
    session.flush()
    rows = session.execute(select(load.LOAD.c.kind, load.LOAD.c.used, load.LOAD.c.detail)).all()
    assert sorted(kind for kind, _, _ in rows) == ["arrivals", "labour", "reception", "resource"]
    assert all(used == 0 and detail == {} for _, used, detail in rows)
