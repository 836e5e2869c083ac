"""Booking from the desk, behind one pair of functions so the capacity rules live in one place.

With ``outreach.capacity`` installed, slots come from ``offer_slots`` and booking goes through
``book`` (the same rules the bot uses; ``SlotTaken`` when someone was faster).  Without it the
advisor types the arrival time and the appointment is recorded as given.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.desk_queries import day_bounds
from outreach.models import APPOINTMENT_ACTIVE, Appointment, AppointmentJob, Vehicle
from outreach.settings import Settings


class BookingError(ValueError):
    """The booking could not be made; the message is shown to the advisor."""


class SlotGone(BookingError):
    """The slot was taken between showing and booking it."""


def _capacity() -> ModuleType | None:
    """``outreach.capacity`` once it offers the booking interface the bot uses, else None."""
    try:
        module = importlib.import_module("outreach.capacity")
    except ImportError:
        return None
    wanted = ("offer_slots", "book", "SlotTaken", "SlotUnavailable", "UnknownJob")
    return module if all(hasattr(module, name) for name in wanted) else None


def capacity_installed() -> bool:
    return _capacity() is not None


@dataclass(frozen=True)
class Booking:
    customer_id: int
    vehicle_id: int
    jobs: list[str]
    starts_at: datetime
    advisor_id: int | None
    outreach_id: int | None
    hours: float = 1.0  # used only without the capacity module


def offer(session: Session, settings: Settings, *, jobs: list[str], now: datetime) -> list[Any]:
    """Free arrival slots for ``jobs`` (empty without the capacity module)."""
    capacity = _capacity()
    if capacity is None:
        return []
    try:
        return list(
            capacity.offer_slots(session, settings, jobs=jobs, preference=None, now=now, limit=8)
        )
    except capacity.UnknownJob:
        return []


def job_choices(settings: Settings, locale: str) -> list[tuple[str, str]]:
    """(code, description) of the configured job types; empty without the capacity module."""
    if _capacity() is None:
        return []
    types = settings.capacity.job_types
    return [(code, job.description.get(locale, code)) for code, job in types.items()]


def book(session: Session, settings: Settings, booking: Booking, *, now: datetime) -> Appointment:
    """Book the appointment; raises :class:`SlotGone` or :class:`BookingError`."""
    vehicle = session.get(Vehicle, booking.vehicle_id)
    if vehicle is None or vehicle.customer_id != booking.customer_id:
        raise BookingError("pick one of the customer's vehicles")
    if booking.starts_at <= now:
        raise BookingError("the arrival time must be in the future")
    capacity = _capacity()
    if capacity is not None:
        try:
            appointment = capacity.book(
                session,
                settings,
                customer_id=booking.customer_id,
                vehicle_id=booking.vehicle_id,
                jobs=booking.jobs,
                starts_at=booking.starts_at,
                now=now,
                source="advisor",
                advisor_id=booking.advisor_id,
                outreach_id=booking.outreach_id,
            )
        except capacity.SlotTaken as exc:
            raise SlotGone(str(exc)) from exc
        except (capacity.SlotUnavailable, capacity.UnknownJob) as exc:
            raise BookingError(str(exc)) from exc
    else:
        appointment = _book_as_given(session, settings, booking)
    if appointment.advisor_id is None:
        appointment.advisor_id = booking.advisor_id
    if appointment.outreach_id is None:
        appointment.outreach_id = booking.outreach_id
    session.flush()
    return appointment


def _book_as_given(session: Session, settings: Settings, booking: Booking) -> Appointment:
    start, end = day_bounds(booking.starts_at.astimezone(settings.tz).date(), settings.tz)
    clash = session.scalar(
        select(Appointment.id).where(
            Appointment.vehicle_id == booking.vehicle_id,
            Appointment.status.in_(APPOINTMENT_ACTIVE),
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
    )
    if clash is not None:
        raise BookingError("this vehicle already has an appointment that day")
    appointment = Appointment(
        customer_id=booking.customer_id,
        vehicle_id=booking.vehicle_id,
        starts_at=booking.starts_at,
        status="booked",
        source="advisor",
    )
    per_job = round(booking.hours / max(len(booking.jobs), 1), 2)
    appointment.jobs = [
        AppointmentJob(job_code=code[:40], description=code, labour_hours=per_job, price=0)
        for code in booking.jobs
    ]
    session.add(appointment)
    return appointment
