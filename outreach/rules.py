"""Contact rules: who may be offered outreach at all, shared by every campaign.

Each rule is a SQL condition, so campaigns stay set-based.  The rules (see DOMAIN.md):

- consent given and not opted out;
- the vehicle is active and has no booked appointment from today on;
- no open outreach for the customer (one conversation at a time: reasons are merged);
- no "no thanks" within ``cooldown_days_after_decline``;
- fewer than ``max_contacts_per_30_days`` outbound contacts in the last 30 days;
- the same reason (campaign + vehicle/customer + anchor date, or deferred item) never twice.

The ``NOT IN (subquery)`` form is deliberate: SQLite and PostgreSQL both evaluate the subquery
once (a hashed set), where a correlated ``NOT EXISTS`` probes once per vehicle.  Every column
returned by these subqueries is NOT NULL or filtered for NULL, so ``NOT IN`` has no NULL trap.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, ColumnExpressionArgument, and_, func, select, tuple_

from outreach.models import (
    APPOINTMENT_ACTIVE,
    OUTREACH_OPEN,
    Appointment,
    ContactAttempt,
    Customer,
    Outreach,
    OutreachReason,
    Vehicle,
)
from outreach.settings import Settings

CONTACT_CAP_DAYS = 30


def start_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``tz``."""
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def customer_may_be_contacted(settings: Settings, today: date) -> list[ColumnElement[bool]]:
    """Conditions on :class:`Customer` that every campaign applies."""
    rules = settings.rules
    day_start = start_of_day(today, settings.tz)
    cooldown_since = start_of_day(
        today - timedelta(days=rules.cooldown_days_after_decline), settings.tz
    )
    cap_since = start_of_day(today - timedelta(days=CONTACT_CAP_DAYS), settings.tz)
    busy = select(Outreach.customer_id).where(Outreach.status.in_(OUTREACH_OPEN))
    declined = select(Outreach.customer_id).where(
        Outreach.status == "declined", Outreach.closed_at >= cooldown_since
    )
    capped = (
        select(ContactAttempt.customer_id)
        .where(
            ContactAttempt.direction == "out",
            ContactAttempt.at >= cap_since,
            ContactAttempt.at < day_start + timedelta(days=1),
        )
        .group_by(ContactAttempt.customer_id)
        .having(func.count() >= rules.max_contacts_per_30_days)
    )
    return [
        Customer.consent.is_(True),
        Customer.opted_out_at.is_(None),
        Customer.id.not_in(busy),
        Customer.id.not_in(declined),
        Customer.id.not_in(capped),
    ]


def vehicle_may_be_contacted(settings: Settings, today: date) -> list[ColumnElement[bool]]:
    """Conditions on :class:`Vehicle`: active, and no booked appointment from today on."""
    booked = select(Appointment.vehicle_id).where(
        Appointment.status.in_(APPOINTMENT_ACTIVE),
        Appointment.starts_at >= start_of_day(today, settings.tz),
        Appointment.vehicle_id.is_not(None),
    )
    return [Vehicle.active.is_(True), Vehicle.id.not_in(booked)]


def not_acted_on(
    campaign: str,
    vehicle_id: ColumnExpressionArgument[int],
    anchor: ColumnExpressionArgument[date] | ColumnExpressionArgument[date | None],
) -> ColumnElement[bool]:
    """The (campaign, vehicle, anchor date) reason has not been acted on before."""
    done = select(OutreachReason.vehicle_id, OutreachReason.anchor_on).where(
        OutreachReason.campaign == campaign,
        OutreachReason.vehicle_id.is_not(None),
        OutreachReason.anchor_on.is_not(None),
    )
    return tuple_(vehicle_id, anchor).not_in(done)


def all_rules(settings: Settings, today: date) -> ColumnElement[bool]:
    """Every customer and vehicle rule, as one condition for a query joining both tables."""
    return and_(
        *customer_may_be_contacted(settings, today), *vehicle_may_be_contacted(settings, today)
    )
