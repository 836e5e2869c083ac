"""Exactly-once under many senders and slow pacing, the window at the moment of sending, and
the provider's breaker: a row waiting for its slot is never recoverable by another sender."""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from outreach.db import Base, make_engine, make_sessionmaker, transaction
from outreach.gateway import GatewayError
from outreach.models import CallbackRequest, OutboxMessage
from outreach.outbox import dispatch, enqueue, recover_stuck, send_by, take_batch
from outreach.settings import ContactWindow, Sending, Settings
from outreach.twilio_gateway import TwilioGateway
from tests.factories import make_customer
from tests.fakes.sender import sender_settings
from tests.fakes.twilio_standin import fail_5xx_for, start_standin, stop_standin
from tests.outbox.conftest import HOOKS, OPEN_NOW, Clock, FakeGateway

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def fill(sessions, settings: Settings, count: int, now: datetime, **customer) -> None:
    with transaction(sessions) as s:
        for n in range(count):
            enqueue(
                s,
                settings,
                customer=make_customer(s, **customer),
                channel="sms",
                body=f"message {n}",
                idempotency_key=f"rel:{n}",
                now=now,
                holidays=(),
            )


def statuses(sessions) -> dict[str, int]:
    with sessions() as s:
        rows = s.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
        return {status: count for status, count in rows}


@given(
    rate=st.sampled_from([0.5, 1.0, 2.0, 20.0, 200.0]),
    batch=st.integers(1, 50),
    lease=st.integers(4, 600),
    senders=st.integers(1, 9),
)
@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_claimed_row_is_sent_before_anyone_may_recover_it(rate, batch, lease, senders) -> None:
    """The invariant, for any pacing and number of senders: every claimed row's slot comes
    before its claimer's send deadline, which comes before recovery may touch it."""
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    sessions = make_sessionmaker(engine)
    always = ContactWindow(start=time_of_day(0), end=time_of_day(23, 59, 59), holidays=True)
    settings = replace(
        Settings(),
        sending=Sending(rate_per_second=rate, batch_size=batch, lease_seconds=lease),
        contact_window=always,
    )
    fill(sessions, settings, batch * senders + 5, OPEN_NOW)
    for n in range(senders):  # every sender claims at once: the worst case for slots ahead
        with transaction(sessions) as s:
            claims = take_batch(s, settings, worker=f"s{n}", now=OPEN_NOW).claims
            for claim in claims:
                assert claim.send_at <= send_by(claim, settings.sending)
                assert send_by(claim, settings.sending) < claim.claimed_at + timedelta(
                    seconds=lease
                )
            # Until the deadline, recovery finds none of them stuck.
            deadline = max((send_by(c, settings.sending) for c in claims), default=OPEN_NOW)
            gateway = FakeGateway()
            assert recover_stuck(s, gateway, settings, deadline, hooks=HOOKS)["requeued"] == 0
    engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("committing_engine", BACKENDS, indirect=True)
def test_many_senders_at_a_slow_rate_send_each_message_once(committing_engine) -> None:
    """Four senders, each also running recovery, at a rate where whole batches would
    outlive the lease: every message is created once at the provider, nobody handed off."""
    server, standin, base = start_standin()
    try:
        settings = sender_settings(20, 20, base)
        settings = replace(settings, sending=replace(settings.sending, lease_seconds=3))
        settings = replace(settings, twilio=replace(settings.twilio, http_timeout_seconds=1.0))
        sessions = make_sessionmaker(committing_engine)
        fill(sessions, settings, 80, datetime.now(UTC))
        errors: list[BaseException] = []

        def sender(name: str) -> None:
            gateway = TwilioGateway(settings)
            clock = lambda: datetime.now(UTC)  # noqa: E731
            try:
                for _ in range(400):
                    with transaction(sessions) as s:
                        recover_stuck(s, gateway, settings, clock(), hooks=HOOKS)
                    dispatch(
                        sessions, gateway, settings, worker=name, clock=clock,
                        sleep=time.sleep, hooks=HOOKS,
                    )  # fmt: skip
                    left = statuses(sessions)
                    if not left.get("queued") and not left.get("sending"):
                        return
                    time.sleep(0.05)
            except BaseException as exc:  # re-raised in the test thread
                errors.append(exc)

        threads = [threading.Thread(target=sender, args=(f"s{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        per_body = collections.Counter(c.body for c in standin.created)
        assert len(per_body) == 80
        assert max(per_body.values()) == 1
        assert statuses(sessions) == {"sent": 80}
    finally:
        stop_standin(server)


class OverSleeping(Clock):
    """A sender that wakes late: every sleep lasts three seconds longer than asked."""

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds + 3)


def test_window_closing_mid_batch_sends_nothing_after_its_end(committing_engine) -> None:
    """40 due, the window closing in 20 s, 1 message/s, a sender that wakes late: nothing
    goes out after the end; the rest waits for the next opening."""
    always_open_settings = sender_settings(1, 20, "http://unused")
    window = ContactWindow(start=time_of_day(9), end=time_of_day(20), holidays=True)
    settings = replace(always_open_settings, contact_window=window, twilio=None)
    end = datetime(2025, 6, 4, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
    clock = OverSleeping(end - timedelta(seconds=20))
    sessions = make_sessionmaker(committing_engine)
    fill(sessions, settings, 40, clock.now)
    gateway = FakeGateway()
    gateway.now = clock  # type: ignore[method-assign]
    dispatch(sessions, gateway, settings, worker="w", clock=clock, sleep=clock.sleep, hooks=HOOKS)
    assert gateway.sent, "some went out before the end"
    assert all(m["at"] < end for m in gateway.sent)
    with sessions() as s:
        waiting = s.scalars(select(OutboxMessage).where(OutboxMessage.status == "queued")).all()
    assert len(waiting) == 40 - len(gateway.sent)
    opening = datetime(2025, 6, 5, 1, 0, tzinfo=UTC)  # 09:00 the next day in Shanghai
    assert {row.next_attempt_at for row in waiting} == {opening}
    assert all(row.attempts == 0 for row in waiting)


class Provider(FakeGateway):
    """A provider that can be down: sends fail with a 5xx (every other one after creating
    the message) and look-ups fail, until it is up again."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.failed = 0

    def _create(self, kind, to, body, at):
        if self.down:
            self.failed += 1
            if self.failed % 2 == 0:
                self.sent.append({"kind": kind, "to": to, "body": body, "at": at, "sid": "SMx"})
            raise GatewayError("ambiguous", "500 20500: Internal Server Error", code=20500)
        return super()._create(kind, to, body, at)

    def find_sent(self, to, body, since):
        if self.down:
            raise GatewayError("ambiguous", "look-up: 500 20500")
        return super().find_sent(to, body, since)


@pytest.mark.parametrize("committing_engine", BACKENDS, indirect=True)
def test_an_outage_pauses_every_sender_and_hands_off_nothing(committing_engine, caplog) -> None:
    """The provider down: the breaker opens after three failures, every sender sees it, no row
    goes to a person; back up: ambiguous rows are looked up, the rest sent, each once."""
    settings = replace(sender_settings(10, 10, "http://unused"), twilio=None)
    sessions = make_sessionmaker(committing_engine)
    clock = Clock(OPEN_NOW)
    fill(sessions, settings, 30, clock.now)
    provider = Provider()
    provider.now = clock  # type: ignore[method-assign]
    provider.down = True
    caplog.set_level(logging.WARNING, logger="outreach.outbox")
    stats = dispatch(
        sessions, provider, settings, worker="a", clock=clock, sleep=clock.sleep, hooks=HOOKS
    )
    assert stats.paused_until is not None and provider.failed == 3
    with transaction(sessions) as s:  # another sender sees the breaker open
        assert take_batch(s, settings, worker="b", now=clock.now).claims == []
    clock.sleep(120)  # the outage goes on: a probe fails and the pause doubles
    dispatch(sessions, provider, settings, worker="b", clock=clock, sleep=clock.sleep, hooks=HOOKS)
    assert provider.failed == 4
    provider.down = False
    for _ in range(20):
        clock.sleep(120)
        dispatch(
            sessions, provider, settings, worker="a", clock=clock, sleep=clock.sleep, hooks=HOOKS
        )
        if statuses(sessions) == {"sent": 30}:
            break
    assert statuses(sessions) == {"sent": 30}
    per_body = collections.Counter(m["body"] for m in provider.sent)
    assert len(per_body) == 30 and max(per_body.values()) == 1
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(CallbackRequest)) == 0
    lines = [r.getMessage() for r in caplog.records if "breaker" in r.getMessage()]
    assert [line.split(":")[0] for line in lines] == [
        "provider breaker open",
        "provider breaker closed",
    ]


@pytest.mark.slow
def test_a_5xx_burst_at_the_standin_is_ridden_out(tmp_path: Path) -> None:
    """Through the real SDK: two seconds of 500s, then every message delivered once."""
    server, standin, base = start_standin()
    try:
        settings = sender_settings(50, 10, base)
        engine = make_engine(f"sqlite:///{tmp_path / 'burst.db'}")
        Base.metadata.create_all(engine)
        sessions = make_sessionmaker(engine)
        fill(sessions, settings, 60, datetime.now(UTC))
        fail_5xx_for(standin, 2.0)
        gateway = TwilioGateway(settings)
        give_up = time.monotonic() + 60
        while statuses(sessions) != {"sent": 60} and time.monotonic() < give_up:
            stats = dispatch(
                sessions, gateway, settings, worker="w", clock=lambda: datetime.now(UTC),
                sleep=time.sleep, hooks=HOOKS,
            )  # fmt: skip
            time.sleep(0.2 if stats.paused_until else 0.05)
        assert statuses(sessions) == {"sent": 60}
        per_body = collections.Counter(c.body for c in standin.created)
        assert len(per_body) == 60 and max(per_body.values()) == 1
        assert standin.failed_sends >= 3
    finally:
        stop_standin(server)
