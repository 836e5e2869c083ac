"""A customer with a planned maintenance outreach, and a helper that texts the bot as them.

"Now" is Tuesday 2026-06-02 10:00 in Shanghai (a working day, not a public holiday).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from outreach.conversation import Reply, handle_sms, start_offer
from outreach.models import Customer, Outreach, OutreachReason
from outreach.settings import Settings
from tests.factories import make_customer, make_vehicle

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 2, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)
_sids = itertools.count(1)


@pytest.fixture
def conv_settings(settings: Settings) -> Settings:
    """The example dealership, with a fixed special-services list for the confirmation."""
    dealership = replace(
        settings.dealership,
        special_services={"zh-CN": ["免费洗车"], "en": ["free car wash"]},
    )
    return replace(settings, dealership=dealership)


def plan_outreach(
    session: Session, customer: Customer, campaign: str = "maintenance_interval"
) -> Outreach:
    vehicle = make_vehicle(session, customer)
    outreach = Outreach(
        customer_id=customer.id,
        vehicle_id=vehicle.id,
        status="planned",
        channel="sms",
        campaign=campaign,
        planned_on=date(2026, 6, 2),
        context={},
        created_at=NOW,
    )
    outreach.reasons = [
        OutreachReason(
            customer_id=customer.id,
            vehicle_id=vehicle.id,
            campaign=campaign,
            subject_key=f"{campaign}:vehicle:{vehicle.id}",
            due_on=date(2026, 6, 9),
            reason="3 months since service",
            facts={"due_on": "2026-06-09", "due_by": "time"},
        )
    ]
    session.add(outreach)
    session.flush()
    return outreach


@dataclass
class Phone:
    """Texts the bot as one customer; ``now`` moves on a minute per message."""

    session: Session
    settings: Settings
    phone: str
    now: datetime = NOW

    def text(self, body: str, sid: str | None = None) -> Reply:
        self.now += timedelta(minutes=1)
        reply = handle_sms(
            self.session,
            self.settings,
            from_phone=self.phone,
            body=body,
            message_sid=sid or f"SM{next(_sids):032d}",
            now=self.now,
        )
        self.session.flush()
        return reply


@pytest.fixture
def customer(session: Session) -> Customer:
    return make_customer(session, name="李雷", locale="zh-CN")


@pytest.fixture
def offered(session: Session, conv_settings: Settings, customer: Customer) -> Outreach:
    """A maintenance outreach whose SMS offer went out at NOW."""
    outreach = plan_outreach(session, customer)
    start_offer(session, conv_settings, outreach, now=NOW, channel="sms")
    session.flush()
    return outreach


@pytest.fixture
def phone(session: Session, conv_settings: Settings, customer: Customer) -> Phone:
    return Phone(session, conv_settings, customer.phone)


@pytest.fixture
def offered_en(session: Session, conv_settings: Settings) -> Outreach:
    """An English-speaking customer's maintenance outreach, offered at NOW."""
    customer = make_customer(session, name="Ann Lee", locale="en")
    outreach = plan_outreach(session, customer)
    start_offer(session, conv_settings, outreach, now=NOW, channel="sms")
    session.flush()
    return outreach
