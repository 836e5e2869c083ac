"""Booking from the desk through the same capacity rules the bot uses (one place for the rules).

Slots come from :func:`outreach.capacity.offer_slots`; booking goes through
:func:`outreach.capacity.book`, which raises ``SlotTaken`` when someone was faster.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from outreach import capacity
from outreach.consent import may_contact
from outreach.conversation import queue_sms
from outreach.conversation.state import carry_facts, read
from outreach.conversation.texts import render_text
from outreach.job_lines import offered_items, record_job_lines
from outreach.models import Appointment, Customer, Outreach, Vehicle
from outreach.settings import Settings


class BookingError(ValueError):
    """The booking could not be made; the message is shown to the advisor."""


class SlotGone(BookingError):
    """The slot was taken between showing and booking it."""


@dataclass(frozen=True)
class Booking:
    customer_id: int
    vehicle_id: int
    jobs: list[str]
    starts_at: datetime
    advisor_id: int | None
    outreach_id: int | None
    note: str = ""  # the advisor's note, shown on the board


def offer(
    session: Session, settings: Settings, *, jobs: list[str], now: datetime
) -> list[capacity.Slot]:
    """Free arrival slots for ``jobs`` (none for an unknown job type)."""
    try:
        return list(
            capacity.offer_slots(session, settings, jobs=jobs, preference=None, now=now, limit=8)
        )
    except capacity.UnknownJob:
        return []


def job_choices(settings: Settings, locale: str) -> list[tuple[str, str]]:
    """(code, description) of the configured job types."""
    types = settings.capacity.job_types
    return [(code, job.description.get(locale, code)) for code, job in types.items()]


def book(session: Session, settings: Settings, booking: Booking, *, now: datetime) -> Appointment:
    """Book the appointment; raises :class:`SlotGone` or :class:`BookingError`."""
    vehicle = session.get(Vehicle, booking.vehicle_id)
    if vehicle is None or vehicle.customer_id != booking.customer_id:
        raise BookingError("pick one of the customer's vehicles")
    if booking.starts_at <= now:
        raise BookingError("the arrival time must be in the future")
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
    if appointment.advisor_id is None:
        appointment.advisor_id = booking.advisor_id
    if appointment.outreach_id is None:
        appointment.outreach_id = booking.outreach_id
    if booking.note.strip():
        appointment.notes = booking.note.strip()
    outreach = session.get(Outreach, booking.outreach_id) if booking.outreach_id else None
    if outreach is not None:  # the mileage, faults, technician and services told to the bot
        carry_facts(read(outreach), appointment)
    # the deferred items the offer named, as the bot does (before the confirmation names them)
    record_job_lines(session, settings, appointment, offered_items(session, outreach))
    confirm(session, settings, appointment, outreach, now=now)
    return appointment


def confirm(
    session: Session,
    settings: Settings,
    appointment: Appointment,
    outreach: Outreach | None,
    *,
    now: datetime,
) -> None:
    """Queue the customer's written confirmation, as the bot does after booking (same script,
    same outbox, sent inside their contact window); nothing for a customer who may not be
    contacted."""
    customer = session.get(Customer, appointment.customer_id)
    if customer is None or not may_contact(customer):
        return
    text = render_text(
        settings, "confirmation", customer=customer, channel="sms", appointment=appointment
    )
    queue_sms(
        session, settings, customer, text, now=now, outreach=outreach, kind="confirmation",
        key=f"desk-confirmation:{appointment.id}",
    )  # fmt: skip
