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

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from outreach.capacity import load
from outreach.capacity.config import AdvisorCapacity
from outreach.capacity.holds import (
    HoldRequest,
    advisor_rows,
    hold_expiry,
    place_holds,
    release_expired_holds,
)
from outreach.capacity.model import (
    Calendar,
    Demand,
    calendar,
    days,
    demand,
    labour_key,
    resource_key,
)
from outreach.models import Advisor
from outreach.preferences import PARTS_OF_DAY, SlotPreference

if TYPE_CHECKING:
    from outreach.settings import Settings  # annotations only: capacity never imports settings

DAY_WEIGHT = 4.0
INTERVAL_WEIGHT = 2.0
AT_WINDOW = timedelta(minutes=60)  # "at 9:30" also accepts times this close
CHUNK_DAYS = 7  # days of load read at a time (see _ranked)


@dataclass(frozen=True)
class Slot:
    """An offered arrival time; ``hold_id`` is set when the slot is held for the customer."""

    starts_at: datetime  # aware UTC
    advisor_id: int
    advisor_name: str
    hold_id: int | None = None
    hold_expires_at: datetime | None = None


class _Reception:
    """One day's reception load for the active advisors on duty, from the day load's entries.

    Only the advisors' places in use are looked at, so the work grows with the day's
    bookings and holds, not with the number of advisors times intervals.
    """

    __slots__ = ("advisors", "full", "load", "taken")

    def __init__(self, advisors: list[AdvisorCapacity], in_use: dict[str, int]) -> None:
        self.advisors = advisors
        caps = {a.code: a.cars_per_interval for a in advisors}
        load = dict.fromkeys(caps, 0)  # places in use per advisor over the day
        taken: dict[str, dict[str, int]] = {}  # interval -> advisor -> places in use
        full: dict[str, int] = {}  # interval -> advisors with no place left
        for key, used in in_use.items():
            _, code, iso = key.split(":", 2)
            cap = caps.get(code)
            if cap is None:
                continue
            load[code] += used
            at = taken.get(iso)
            if at is None:
                taken[iso] = {code: used}
            else:
                at[code] = used
            if used >= cap:
                full[iso] = full.get(iso, 0) + 1
        self.load, self.taken, self.full = load, taken, full

    def any_free(self, iso: str) -> bool:
        return self.full.get(iso, 0) < len(self.advisors)

    def free(self, iso: str) -> tuple[str, ...]:
        """The advisors with a place left in interval ``iso``, least loaded first."""
        taken = self.taken.get(iso, {})
        free = [a.code for a in self.advisors if taken.get(a.code, 0) < a.cars_per_interval]
        return tuple(sorted(free, key=lambda code: (self.load[code], code)))


class _Candidate:
    """A bookable interval and its rank (a plain class: an offer makes hundreds of them)."""

    __slots__ = ("day", "iso", "part", "reception", "sort_key", "starts_at")

    def __init__(
        self,
        sort_key: tuple[float, ...],
        starts_at: datetime,
        day: date,
        part: str,
        iso: str,
        reception: _Reception,  # the day's, shared by its candidates
    ) -> None:
        self.sort_key = sort_key
        self.starts_at = starts_at
        self.day = day
        self.part = part
        self.iso = iso
        self.reception = reception

    def _fields(self) -> tuple[object, ...]:
        return (self.sort_key, self.starts_at, self.day, self.part, self.iso)

    def __eq__(self, other: object) -> bool:  # the day's reception is not compared
        return isinstance(other, _Candidate) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return f"_Candidate{self._fields()!r}"

    @property
    def advisor_codes(self) -> tuple[str, ...]:
        """Free advisors, least loaded first (worked out only for candidates given out)."""
        return self.reception.free(self.iso)


MAX_HOLD_ROUNDS = 6  # rounds of "hold the next best" when slots were taken meanwhile


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
    that another process takes or is changing meanwhile is skipped for the next best one.  The
    load is read a week at a time, as far as the offer needs (see :func:`_ranked`); the holds
    are placed together (see :func:`outreach.capacity.holds.place_holds`), so an offer never
    waits for a lock.
    """
    need = demand(settings, jobs)
    pref = preference or SlotPreference()
    cal = calendar(settings)
    expires_at = hold_expiry(settings, hold_for, now) if hold_for is not None else None
    release_expired_holds(session, now)
    advisors = advisor_rows(session, settings)
    queue = _ranked(session, cal, need, pref, now, set(advisors))
    if hold_for is None:
        return [
            Slot(c.starts_at, advisors[c.advisor_codes[0]].id, advisors[c.advisor_codes[0]].name)
            for c in itertools.islice(queue, limit)
        ]
    assert expires_at is not None  # noqa: S101 - set above whenever hold_for is
    jobs_text = ",".join(j.code for j in need.jobs)
    unavailable: set[str] = set()  # units found full or being changed by someone else
    slots: list[Slot] = []
    for _ in range(MAX_HOLD_ROUNDS):
        wanted = limit - len(slots)
        batch = _next_requests(cal, need, queue, advisors, unavailable, wanted)
        if not batch:
            break
        held = place_holds(
            session, batch, jobs=jobs_text, customer_id=customer_id, channel=hold_for,
            expires_at=expires_at, now=now, day_units=cal.day_units,
        )  # fmt: skip
        by_start = {(h.starts_at, h.advisor_id): h for h in held}
        for req in batch:
            hold = by_start.get((req.starts_at, req.advisor.id))
            if hold is None:
                unavailable.update(n.key for n in req.needs)
                continue
            slots.append(
                Slot(req.starts_at, req.advisor.id, req.advisor.name, hold.id, hold.expires_at)
            )
        if len(slots) >= limit:
            break
    return slots


def never_open(
    settings: Settings,
    *,
    jobs: list[str] | tuple[str, ...],
    preference: SlotPreference,
    now: datetime,
) -> bool:
    """Whether the workshop never takes ``jobs`` at the preferred time, however empty it is.

    True when no interval would be offered even with nothing booked: a closed day, a time
    outside the opening hours.  A preferred day outside the horizon (or already past) is not
    "never open", just out of reach, so it is False, like a time that is only full.
    """
    cal = calendar(settings)
    today = cal.local_date(now)
    first, last = _span(cal, preference, today, today)
    if preference.on is not None and not today <= preference.on <= last:
        return False
    codes = {a.code for a in cal.config.advisors}
    need = demand(settings, jobs)
    # Judged from the day's opening, not from now: "today at 9" said at noon is past, not closed.
    midnight = datetime.combine(first, datetime.min.time(), cal.tz).astimezone(UTC)
    opened = min(now, midnight)
    return next(_candidates(cal, need, preference, opened, codes, {}, first, last), None) is None


def past_horizon(settings: Settings, *, preference: SlotPreference, now: datetime) -> bool:
    """Whether the day asked for ("下个月3号") lies past the booking horizon: out of reach,
    neither full nor closed (see :func:`never_open`)."""
    day = preference.on or preference.not_before
    if day is None:
        return False
    cal = calendar(settings)
    today = cal.local_date(now)
    return day > _span(cal, SlotPreference(), today, today)[1]


def _next_requests(
    cal: Calendar,
    need: Demand,
    queue: Iterator[_Candidate],
    advisors: dict[str, Advisor],
    unavailable: set[str],
    count: int,
) -> list[HoldRequest]:
    """The next ``count`` candidates none of whose units is known to be unavailable."""
    out: list[HoldRequest] = []
    for cand in queue:
        for code in cand.advisor_codes:
            needs = cal.units(need, cand.starts_at, code)
            if not any(n.key in unavailable for n in needs):
                out.append(HoldRequest(cand.starts_at, advisors[code], tuple(needs)))
                break
        if len(out) >= count:
            break
    return out


def _ranked(
    session: Session,
    cal: Calendar,
    need: Demand,
    pref: SlotPreference,
    now: datetime,
    active: set[str],
    *,
    chunk_days: int = CHUNK_DAYS,
) -> Iterator[_Candidate]:
    """Bookable intervals in offer order (see :func:`_spread`), the load read a week at a time.

    Every interval on a day ``n`` days ahead scores at least ``n``, so once the days read so
    far give candidates scoring no more than the next unread day's ``n``, those come first
    whatever the later days hold: they are given out, and the next days are read only if the
    caller wants more.  An offer usually needs one read of one week, not of the horizon.
    "At 9:30" ranks by distance from that time first, and "as early as possible" by time alone
    (no spread), so those read the whole span at once.  So does an offer whose first week had
    nothing free: a full workshop is read in two statements, not one a week.
    """
    today = cal.local_date(now)
    earliest = now + timedelta(hours=cal.config.min_lead_hours)
    first, last = _span(cal, pref, today, cal.local_date(earliest))
    whole = pref.at is not None or pref.earliest  # ranked by time: read the whole span at once
    step = timedelta(days=(last - first).days + 1 if whole else chunk_days)
    found: list[_Candidate] = []
    given = 0
    start = first
    while start <= last:
        end = min(last, start + step - timedelta(days=1))
        loads = load.by_day(session, start, end)
        found.extend(_candidates(cal, need, pref, now, active, loads, start, end))
        ranked = sorted(found, key=lambda c: c.sort_key)
        best, rest = (ranked, []) if pref.earliest else _spread(ranked)
        if end >= last:
            yield from (best + rest)[given:]
            return
        bound = (end - today).days + 1  # the least score of any later day's interval
        settled = next((i for i, c in enumerate(best) if c.sort_key[0] > bound), len(best))
        yield from best[given:settled]
        given = max(given, settled)
        start = end + timedelta(days=1)
        if not found:  # full so far: the rest of the span at once
            step = timedelta(days=max(1, (last - start).days + 1))


def _span(cal: Calendar, pref: SlotPreference, today: date, earliest: date) -> tuple[date, date]:
    """The local days an offer may fall on: from ``earliest`` (and the preference's first day)
    to the horizon, or the preferred day only.  Empty (first > last) when nothing is left."""
    last = today + timedelta(days=cal.config.horizon_days)
    if pref.on is not None:
        last = min(last, pref.on)
    return max(earliest, pref.not_before or today, pref.on or today), last


def _candidates(
    cal: Calendar,
    need: Demand,
    pref: SlotPreference,
    now: datetime,
    active: set[str],
    loads: load.DayLoads,
    first: date,
    last: date,
) -> Iterator[_Candidate]:
    """The bookable intervals of local days ``first`` to ``last`` under the day ``loads``."""
    cfg = cal.config
    earliest = now + timedelta(hours=cfg.min_lead_hours)
    today = cal.local_date(now)
    max_arr = cfg.max_arrivals_per_interval
    for day in days(first, (last - first).days + 1):
        if (pref.on and day != pref.on) or (
            pref.weekday is not None and day.weekday() != pref.weekday
        ):
            continue
        grid = cal.grid(day)
        if not grid:
            continue
        cap = cal.labour_capacity(day)
        day_load = loads.get(day, {})
        labour_used = day_load.get("labour", {}).get(labour_key(day), 0)
        if cap <= 0 or labour_used + need.labour_minutes > cap:
            continue
        bays = day_load.get("resource", {})
        if any(
            bays.get(resource_key(name, day), 0) + minutes > cal.resource_capacity(name)
            for name, minutes in need.resources
        ):
            continue
        reception = _Reception(
            [a for a in cal.advisors_on(day) if a.code in active], day_load.get("reception", {})
        )
        if not reception.advisors:
            continue
        in_use = day_load.get("arrivals", {})
        arrivals = [in_use.get(f"arr:{iso}", 0) for _, iso in grid] if in_use else [0] * len(grid)
        day_score = (day - today).days + DAY_WEIGHT * labour_used / cap
        for i, (start, iso, local, part, stamp) in enumerate(_local_grid(cal, day)):
            if start < earliest or arrivals[i] >= max_arr or not reception.any_free(iso):
                continue
            if not _wanted(pref, local):
                continue
            around = arrivals[max(0, i - 1) : i + 2]
            score = day_score + INTERVAL_WEIGHT * sum(around) / (max_arr * len(around))
            key: tuple[float, ...] = (score, stamp)
            if pref.at is not None:
                wanted = datetime.combine(day, pref.at, cal.tz).astimezone(UTC)
                key = (abs((start - wanted).total_seconds()), *key)
            if pref.earliest:
                key = (stamp,)
            yield _Candidate(key, start, day, part, iso, reception)


def _local_grid(cal: Calendar, day: date) -> tuple[tuple[datetime, str, datetime, str, float], ...]:
    """``cal.grid(day)`` with each start's local time, part of day and timestamp, kept with the
    calendar: every offer ranks the same intervals."""
    key = ("offer.local_grid", day)
    found = cal.derived.get(key)
    if found is None:
        found = tuple(
            (start, iso, local, _part(local), start.timestamp())
            for start, iso in cal.grid(day)
            for local in (start.astimezone(cal.tz),)
        )
        cal.derived[key] = found
    return found


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


def _spread(ranked: list[_Candidate]) -> tuple[list[_Candidate], list[_Candidate]]:
    """Best first, one per (day, part of day); then the rest in score order: (best, rest)."""
    seen: set[tuple[date, str]] = set()
    best: list[_Candidate] = []
    rest: list[_Candidate] = []
    for cand in ranked:
        (rest if (cand.day, cand.part) in seen else best).append(cand)
        seen.add((cand.day, cand.part))
    return best, rest
