"""Day-before confirmation: a message the day before each booked visit, sent once.

The entry point selects tomorrow's appointments with :func:`select_day_before`, sends the
confirmation ("reply 1 to confirm, 2 to change") and records it with :func:`record_reminder`
in the same transaction, so a second scheduler run or process never sends it twice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from outreach.capacity.model import Calendar
from outreach.models import Appointment
from outreach.settings import Settings

NAME = "day_before"


def select_day_before(session: Session, settings: Settings, today: date) -> list[Appointment]:
    """Booked appointments on the local day after ``today`` not yet reminded, earliest first."""
    cal = Calendar(settings)
    start = cal.day_start(today + timedelta(days=1))
    end = cal.day_start(today + timedelta(days=2))
    return list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.status == "booked",
                Appointment.reminded_at.is_(None),
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
            )
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )


def record_reminder(session: Session, appointment: Appointment, now: datetime) -> bool:
    """Mark the reminder sent; False if another run recorded it first (then do not send)."""
    done = session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.reminded_at.is_(None))
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    )
    session.expire(appointment, ["reminded_at"])
    return done.rowcount == 1  # type: ignore[attr-defined]
