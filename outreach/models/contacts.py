"""Outreach to a customer, why it happened, every contact attempt, and the callback queue."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.db import Base, utcnow
from outreach.models.customers import Customer, Vehicle, _in

OUTREACH_OPEN = ("planned", "open")
OUTREACH_STATUSES = (*OUTREACH_OPEN, "booked", "declined", "opted_out", "handed_off", "closed")
CALLBACK_STATUSES = ("open", "claimed", "done")


class Outreach(Base):
    """One contact case with one customer, merging every reason they are due.

    A customer has at most one open outreach at a time (a partial unique index), so two
    campaigns, two scheduler processes or a retry can never start a second conversation.
    """

    __tablename__ = "outreach"
    __table_args__ = (
        CheckConstraint(_in("status", OUTREACH_STATUSES), name="outreach_status"),
        Index(
            "uq_outreach_one_open_per_customer",
            "customer_id",
            unique=True,
            sqlite_where=text("status IN ('planned', 'open')"),
            postgresql_where=text("status IN ('planned', 'open')"),
        ),
        Index("ix_outreach_customer_closed", "customer_id", "status", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicles.id"))
    status: Mapped[str] = mapped_column(String(12), default="planned")
    channel: Mapped[str] = mapped_column(String(8), default="sms")
    campaign: Mapped[str] = mapped_column(String(40))  # the leading reason's campaign
    planned_on: Mapped[date]
    opened_at: Mapped[datetime | None]
    last_contact_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    step: Mapped[int] = mapped_column(default=0)  # position in the campaign's escalation plan
    state: Mapped[str] = mapped_column(String(32), default="new")  # conversation state
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outcome: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None]  # 1-5, the customer's rating of a visit (follow-up)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship()
    vehicle: Mapped[Vehicle | None] = relationship()
    reasons: Mapped[list[OutreachReason]] = relationship(
        back_populates="outreach", order_by="OutreachReason.priority"
    )


class OutreachReason(Base):
    """Why a customer is contacted; ``subject_key`` is unique, so a reason is acted on once."""

    __tablename__ = "outreach_reasons"
    __table_args__ = (Index("ix_reasons_campaign_vehicle", "campaign", "vehicle_id", "anchor_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outreach_id: Mapped[int] = mapped_column(ForeignKey("outreach.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicles.id"))
    deferred_item_id: Mapped[int | None] = mapped_column(ForeignKey("deferred_items.id"))
    campaign: Mapped[str] = mapped_column(String(40))
    subject_key: Mapped[str] = mapped_column(String(120), unique=True)
    # What the reason is anchored on, so it is acted on once: the last service date for a
    # maintenance cycle, the visit date for a follow-up, the window start for a season.
    anchor_on: Mapped[date | None]
    due_on: Mapped[date]
    priority: Mapped[int] = mapped_column(default=100)
    reason: Mapped[str] = mapped_column(Text)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    outreach: Mapped[Outreach] = relationship(back_populates="reasons")


class ContactAttempt(Base):
    """The audit trail: every message and call in either direction, and every escalation step."""

    __tablename__ = "contact_attempts"
    __table_args__ = (
        CheckConstraint(_in("direction", ("out", "in", "note")), name="attempt_direction"),
        Index("ix_attempts_customer_at", "customer_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    outreach_id: Mapped[int | None] = mapped_column(ForeignKey("outreach.id"), index=True)
    at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(8))  # sms, voice, desk
    direction: Mapped[str] = mapped_column(String(4))
    kind: Mapped[str] = mapped_column(String(40))  # template or event name
    body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(20))
    provider_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    error_code: Mapped[str | None] = mapped_column(String(16))


class CallbackRequest(Base):
    """An entry in the advisors' callback queue: a customer who needs a person."""

    __tablename__ = "callback_requests"
    __table_args__ = (
        CheckConstraint(_in("status", CALLBACK_STATUSES), name="callback_status"),
        Index("ix_callbacks_status_priority", "status", "priority", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    outreach_id: Mapped[int | None] = mapped_column(ForeignKey("outreach.id"))
    reason: Mapped[str] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(default=50)  # lower is more urgent
    detail: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[int | None]
    claimed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(40))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    call_again_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship()
