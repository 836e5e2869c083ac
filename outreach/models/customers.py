"""The customer file (客户档案): customers, their vehicles, visit history and deferred work."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.db import Base, utcnow

VISIT_TYPES = ("maintenance", "inspection", "repair", "accident", "detailing")
SERVICE_VISIT_TYPES = ("maintenance", "inspection")  # what resets the maintenance interval
SEVERITIES = ("safety", "high", "medium", "low")  # most urgent first
CHANNELS = ("sms", "voice")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Advisor(Base):
    """A service advisor (服务顾问) who receives cars and works the callback queue."""

    __tablename__ = "advisors"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)


class Customer(Base):
    """A car owner, with consent and opt-out state recorded with when and how."""

    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint(_in("locale", ("zh-CN", "en")), name="customer_locale"),
        CheckConstraint(_in("preferred_channel", CHANNELS), name="customer_channel"),
        CheckConstraint(
            f"only_channel IS NULL OR {_in('only_channel', CHANNELS)}", name="customer_only_channel"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), index=True)  # E.164
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    preferred_channel: Mapped[str] = mapped_column(String(8), default="sms")
    # The one way of contact they keep to ("别打电话，短信联系就行"); None: both are open.
    only_channel: Mapped[str | None] = mapped_column(String(8))
    consent: Mapped[bool] = mapped_column(default=False)
    consent_at: Mapped[datetime | None]
    consent_source: Mapped[str | None] = mapped_column(String(64))
    opted_out_at: Mapped[datetime | None]
    opt_out_source: Mapped[str | None] = mapped_column(String(120))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    vehicles: Mapped[list[Vehicle]] = relationship(back_populates="customer")

    @property
    def contactable(self) -> bool:
        return self.consent and self.opted_out_at is None


class Vehicle(Base):
    __tablename__ = "vehicles"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    vin: Mapped[str] = mapped_column(String(17))
    plate: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(120))
    model_year: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)

    customer: Mapped[Customer] = relationship(back_populates="vehicles")
    visits: Mapped[list[Visit]] = relationship(
        back_populates="vehicle", order_by="Visit.visited_on"
    )


class Visit(Base):
    """A service visit; odometers never decrease along a vehicle's visits (the importer checks)."""

    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint(_in("type", VISIT_TYPES), name="visit_type"),
        CheckConstraint("odometer_km IS NULL OR odometer_km >= 0", name="visit_odometer"),
        # Covers the per-vehicle aggregate of the maintenance campaign: an index-only scan.
        Index("ix_visits_vehicle_history", "vehicle_id", "visited_on", "type", "odometer_km"),
        Index("ix_visits_visited_on", "visited_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"))
    visited_on: Mapped[date]
    odometer_km: Mapped[int | None]
    type: Mapped[str] = mapped_column(String(16))
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("advisors.id"))
    notes: Mapped[str | None] = mapped_column(Text)

    vehicle: Mapped[Vehicle] = relationship(back_populates="visits")
    advisor: Mapped[Advisor | None] = relationship()


class DeferredItem(Base):
    """Work declined or postponed at a visit, or a new problem found during a repair."""

    __tablename__ = "deferred_items"
    __table_args__ = (
        CheckConstraint(_in("severity", SEVERITIES), name="deferred_severity"),
        Index("ix_deferred_open_due", "due_by", "done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(8))
    due_by: Mapped[date]
    found_during_repair: Mapped[bool] = mapped_column(default=False)
    done_at: Mapped[datetime | None]

    vehicle: Mapped[Vehicle] = relationship()


class VehicleHistory(Base):
    """Each vehicle's visit history in one row: a set-based summary of ``visits``.

    Rebuilt by :func:`outreach.history.refresh_history` whenever visits are written (the
    importer does it), so the maintenance campaign reads one row per vehicle instead of
    aggregating five visits each.  Odometers never decrease along a vehicle's visits, so the
    first and last readings are the minimum and maximum.
    """

    __tablename__ = "vehicle_history"

    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), primary_key=True)
    last_visit_on: Mapped[date]
    last_service_on: Mapped[date | None]  # last maintenance or inspection
    service_km: Mapped[int | None]  # odometer at that service, when it was read
    first_read_on: Mapped[date | None]
    last_read_on: Mapped[date | None]
    first_km: Mapped[int | None]
    last_km: Mapped[int | None]
