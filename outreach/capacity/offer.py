"""Offering slots: the soonest times the workshop can take, levelled across days and the day.

Each bookable interval gets a score (lower is better)::

    score = days_ahead + DAY_WEIGHT * day_fullness + INTERVAL_WEIGHT * interval_fullness

``day_fullness`` is the share of the day's bookable labour already used; ``interval_fullness``
the share of arrival places used in the interval and its two neighbours.  So an empty day a
few days out beats a nearly full day tomorrow, and within a day arrivals go where the quarter
hours around are quiet.  The offered slots are then spread: first one per (day, part of day),
best score first, then the next best.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from outreach.capacity import ledger
from outreach.capacity.holds import advisor_rows, place_hold, release_expired_holds
from outreach.capacity.model import (
    Calendar,
    Demand,
    arrivals_key,
    days,
    demand,
    labour_key,
    reception_key,
    resource_key,
)
from outreach.preferences import PARTS_OF_DAY, SlotPreference
from outreach.settings import Settings

DAY_WEIGHT = 4.0
INTERVAL_WEIGHT = 2.0
AT_WINDOW = timedelta(minutes=60)  # "at 9:30" also accepts times this close


@dataclass(frozen=True)
class Slot:
    """An offered arrival time; ``hold_id`` is set when the slot is held for the customer."""

    starts_at: datetime  # aware UTC
    advisor_id: int
    advisor_name: str
    hold_id: int | None = None
    hold_expires_at: datetime | None = None


@dataclass(frozen=True)
class _Candidate:
    sort_key: tuple[float, ...]
    starts_at: datetime
    day: date
    part: str
    advisor_codes: tuple[str, ...]  # free advisors, least loaded first


def offer_slots(
    session: Session,
    settings: Settings,
    *,
    jobs: list[str] | tuple[str, ...],
    preference: SlotPreference | None = None,
    now: datetime,
    limit: int = 3,
    customer_id: int | None = None,
    hold_for: str | None = None,
) -> list[Slot]:
    """Up to ``limit`` bookable slots for ``jobs``, levelled and spread (see the module doc).

    With ``hold_for`` ("sms" or "voice") each slot is held for that channel's hold time; a slot
    that another process takes meanwhile is skipped for the next best one.
    """
    need = demand(settings, jobs)
    pref = preference or SlotPreference()
    release_expired_holds(session, now)
    advisors = advisor_rows(session, settings)
    ranked = _rank(session, settings, need, pref, now, set(advisors))
    slots: list[Slot] = []
    for cand in _spread(ranked):
        if len(slots) >= limit:
            break
        code = cand.advisor_codes[0]
        advisor = advisors[code]
        if hold_for is None:
            slots.append(Slot(cand.starts_at, advisor.id, advisor.name))
            continue
        try:
            hold = place_hold(
                session,
                settings,
                need=need,
                starts_at=cand.starts_at,
                advisor=advisor,
                customer_id=customer_id,
                channel=hold_for,
                now=now,
            )
        except ledger.SlotTaken:
            continue  # taken since we read the load: offer the next best instead
        slots.append(Slot(cand.starts_at, advisor.id, advisor.name, hold.id, hold.expires_at))
    return slots


def _rank(
    session: Session,
    settings: Settings,
    need: Demand,
    pref: SlotPreference,
    now: datetime,
    active: set[str],
) -> list[_Candidate]:
    cal = Calendar(settings)
    cfg = settings.capacity
    earliest = now + timedelta(hours=cfg.min_lead_hours)
    today = cal.local_date(now)
    last = today + timedelta(days=cfg.horizon_days)
    first = max(cal.local_date(earliest), pref.not_before or today, pref.on or today)
    if first > last:
        return []
    used = ledger.usage(session, first, last)
    out: list[_Candidate] = []
    for day in days(first, (last - first).days + 1):
        if (pref.on and day != pref.on) or (
            pref.weekday is not None and day.weekday() != pref.weekday
        ):
            continue
        starts = cal.intervals(day)
        if not starts:
            continue
        cap = cal.labour_capacity(day)
        labour_used = used.get(labour_key(day), 0)
        if cap <= 0 or labour_used + need.labour_minutes > cap:
            continue
        if any(
            used.get(resource_key(name, day), 0) + minutes > cal.resource_capacity(name)
            for name, minutes in need.resources
        ):
            continue
        advisors = [a for a in cal.advisors_on(day) if a.code in active]
        load = {
            a.code: sum(used.get(reception_key(a.code, s), 0) for s in starts) for a in advisors
        }
        arrivals = [used.get(arrivals_key(s), 0) for s in starts]
        max_arr = cfg.max_arrivals_per_interval
        for i, start in enumerate(starts):
            local = start.astimezone(cal.tz)
            if start < earliest or arrivals[i] >= max_arr or not _wanted(pref, local):
                continue
            free = [
                a
                for a in advisors
                if used.get(reception_key(a.code, start), 0) < a.cars_per_interval
            ]
            if not free:
                continue
            free.sort(key=lambda a: (load[a.code], a.code))
            around = arrivals[max(0, i - 1) : i + 2]
            score = (
                (day - today).days
                + DAY_WEIGHT * labour_used / cap
                + INTERVAL_WEIGHT * sum(around) / (max_arr * len(around))
            )
            key: tuple[float, ...] = (score, start.timestamp())
            if pref.at is not None:
                wanted = datetime.combine(day, pref.at, cal.tz).astimezone(UTC)
                key = (abs((start - wanted).total_seconds()), *key)
            out.append(_Candidate(key, start, day, _part(local), tuple(a.code for a in free)))
    return sorted(out, key=lambda c: c.sort_key)


def _wanted(pref: SlotPreference, local: datetime) -> bool:
    if pref.part_of_day is not None:
        lo, hi = PARTS_OF_DAY[pref.part_of_day]
        if not lo <= local.time() < hi:
            return False
    if pref.at is not None:
        wanted = datetime.combine(local.date(), pref.at, local.tzinfo)
        if abs(local - wanted) > AT_WINDOW:
            return False
    return True


def _part(local: datetime) -> str:
    for name, (lo, hi) in PARTS_OF_DAY.items():
        if lo <= local.time() < hi:
            return name
    return "evening"


def _spread(ranked: list[_Candidate]) -> list[_Candidate]:
    """Best first, one per (day, part of day); then the rest in score order."""
    seen: set[tuple[date, str]] = set()
    first, rest = [], []
    for cand in ranked:
        (rest if (cand.day, cand.part) in seen else first).append(cand)
        seen.add((cand.day, cand.part))
    return first + rest
