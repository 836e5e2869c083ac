"""The outbox: enqueue, claim with re-checks, send outcomes, back-off, give-up, crash recovery."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.consent import opt_out
from outreach.gateway import GatewayError
from outreach.models import CallbackRequest, ContactAttempt, OutboxMessage
from outreach.outbox import claim_batch, enqueue, record, recover_stuck, send
from outreach.settings import Settings
from tests.factories import make_customer
from tests.outbox.conftest import HOOKS, OPEN_NOW, Clock, ambiguous


def queue(
    session: Session, settings: Settings, customer=None, key: str = "k1", **kw
) -> OutboxMessage:
    customer = customer or make_customer(session)
    kw.setdefault("now", OPEN_NOW)
    return enqueue(
        session,
        settings,
        customer=customer,
        channel=kw.pop("channel", "sms"),
        body=kw.pop("body", "您的车该保养了"),
        idempotency_key=key,
        holidays=(),
        **kw,
    )


def cycle(session, settings, gateway, now=OPEN_NOW, rng=None) -> list[str]:
    """Claim, send and record everything due at ``now``; the new statuses."""
    statuses = []
    for claim in claim_batch(session, settings, worker="w1", now=now, holidays=()):
        outcome = send(gateway, claim, settings)
        statuses.append(record(session, settings, claim, outcome, now=now, rng=rng, hooks=HOOKS))
    return statuses


class TestEnqueue:
    def test_same_key_returns_the_first_row(self, session: Session, settings: Settings) -> None:
        """Enqueueing twice with one idempotency key makes one row."""
        customer = make_customer(session)
        first = queue(session, settings, customer)
        second = queue(session, settings, customer, body="another")
        assert first.id == second.id
        assert session.scalar(select(OutboxMessage.body)) == "您的车该保养了"

    def test_outside_window_waits_for_opening(self, session: Session, settings: Settings) -> None:
        """A message queued at night in the customer's zone is not due before 09:00 local."""
        customer = make_customer(session, timezone="America/New_York")
        row = queue(session, settings, customer, now=OPEN_NOW)  # 22:00 in New York
        assert row.not_before == datetime(2025, 6, 4, 13, 0, tzinfo=UTC)
        assert claim_batch(session, settings, worker="w", now=OPEN_NOW, holidays=()) == []


class TestSend:
    def test_sent_records_sid_and_audit(self, session, settings, gateway) -> None:
        """A successful send stores the provider SID and writes an outbound ContactAttempt."""
        row = queue(session, settings)
        assert cycle(session, settings, gateway) == ["sent"]
        session.refresh(row)
        assert row.status == "sent" and row.provider_sid == gateway.sent[0]["sid"]
        attempt = session.scalars(select(ContactAttempt)).one()
        assert (attempt.direction, attempt.provider_sid) == ("out", row.provider_sid)

    def test_opt_out_racing_a_queued_message_cancels_it(self, session, settings, gateway) -> None:
        """A customer who opts out after a message was queued is never sent it."""
        customer = make_customer(session)
        row = queue(session, settings, customer)
        opt_out(session, customer, source="sms STOP", now=OPEN_NOW)
        assert cycle(session, settings, gateway) == []
        session.refresh(row)
        assert row.status == "cancelled" and gateway.sent == []

    def test_window_closed_at_claim_time_defers(self, session, settings, gateway) -> None:
        """A row that became due at night (e.g. after a back-off) waits for the window."""
        row = queue(session, settings)
        night = datetime(2025, 6, 4, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai
        assert cycle(session, settings, gateway, now=night) == []
        session.refresh(row)
        assert row.status == "queued"
        assert row.next_attempt_at == datetime(2025, 6, 5, 1, 0, tzinfo=UTC)
        assert gateway.sent == []

    def test_carrier_opt_out_opts_the_customer_out(self, session, settings, gateway) -> None:
        """An opted_out error from the provider records the customer's opt-out."""
        customer = make_customer(session)
        queue(session, settings, customer)
        gateway.fail.append(GatewayError("opted_out", "21610 unsubscribed", code=21610))
        assert cycle(session, settings, gateway) == ["cancelled"]
        session.refresh(customer)
        assert customer.opted_out_at is not None

    def test_bad_number_goes_to_the_callback_queue(self, session, settings, gateway) -> None:
        """A bad_number error fails the row and asks an advisor to call."""
        queue(session, settings)
        gateway.fail.append(GatewayError("bad_number", "21211 invalid To", code=21211))
        assert cycle(session, settings, gateway) == ["failed"]
        assert session.scalar(select(CallbackRequest.reason)) == "bad_number"


class TestBackoff:
    def test_retryable_is_requeued_with_growing_delay(self, session, settings, gateway) -> None:
        """Each 429 puts the row back with an exponential, jittered delay."""
        row = queue(session, settings)
        now = OPEN_NOW
        delays = []
        for _ in range(2):
            gateway.fail.append(GatewayError("retryable", "20429 too many", code=20429))
            assert cycle(session, settings, gateway, now=now, rng=random.Random(1)) == ["queued"]
            session.refresh(row)
            delays.append((row.next_attempt_at - now).total_seconds())
            now = row.next_attempt_at
        base = settings.sending.backoff_base_seconds
        assert base / 2 <= delays[0] <= base
        assert base <= delays[1] <= 2 * base

    def test_gives_up_after_max_attempts_with_reason(self, session, settings, gateway) -> None:
        """After max_attempts retryable failures the row fails, naming the attempts and cause."""
        row = queue(session, settings)
        now = OPEN_NOW
        for _ in range(settings.sending.max_attempts):
            gateway.fail.append(GatewayError("retryable", "20429 too many", code=20429))
            cycle(session, settings, gateway, now=now)
            session.refresh(row)
            now = max(now, row.next_attempt_at)
        assert row.status == "failed"
        assert row.last_error.startswith(f"gave up after {settings.sending.max_attempts} attempts")
        assert "20429" in row.last_error
        assert gateway.sent == []


class TestAmbiguous:
    def test_ambiguous_but_created_is_marked_sent(self, session, settings, gateway) -> None:
        """A 5xx after the provider created the message is found by look-up, not resent."""
        row = queue(session, settings)
        gateway.fail.append(ambiguous(created=True))
        assert cycle(session, settings, gateway) == ["sent"]
        session.refresh(row)
        assert row.provider_sid == "SMx" and len(gateway.sent) == 1

    def test_twice_ambiguous_and_missing_is_resent_once(self, session, settings, gateway) -> None:
        """5xx sends the provider has no record of are looked up, then resent: nobody is
        handed the row while the provider can say, and the message goes out once."""
        row = queue(session, settings)
        now = OPEN_NOW
        for _ in range(2):
            gateway.fail.append(ambiguous(created=False))
            cycle(session, settings, gateway, now=now)
            session.refresh(row)
            assert row.status == "queued" and row.lookup_since is not None
            now = max(now, row.next_attempt_at)
        assert cycle(session, settings, gateway, now=now) == ["sent"]
        assert len(gateway.sent) == 1
        assert session.scalar(select(CallbackRequest.reason)) is None

    def test_ambiguous_call_goes_to_a_person(self, session, settings, gateway) -> None:
        """A call cannot be looked up: its unknown outcome is handed to an advisor."""
        row = queue(session, settings, channel="voice")
        gateway.fail.append(ambiguous(created=False))
        assert cycle(session, settings, gateway) == ["handed_off"]
        session.refresh(row)
        assert session.scalar(select(CallbackRequest.reason)) == "send_unknown"


class TestRecovery:
    """The crash rule: a row stuck in "sending" is looked up before anything is resent."""

    def stuck(self, session, settings) -> tuple[OutboxMessage, object]:
        row = queue(session, settings)
        [claim] = claim_batch(session, settings, worker="dead", now=OPEN_NOW, holidays=())
        return row, claim

    def test_not_stuck_within_lease(self, session, settings, gateway) -> None:
        """A row claimed less than a lease ago is left alone."""
        _row, _ = self.stuck(session, settings)
        assert recover_stuck(
            session, gateway, settings, OPEN_NOW + timedelta(seconds=30), hooks=HOOKS
        ) == {
            "sent": 0,
            "requeued": 0,
            "handed_off": 0,
            "waiting": 0,
        }

    def test_found_at_provider_is_marked_sent(self, session, settings, gateway) -> None:
        """Sent before the crash: recovery records the provider's SID and sends nothing."""
        row, claim = self.stuck(session, settings)
        gateway.send_sms(claim.to, claim.body, status_callback=None, validity_seconds=None)
        later = OPEN_NOW + timedelta(minutes=5)
        assert recover_stuck(session, gateway, settings, later, hooks=HOOKS)["sent"] == 1
        session.refresh(row)
        assert row.status == "sent" and row.provider_sid == gateway.sent[0]["sid"]
        assert cycle(session, settings, gateway, now=later) == []
        assert len(gateway.sent) == 1

    def test_missing_at_provider_is_requeued_once(self, session, settings, gateway) -> None:
        """Never created: the row is requeued and sent on the next drain."""
        _row, _ = self.stuck(session, settings)
        later = OPEN_NOW + timedelta(minutes=5)
        assert recover_stuck(session, gateway, settings, later, hooks=HOOKS)["requeued"] == 1
        assert cycle(session, settings, gateway, now=later) == ["sent"]
        assert len(gateway.sent) == 1

    def test_stuck_again_after_requeue_is_handed_off(self, session, settings, gateway) -> None:
        """A row stuck a second time goes to a person instead of a second requeue."""
        row, _ = self.stuck(session, settings)
        later = OPEN_NOW + timedelta(minutes=5)
        recover_stuck(session, gateway, settings, later, hooks=HOOKS)
        claim_batch(session, settings, worker="dead", now=later, holidays=())
        counts = recover_stuck(
            session, gateway, settings, later + timedelta(minutes=5), hooks=HOOKS
        )
        assert counts["handed_off"] == 1
        session.refresh(row)
        assert row.status == "handed_off" and gateway.sent == []

    def test_provider_unreachable_waits(self, session, settings, gateway) -> None:
        """When the provider cannot be asked, nothing is resent and nobody is handed the row:
        it stays for a later recovery, and the breaker counts the failure."""
        row, _ = self.stuck(session, settings)
        gateway.lookup_error = GatewayError("ambiguous", "503 look-up")
        later = OPEN_NOW + timedelta(minutes=5)
        assert recover_stuck(session, gateway, settings, later, hooks=HOOKS)["waiting"] == 1
        session.refresh(row)
        assert row.status == "sending"
        assert session.scalar(select(CallbackRequest.reason)) is None
        gateway.lookup_error = None
        assert recover_stuck(session, gateway, settings, later, hooks=HOOKS)["requeued"] == 1

    def test_late_outcome_after_recovery_is_ignored(self, session, settings, gateway) -> None:
        """A slow sender's result arriving after recovery settled the row changes nothing."""
        _row, claim = self.stuck(session, settings)
        recover_stuck(session, gateway, settings, OPEN_NOW + timedelta(minutes=5), hooks=HOOKS)
        outcome = send(gateway, claim, settings)
        assert record(session, settings, claim, outcome, now=OPEN_NOW, hooks=HOOKS) == "queued"


class TestDispatchLoop:
    def test_drains_at_the_configured_rate(self, committing_engine, settings, gateway) -> None:
        """Five messages at 2/s are sent half a second apart on the controlled clock."""
        from outreach.db import make_sessionmaker, transaction
        from outreach.outbox import dispatch

        sessions = make_sessionmaker(committing_engine)
        with transaction(sessions) as s:
            customer = make_customer(s)
            for n in range(5):
                queue(s, settings, customer, key=f"k{n}")
        clock = Clock(OPEN_NOW)
        gateway.now = clock
        stats = dispatch(
            sessions, gateway, settings, worker="w", clock=clock, sleep=clock.sleep, hooks=HOOKS
        )
        assert stats.outcomes == {"sent": 5}
        times = [m["at"] for m in gateway.sent]
        assert [(b - a).total_seconds() for a, b in itertools.pairwise(times)] == [0.5] * 4
