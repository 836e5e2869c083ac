"""Open conversations nobody came back to are closed after [conversation] stale_after_hours."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.conversation import records
from outreach.conversation.stale import close_stale
from outreach.models import Customer, Outreach, SlotHold
from outreach.outbox import enqueue
from outreach.settings import ConfigError, Settings, parse_config
from tests.conversation.conftest import NOW, Phone


def _held(session: Session, customer: Customer) -> int:
    return session.scalar(
        select(func.count())
        .select_from(SlotHold)
        .where(SlotHold.customer_id == customer.id, SlotHold.status == "held")
    )


class TestCloseStale:
    def test_unanswered_inbound_conversation_closes_after_72_hours(
        self, session: Session, conv_settings: Settings
    ) -> None:
        """A passive booking left at "what do you need?" is closed once 72 h pass without a word."""
        phone = Phone(session, conv_settings, "+8613800001111")
        customer_id = phone.text("预约").customer_id
        outreach = records.open_outreach(session, customer_id)  # type: ignore[arg-type]
        assert outreach is not None
        assert close_stale(session, conv_settings, phone.now + timedelta(hours=71)) == []
        assert close_stale(session, conv_settings, phone.now + timedelta(hours=73)) == [outreach.id]
        assert (outreach.status, outreach.state) == ("closed", "closed")
        assert records.open_outreach(session, customer_id) is None  # campaigns may reach them

    def test_closing_releases_the_held_slots(
        self, session: Session, conv_settings: Settings, offered: Outreach, customer: Customer
    ) -> None:
        """The slots held for an unanswered offer are given back."""
        assert _held(session, customer) > 0
        close_stale(session, conv_settings, NOW + timedelta(hours=73))
        assert _held(session, customer) == 0

    def test_a_reply_counts_as_activity(
        self, session: Session, conv_settings: Settings, offered: Outreach, phone: Phone
    ) -> None:
        """A reply 10 h in keeps the conversation open until 72 h after that reply."""
        phone.now = NOW + timedelta(hours=10)
        phone.text("周六有空吗")
        assert close_stale(session, conv_settings, NOW + timedelta(hours=73)) == []
        assert close_stale(session, conv_settings, NOW + timedelta(hours=83)) == [offered.id]

    def test_a_queued_message_keeps_it_open(
        self, session: Session, conv_settings: Settings, offered: Outreach, customer: Customer
    ) -> None:
        """A message still waiting in the outbox (escalation's next step) is not cut short."""
        enqueue(
            session, conv_settings, customer=customer, channel="sms", body="…",
            idempotency_key="stale-test", now=NOW, outreach_id=offered.id, template="escalation",
        )  # fmt: skip
        assert close_stale(session, conv_settings, NOW + timedelta(hours=100)) == []

    def test_the_time_is_configurable(
        self, session: Session, conv_settings: Settings, offered: Outreach
    ) -> None:
        """stale_after_hours = 24 closes a day-old conversation."""
        settings = replace(
            conv_settings, conversation=replace(conv_settings.conversation, stale_after_hours=24)
        )
        assert close_stale(session, settings, NOW + timedelta(hours=25)) == [offered.id]


class TestConfig:
    def test_default_is_72_hours(self) -> None:
        """Without a [conversation] section, conversations close after 72 h."""
        assert parse_config({}).conversation.stale_after_hours == 72

    def test_reads_the_key(self) -> None:
        """[conversation] stale_after_hours sets the time."""
        raw = {"conversation": {"stale_after_hours": 24}}
        assert parse_config(raw).conversation.stale_after_hours == 24

    def test_bad_value_names_the_key(self) -> None:
        """Zero hours is refused with the key named."""
        with pytest.raises(ConfigError, match=r"conversation\.stale_after_hours"):
            parse_config({"conversation": {"stale_after_hours": 0}})
