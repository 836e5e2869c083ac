"""The capacity ledger: countable units of workshop capacity, who took them, and slot holds.

A unit is one limit on one day or interval (an advisor's reception in a quarter hour, the
arrivals in a quarter hour, a day's bookable labour minutes, a bay's minutes).  ``used`` only
moves by conditional updates (see :mod:`outreach.capacity.ledger`) and the CHECK makes an
overbooked row impossible to commit on any backend.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from outreach.db import Base, utcnow
from outreach.models.customers import _in

UNIT_KINDS = ("reception", "arrivals", "labour", "resource")
HOLD_STATUSES = ("held", "converted", "released", "expired")


class CapacityUnit(Base):
    __tablename__ = "capacity_units"
    __table_args__ = (
        CheckConstraint("used >= 0 AND used <= capacity", name="capacity_unit_within"),
        CheckConstraint(_in("kind", UNIT_KINDS), name="capacity_unit_kind"),
        Index("ix_capacity_units_day", "day", "kind"),
    )

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    day: Mapped[date]  # the dealership's local date
    capacity: Mapped[int]
    used: Mapped[int] = mapped_column(default=0)


class CapacityDayLoad(Base):
    """The load of one local day and one unit kind, kept in step with ``capacity_units``.

    ``detail`` is a JSON object of every unit of that day and kind in use, ``{key: used}``
    (units at zero left out), and ``used`` their sum.  Changed only by the ledger, in the same
    statement sequence that changes the units (see :mod:`outreach.capacity.load`), so an
    offer reads a few rows per day instead of the day's units.
    """

    __tablename__ = "capacity_day_load"
    __table_args__ = (
        CheckConstraint("used >= 0", name="capacity_day_load_used"),
        CheckConstraint(_in("kind", UNIT_KINDS), name="capacity_day_load_kind"),
    )

    day: Mapped[date] = mapped_column(primary_key=True)  # the dealership's local date
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    used: Mapped[int] = mapped_column(default=0)
    detail: Mapped[dict[str, Any]] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"), default=dict
    )  # JSONB on PostgreSQL: changed in place by the upsert, never parsed from text


class SlotHold(Base):
    """An offered slot kept for a customer for a while; its units are taken while held."""

    __tablename__ = "slot_holds"
    __table_args__ = (
        CheckConstraint(_in("status", HOLD_STATUSES), name="slot_hold_status"),
        Index("ix_slot_holds_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_at: Mapped[datetime]
    advisor_id: Mapped[int] = mapped_column(ForeignKey("advisors.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    jobs: Mapped[str] = mapped_column(String(400))  # job type codes, comma separated
    channel: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12), default="held")
    expires_at: Mapped[datetime]
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CapacityTake(Base):
    """``amount`` of a unit taken by exactly one hold or one appointment."""

    __tablename__ = "capacity_takes"
    __table_args__ = (
        CheckConstraint("amount > 0", name="capacity_take_amount"),
        CheckConstraint(
            "(hold_id IS NULL) <> (appointment_id IS NULL)", name="capacity_take_one_owner"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_key: Mapped[str] = mapped_column(ForeignKey("capacity_units.key"), index=True)
    amount: Mapped[int]
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("slot_holds.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), index=True)
