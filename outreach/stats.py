"""Campaign results and workshop load: the numbers a service manager watches.

Per campaign and ISO week of the outreach's planned date (the cohort), counted once per outreach
and campaign (an outreach that names a maintenance and a seasonal reason counts in both; one with
no reasons — inbound, reschedule — under its own campaign): due (outreach created), contacted (a
message or call went out), delivered (one was delivered / a call completed), replied (the
customer answered by SMS or keypad/speech), booked (an appointment came of it), showed (that
appointment was checked in or completed), opted out.  Each stage implies the one before it (a
customer who answered did receive us), so due >= contacted >= delivered >= replied.

The funnel (:func:`campaign_funnels`) is this week's and last week's row per campaign, every
enabled campaign present; this week's "due" adds the customers still due today and not yet
contacted, exactly what ``outreach due`` lists.
Booking rate = booked / contacted; show rate (预约到店率) = showed / booked; rating: the average
1-5 the customers gave the visits followed up (跟踪回访).
The appointment rate (预约率) is the dealership's: visits that came by appointment / all visits,
per ISO week of the visit.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Exists, and_, exists, func, select
from sqlalchemy.orm import Session

from outreach.appointment_board import day_bounds
from outreach.campaigns import campaigns, iter_due
from outreach.models import (
    APPOINTMENT_ACTIVE,
    Appointment,
    AppointmentJob,
    ContactAttempt,
    Outreach,
    OutreachReason,
    Visit,
)
from outreach.settings import Settings

DELIVERED = ("delivered", "read", "completed")
SHOWED = ("checked_in", "completed")
TALK_CHANNELS = ("sms", "voice")


def iso_week(day: date) -> str:
    """``2025-W07`` for any day of that ISO week."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


@dataclass
class CampaignWeek:
    campaign: str
    week: str
    due: int = 0
    contacted: int = 0
    delivered: int = 0
    replied: int = 0
    booked: int = 0
    showed: int = 0
    opted_out: int = 0
    ratings: list[int] = field(default_factory=list)  # follow-ups: 1-5 per rated visit

    @property
    def rating(self) -> float | None:
        """The average rating of the visits followed up (None when nobody rated)."""
        return round(sum(self.ratings) / len(self.ratings), 2) if self.ratings else None

    @property
    def booking_rate(self) -> float | None:
        return _ratio(self.booked, self.contacted)

    @property
    def show_rate(self) -> float | None:
        return _ratio(self.showed, self.booked)

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name != "ratings"
        }
        data.update(
            booking_rate=self.booking_rate,
            show_rate=self.show_rate,
            rating=self.rating,
            rated=len(self.ratings),
        )
        return data


def _attempt(*conditions: ColumnElement[bool]) -> Exists:
    return exists().where(
        ContactAttempt.outreach_id == Outreach.id,
        ContactAttempt.channel.in_(TALK_CHANNELS),
        *conditions,
    )


def campaign_stats(session: Session, *, since: date, until: date) -> list[CampaignWeek]:
    """Counts per (campaign, ISO week) for outreach planned from ``since`` to ``until``."""
    booked = exists().where(Appointment.outreach_id == Outreach.id)
    showed = exists().where(Appointment.outreach_id == Outreach.id, Appointment.status.in_(SHOWED))
    window = (Outreach.planned_on >= since, Outreach.planned_on <= until)
    named: dict[int, set[str]] = defaultdict(set)
    for outreach_id, campaign in session.execute(
        select(OutreachReason.outreach_id, OutreachReason.campaign)
        .join(Outreach, Outreach.id == OutreachReason.outreach_id)
        .where(*window)
    ):
        named[outreach_id].add(campaign)
    rows = session.execute(
        select(
            Outreach.id,
            Outreach.campaign,
            Outreach.planned_on,
            Outreach.status,
            _attempt(ContactAttempt.direction == "out"),
            _attempt(ContactAttempt.direction == "out", ContactAttempt.status.in_(DELIVERED)),
            _attempt(ContactAttempt.direction == "in"),
            booked,
            showed,
            Outreach.rating,
        ).where(*window)
    ).all()
    table: dict[tuple[str, str], CampaignWeek] = {}
    for (
        oid,
        campaign,
        planned_on,
        status,
        out,
        delivered,
        replied,
        has_appt,
        has_show,
        rating,
    ) in rows:
        # an answer means our message arrived; a delivery means it went out
        reached = bool(delivered) or bool(replied)
        for name in sorted(named.get(oid) or {campaign}):
            key = (name, iso_week(planned_on))
            row = table.setdefault(key, CampaignWeek(*key))
            row.due += 1
            row.contacted += bool(out) or reached
            row.delivered += reached
            row.replied += bool(replied)
            row.booked += bool(has_appt)
            row.showed += bool(has_show)
            row.opted_out += status == "opted_out"
            if rating is not None:
                row.ratings.append(rating)
    return [table[k] for k in sorted(table, key=lambda k: (k[1], k[0]))]


FUNNEL_STAGES = ("due", "contacted", "delivered", "replied", "booked", "showed")


@dataclass(frozen=True)
class Stage:
    name: str
    this_week: int
    last_week: int

    @property
    def change(self) -> int:
        return self.this_week - self.last_week


@dataclass(frozen=True)
class Funnel:
    """One campaign's way from due to showed, this ISO week beside the last."""

    campaign: str
    week: str
    stages: list[Stage]
    waiting: int  # still due today, not yet contacted (in this week's "due")


def campaign_funnels(session: Session, settings: Settings, *, today: date) -> list[Funnel]:
    """Per campaign: this week's and last week's funnel; enabled campaigns first, in their
    order, then any other campaign with outreach in the two weeks (inbound, reschedule …)."""
    monday = today - timedelta(days=today.weekday())
    last_monday = monday - timedelta(weeks=1)
    week, last = iso_week(today), iso_week(last_monday)
    rows = {
        (r.campaign, r.week): r for r in campaign_stats(session, since=last_monday, until=today)
    }
    waiting = Counter(item.campaign for item in iter_due(session, settings, today))
    enabled = [name for name in campaigns() if getattr(settings.campaigns, name).enabled]
    others = sorted({c for c, _ in rows} - set(enabled))
    funnels = []
    for name in [*enabled, *others]:
        now_row = rows.get((name, week)) or CampaignWeek(name, week)
        then_row = rows.get((name, last)) or CampaignWeek(name, last)
        stages = [
            Stage(
                stage,
                getattr(now_row, stage) + (waiting[name] if stage == "due" else 0),
                getattr(then_row, stage),
            )
            for stage in FUNNEL_STAGES
        ]
        funnels.append(Funnel(name, week, stages, waiting[name]))
    return funnels


@dataclass(frozen=True)
class WeekVisits:
    week: str
    visits: int
    by_appointment: int

    @property
    def appointment_rate(self) -> float | None:
        return _ratio(self.by_appointment, self.visits)


def appointment_rate(
    session: Session, *, since: date, until: date, tz: ZoneInfo
) -> list[WeekVisits]:
    """Per ISO week: visits, visits that came by appointment (same vehicle, same local day)."""
    visits = session.execute(
        select(Visit.vehicle_id, Visit.visited_on).where(
            Visit.visited_on >= since, Visit.visited_on <= until
        )
    ).all()
    start, _ = day_bounds(since, tz)
    _, end = day_bounds(until, tz)
    kept = {
        (vehicle_id, starts_at.astimezone(tz).date())
        for vehicle_id, starts_at in session.execute(
            select(Appointment.vehicle_id, Appointment.starts_at).where(
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
                Appointment.status.in_(SHOWED),
            )
        )
    }
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for vehicle_id, visited_on in visits:
        counts = totals[iso_week(visited_on)]
        counts[0] += 1
        counts[1] += (vehicle_id, visited_on) in kept
    return [WeekVisits(w, *totals[w]) for w in sorted(totals)]


@dataclass(frozen=True)
class DayLoad:
    day: date
    appointments: int
    hours: float


def workshop_load(session: Session, *, today: date, tz: ZoneInfo, days: int = 14) -> list[DayLoad]:
    """Booked appointments and labour hours for each local day from ``today``, ``days`` long."""
    start, _ = day_bounds(today, tz)
    _, end = day_bounds(today + timedelta(days=days - 1), tz)
    rows = session.execute(
        select(Appointment.starts_at, func.coalesce(func.sum(AppointmentJob.labour_hours), 0))
        .outerjoin(AppointmentJob, and_(AppointmentJob.appointment_id == Appointment.id))
        .where(
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            Appointment.status.in_(APPOINTMENT_ACTIVE),
        )
        .group_by(Appointment.id, Appointment.starts_at)
    ).all()
    counts: dict[date, list[float]] = defaultdict(lambda: [0, 0.0])
    for starts_at, hours in rows:
        bucket = counts[_local_day(starts_at, tz)]
        bucket[0] += 1
        bucket[1] += float(hours)
    return [
        DayLoad(d, int(counts[d][0]), round(counts[d][1], 2))
        for d in (today + timedelta(days=n) for n in range(days))
    ]


def _local_day(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()
