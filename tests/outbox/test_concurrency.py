"""Two senders and two schedulers against one database: nothing is sent or run twice."""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from outreach.db import make_sessionmaker, transaction
from outreach.models import JobRun, OutboxMessage, SendPacing
from outreach.outbox import dispatch, enqueue
from outreach.pacing import reserve_slots
from outreach.scheduler import REGISTRY, JobContext, JobSpec, run_job
from tests.factories import make_customer
from tests.outbox.conftest import HOOKS, OPEN_NOW, FakeGateway

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("committing_engine", BACKENDS, indirect=True)
def test_two_senders_send_each_message_once(committing_engine, settings) -> None:
    """Two sender threads draining one outbox send every message exactly once."""
    sessions = make_sessionmaker(committing_engine)
    fast = replace(settings, sending=replace(settings.sending, rate_per_second=1e6, batch_size=5))
    with transaction(sessions) as s:
        for n in range(60):
            enqueue(
                s,
                fast,
                customer=make_customer(s),
                channel="sms",
                body=f"m{n}",
                idempotency_key=f"c:{n}",
                now=OPEN_NOW,
                holidays=(),
            )
    gateway = FakeGateway()
    gateway.now = lambda: OPEN_NOW  # type: ignore[method-assign]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def sender(name: str) -> None:
        try:
            barrier.wait()
            dispatch(
                sessions,
                gateway,
                fast,
                worker=name,
                clock=lambda: OPEN_NOW,
                sleep=lambda s: None,
                hooks=HOOKS,
            )
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(f"s{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    bodies = [m["body"] for m in gateway.sent]
    assert sorted(bodies) == sorted(f"m{n}" for n in range(60))
    with sessions() as s:
        assert s.scalar(select(func.count()).where(OutboxMessage.status == "sent")) == 60


@pytest.mark.parametrize("committing_engine", BACKENDS, indirect=True)
def test_pacing_is_global_across_senders(committing_engine) -> None:
    """Slots reserved by different senders never overlap: together they keep to the rate."""
    sessions = make_sessionmaker(committing_engine)
    slots = []
    for _ in range(3):  # three senders, one after another, at the same instant
        with transaction(sessions) as s:
            slots += reserve_slots(s, 4, 2.0, OPEN_NOW)
    gaps = {(b - a).total_seconds() for a, b in itertools.pairwise(slots)}
    assert gaps == {0.5}
    with sessions() as s:
        assert s.scalar(select(SendPacing.next_slot_at)) == OPEN_NOW + timedelta(seconds=6)


def test_idle_time_earns_no_burst(session) -> None:
    """After an idle minute the next reservation starts now, not in the past."""
    reserve_slots(session, 2, 1.0, OPEN_NOW)
    later = OPEN_NOW + timedelta(minutes=1)
    assert reserve_slots(session, 2, 1.0, later) == [later, later + timedelta(seconds=1)]


@pytest.mark.parametrize("committing_engine", BACKENDS, indirect=True)
def test_two_schedulers_run_a_job_once(committing_engine, settings, monkeypatch) -> None:
    """Two schedulers firing the same run of a job run its body once; the next run runs."""
    calls: list[datetime] = []
    monkeypatch.setitem(
        REGISTRY,
        "probe",
        JobSpec(
            "probe",
            lambda ctx, now: calls.append(now),
            lambda s: {"minute": "*"},
            lambda s: 60,
        ),
    )
    sessions = make_sessionmaker(committing_engine)
    contexts = [
        JobContext(settings, sessions, FakeGateway, owner=f"sched{i}", clock=lambda: OPEN_NOW)
        for i in range(2)
    ]
    fire = datetime(2025, 6, 4, 2, 15, tzinfo=UTC)
    results = []
    barrier = threading.Barrier(2)

    def fire_job(ctx: JobContext, skew: float) -> None:
        barrier.wait()
        results.append(run_job("probe", ctx, fire + timedelta(seconds=skew)))

    threads = [
        threading.Thread(target=fire_job, args=(c, k))
        for c, k in zip(contexts, (0.2, 1.5), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and results.count("skipped") == 1
    run_job("probe", contexts[0], fire + timedelta(minutes=1))
    assert len(calls) == 2
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(JobRun)) == 2
