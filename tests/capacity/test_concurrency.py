"""Many confirmations at once for the last places: exactly the capacity is booked, never more.

Runs on SQLite (a temp file) and PostgreSQL, with threads sharing an engine and with processes
(``spawn``) each making their own engine from the URL.
"""

from __future__ import annotations

import multiprocessing
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from outreach.models import Appointment, CapacityUnit
from tests.capacity.conftest import NOW, capacity_settings, customer_with_vehicle, local
from tests.capacity.contention import confirm, process_main

MONDAY_9 = local("2026-06-01", "09:00")
CAPACITY = 4  # 240 bookable minutes of one-hour jobs on Monday
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _tasks(engine, n):
    """n customers, each confirming a one-hour job on Monday; pairs share an interval."""
    with sessionmaker(engine)() as session, session.begin():
        people = [customer_with_vehicle(session) for _ in range(n)]
    return [
        (c, v, MONDAY_9 + timedelta(minutes=15 * (i // 2)), NOW, ["small"])
        for i, (c, v) in enumerate(people)
    ]


def _assert_never_overbooked(engine, outcomes, n):
    assert sorted(set(outcomes)) <= ["booked", "taken"], outcomes
    assert outcomes.count("booked") == CAPACITY
    assert outcomes.count("taken") == n - CAPACITY
    with sessionmaker(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == CAPACITY
        assert session.get(CapacityUnit, "labour:2026-06-01").used == CAPACITY * 60
        over = session.scalar(
            select(func.count())
            .select_from(CapacityUnit)
            .where(CapacityUnit.used > CapacityUnit.capacity)
        )
        assert over == 0


@pytest.mark.parametrize("committing_engine", BACKENDS, indirect=True)
def test_threads_book_exactly_the_capacity(committing_engine, settings):
    """Sixteen threads confirming at once for four places: four bookings, twelve SlotTaken."""
    cap = capacity_settings(settings)
    tasks = _tasks(committing_engine, 16)
    barrier = threading.Barrier(len(tasks))
    outcomes: list[str] = []

    def run(task):
        barrier.wait()
        try:
            outcomes.append(confirm(committing_engine, cap, *task))
        except Exception as exc:  # recorded, so the test fails with the reason
            outcomes.append(f"error: {exc!r}")

    threads = [threading.Thread(target=run, args=(t,)) for t in tasks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _assert_never_overbooked(committing_engine, outcomes, len(tasks))


@pytest.mark.slow
@pytest.mark.parametrize("committing_engine", BACKENDS, indirect=True)
def test_processes_book_exactly_the_capacity(committing_engine, settings):
    """Four processes with their own engines, three confirmations each, for four places."""
    cap = capacity_settings(settings)
    tasks = _tasks(committing_engine, 12)
    url = committing_engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    go, results = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=process_main, args=(url, cap, go, results, tasks[i::4]))
        for i in range(4)
    ]
    for p in procs:
        p.start()
    go.set()
    outcomes = [results.get(timeout=120) for _ in tasks]
    for p in procs:
        p.join(60)
    _assert_never_overbooked(committing_engine, outcomes, len(tasks))
