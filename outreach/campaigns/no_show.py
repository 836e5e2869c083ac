"""No-shows: a booked visit not checked in by the end of its local day becomes ``no_show``.

:func:`mark_no_shows` returns them so the caller starts a follow-up offer for each; the units
they held are given back (the day is over, but the ledger stays exact for the report).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.capacity.booking import end_appointment
from outreach.capacity.model import Calendar, SlotUnavailable
from outreach.models import Appointment
from outreach.settings import Settings

NAME = "no_show"


def mark_no_shows(session: Session, settings: Settings, now: datetime) -> list[Appointment]:
    """Mark every booked appointment whose local day has ended as a no-show; return them."""
    cal = Calendar(settings)
    today_starts = cal.day_start(cal.local_date(now))
    missed = session.scalars(
        select(Appointment)
        .where(Appointment.status == "booked", Appointment.starts_at < today_starts)
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
    marked = []
    for appointment in missed:
        try:
            end_appointment(session, appointment, "no_show", now)
        except SlotUnavailable:
            continue  # checked in or cancelled meanwhile by someone else
        marked.append(appointment)
    return marked
