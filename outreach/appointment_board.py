"""The appointment board: a day's active appointments per advisor and arrival hour.

Plain SQLAlchemy: every function takes the session first and never commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from outreach.models import APPOINTMENT_ACTIVE, Appointment


@dataclass(frozen=True)
class BoardRow:
    appointment: Appointment
    local_start: datetime

    @property
    def hours(self) -> float:
        return round(sum(j.labour_hours for j in self.appointment.jobs), 2)


@dataclass
class BoardGroup:
    """One advisor's appointments of a day, by arrival hour."""

    advisor: str | None
    intervals: dict[str, list[BoardRow]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(rows) for rows in self.intervals.values())


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC-comparable instants where the local ``day`` starts and the next one starts."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def appointments_on(session: Session, day: date, *, tz: ZoneInfo) -> list[BoardRow]:
    """Active appointments starting on the local ``day``, by time then advisor."""
    start, end = day_bounds(day, tz)
    rows = session.scalars(
        select(Appointment)
        .where(
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            Appointment.status.in_(APPOINTMENT_ACTIVE),
        )
        .options(
            selectinload(Appointment.customer),
            selectinload(Appointment.vehicle),
            selectinload(Appointment.advisor),
            selectinload(Appointment.jobs),
            selectinload(Appointment.job_lines),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
    return [BoardRow(a, a.starts_at.astimezone(tz)) for a in rows]


def board(session: Session, day: date, *, tz: ZoneInfo) -> list[BoardGroup]:
    """The appointment board of a day: per advisor (unassigned last), per arrival hour."""
    # Keyed by advisor id: two advisors may share a name.
    groups: dict[int | None, BoardGroup] = {}
    by_interval: dict[int | None, dict[str, list[BoardRow]]] = defaultdict(dict)
    for row in appointments_on(session, day, tz=tz):
        found = row.appointment.advisor
        advisor = found.id if found else None
        groups.setdefault(advisor, BoardGroup(found.name if found else None))
        hour = row.local_start.replace(minute=0)
        label = f"{hour:%H:%M}–{hour + timedelta(hours=1):%H:%M}"
        by_interval[advisor].setdefault(label, []).append(row)
    for advisor, group in groups.items():
        group.intervals = by_interval[advisor]
    return sorted(groups.values(), key=lambda g: (g.advisor is None, g.advisor or ""))
