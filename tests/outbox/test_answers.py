"""Answers to a customer who just wrote or called go at once; everything proactive waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from outreach.consent import opt_out
from outreach.models import ContactAttempt, OutboxMessage
from outreach.outbox import claim_batch, enqueue
from tests.factories import make_customer

# 21:00 on a Wednesday in Shanghai: the default window (09:00-20:00) is closed.
EVENING = datetime(2025, 6, 4, 13, 0, tzinfo=UTC)
MORNING = datetime(2025, 6, 5, 1, 0, tzinfo=UTC)  # 09:00 the next day


def heard(session, customer, at: datetime) -> None:  # type: ignore[no-untyped-def]
    """The customer said something to us at ``at`` (an SMS or a keypad answer)."""
    session.add(
        ContactAttempt(
            customer_id=customer.id, at=at, channel="voice", direction="in", kind="voice:choose"
        )
    )
    session.flush()


def queue(session, settings, customer, template: str, **kw) -> OutboxMessage:  # type: ignore[no-untyped-def]
    return enqueue(
        session, settings, customer=customer, channel="sms", body="已为您预约",
        idempotency_key=f"{template}:{customer.id}", now=EVENING, template=template,
        holidays=(), **kw,
    )  # fmt: skip


def claimed(session, settings, now: datetime) -> list[int]:  # type: ignore[no-untyped-def]
    return [c.id for c in claim_batch(session, settings, worker="w", now=now, holidays=())]


class TestAnswers:
    def test_conversation_answer_goes_at_once_after_hours(self, session, settings):
        """A confirmation queued while the customer is on the line at 21:00 is sent now."""
        customer = make_customer(session, timezone="Asia/Shanghai")
        heard(session, customer, EVENING - timedelta(minutes=1))
        row = queue(session, settings, customer, "conversation:confirmation")
        assert row.not_before == EVENING
        assert claimed(session, settings, EVENING) == [row.id]

    def test_explicit_answer_time_is_honoured(self, session, settings):
        """A caller naming when the customer's message arrived gets the same treatment."""
        customer = make_customer(session, timezone="Asia/Shanghai")
        row = queue(session, settings, customer, "reply", answers=EVENING - timedelta(minutes=5))
        assert row.not_before == EVENING

    def test_conversation_text_without_a_recent_customer_message_waits(self, session, settings):
        """The SMS replacing an unanswered call (no word from the customer) waits for 09:00."""
        customer = make_customer(session, timezone="Asia/Shanghai")
        heard(session, customer, EVENING - timedelta(hours=3))
        row = queue(session, settings, customer, "conversation:offer")
        assert row.not_before == MORNING
        assert claimed(session, settings, EVENING) == []

    def test_proactive_messages_wait_even_right_after_a_reply(self, session, settings):
        """A campaign or reminder queued a minute after the customer wrote still waits."""
        customer = make_customer(session, timezone="Asia/Shanghai")
        heard(session, customer, EVENING - timedelta(minutes=1))
        for template in ("reminder", "offer", "escalation:2"):
            assert queue(session, settings, customer, template).not_before == MORNING

    def test_an_answer_left_queued_past_the_grace_waits_for_the_window(self, session, settings):
        """If the senders were down, a stale answer does not go out at night."""
        customer = make_customer(session, timezone="Asia/Shanghai")
        heard(session, customer, EVENING)
        row = queue(session, settings, customer, "conversation:confirmation")
        late = EVENING + timedelta(minutes=settings.contact_window.reply_minutes + 1)
        assert claimed(session, settings, late) == []
        session.refresh(row)
        assert row.next_attempt_at == MORNING

    def test_opted_out_customer_gets_no_answer_either(self, session, settings):
        """The window exception never overrides an opt-out."""
        customer = make_customer(session, timezone="Asia/Shanghai")
        heard(session, customer, EVENING)
        row = queue(session, settings, customer, "conversation:confirmation")
        opt_out(session, customer, source="sms STOP", now=EVENING)
        assert claimed(session, settings, EVENING) == []
        assert session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == row.id)) == (
            "cancelled"
        )
