"""Appointments (预约) and the jobs booked on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.db import Base, utcnow
from outreach.models.customers import Advisor, Customer, DeferredItem, Vehicle, _in

APPOINTMENT_STATUSES = ("booked", "cancelled", "checked_in", "completed", "no_show")
APPOINTMENT_ACTIVE = ("booked", "checked_in")


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint(_in("status", APPOINTMENT_STATUSES), name="appointment_status"),
        Index("ix_appointments_vehicle_status", "vehicle_id", "status", "starts_at"),
        Index("ix_appointments_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicles.id"))
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("advisors.id"))
    outreach_id: Mapped[int | None] = mapped_column(ForeignKey("outreach.id"))
    starts_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="booked")
    source: Mapped[str] = mapped_column(String(12), default="bot")  # bot, advisor, inbound
    mileage_reported_km: Mapped[int | None]
    faults_reported: Mapped[str | None] = mapped_column(Text)
    designated_technician: Mapped[str | None] = mapped_column(String(120))
    special_services: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    reminded_at: Mapped[datetime | None]  # the day-before confirmation went out
    confirmed_at: Mapped[datetime | None]  # the customer answered it: they are coming
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship()
    vehicle: Mapped[Vehicle | None] = relationship()
    advisor: Mapped[Advisor | None] = relationship()
    jobs: Mapped[list[AppointmentJob]] = relationship(
        back_populates="appointment", cascade="all, delete-orphan"
    )
    # the deferred items the offer named (outreach/job_lines.py writes them)
    job_lines: Mapped[list[AppointmentJobLine]] = relationship(
        back_populates="appointment", cascade="all, delete-orphan", order_by="AppointmentJobLine.id"
    )


class AppointmentJob(Base):
    """One job on an appointment, with the labour hours and price quoted when it was booked."""

    __tablename__ = "appointment_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), index=True)
    job_code: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    labour_hours: Mapped[float] = mapped_column(Numeric(6, 2, asdecimal=False))
    price: Mapped[float] = mapped_column(Numeric(10, 2, asdecimal=False))

    appointment: Mapped[Appointment] = relationship(back_populates="jobs")


class AppointmentJobLine(Base):
    """A deferred item to be done at the visit, with the price quoted for it (None: to quote).

    Beside the appointment's jobs (which reserve labour and bays), these tell parts staff, the
    technician and the customer what the visit is for.  Written by outreach/job_lines.py.
    """

    __tablename__ = "appointment_job_lines"
    __table_args__ = (
        UniqueConstraint("appointment_id", "deferred_item_id", name="uq_job_line_item"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), index=True)
    deferred_item_id: Mapped[int | None] = mapped_column(ForeignKey("deferred_items.id"))
    description: Mapped[str] = mapped_column(Text)
    price: Mapped[float | None] = mapped_column(Numeric(10, 2, asdecimal=False))

    appointment: Mapped[Appointment] = relationship(back_populates="job_lines")
    deferred_item: Mapped[DeferredItem | None] = relationship()
