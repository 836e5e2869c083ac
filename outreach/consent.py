"""Consent and opt-out: the one place that decides whether a customer may be contacted at all."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from outreach.models import OUTREACH_OPEN, ContactAttempt, Customer, Outreach

# The opt-out source of "wrong number" replies: the block is on the number, not the customer's
# wish, so an import that brings a different number lifts it (outreach.importer.customers).
WRONG_NUMBER = "wrong number: "


def opt_out(session: Session, customer: Customer, *, source: str, now: datetime) -> bool:
    """Record a customer's opt-out and close their open outreach; False if already opted out.

    Everything queued for the customer is dropped by the senders, which re-check
    :func:`may_contact` at the moment of sending.
    """
    if customer.opted_out_at is not None:
        return False
    customer.opted_out_at = now
    customer.opt_out_source = source[:120]
    session.execute(
        update(Outreach)
        .where(Outreach.customer_id == customer.id, Outreach.status.in_(OUTREACH_OPEN))
        .values(status="opted_out", closed_at=now, outcome=f"opted out: {source}"[:500])
    )
    session.add(
        ContactAttempt(
            customer_id=customer.id,
            at=now,
            channel=next((ch for ch in ("sms", "voice") if ch in source), "desk"),
            direction="note",
            kind="opt_out",
            body=source,
        )
    )
    return True


def opt_in(session: Session, customer: Customer, *, source: str, now: datetime) -> bool:
    """Undo an opt-out (START / UNSTOP); False if the customer was not opted out."""
    if customer.opted_out_at is None:
        return False
    customer.opted_out_at = None
    customer.opt_out_source = None
    customer.consent = True
    customer.consent_at = now
    customer.consent_source = source[:64]
    session.add(
        ContactAttempt(
            customer_id=customer.id, at=now, channel="sms", direction="note", kind="opt_in"
        )
    )
    return True


def keep_to(
    session: Session, customer: Customer, channel: str, *, source: str, now: datetime
) -> bool:
    """The customer keeps to one way of contact ("别打电话，短信联系就行": ``"sms"``): nothing
    goes out by the other (:func:`may_contact` with a channel), and campaigns use this one.
    Not an opt-out.  False if they already kept to it."""
    if customer.only_channel == channel:
        return False
    customer.only_channel = channel
    customer.preferred_channel = channel
    session.add(
        ContactAttempt(
            customer_id=customer.id, at=now, channel=channel, direction="note",
            kind="only_channel", body=source,
        )
    )  # fmt: skip
    return True


def may_contact(customer: Customer, channel: str | None = None) -> bool:
    """Whether outreach may reach this customer: consent given and not opted out; with a
    ``channel``, also that it is not the way of contact they refused (:func:`keep_to`)."""
    if not customer.consent or customer.opted_out_at is not None:
        return False
    return channel is None or customer.only_channel in (None, channel)
