"""The capacity model: which days and intervals are open, and which ledger units a visit takes.

A visit arriving at ``starts_at`` for ``jobs`` takes one place of its advisor's reception in that
interval, one of the interval's arrival places, the jobs' labour minutes from the day, and each
special resource's minutes from the day.  Days and intervals are in the dealership's local time;
interval keys use the UTC instant, so a key never depends on a zone rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from outreach.capacity.config import AdvisorCapacity, CapacityConfig, JobType
from outreach.workdays import HOLIDAY, calendar_for

if TYPE_CHECKING:
    from outreach.settings import Settings  # annotations only: capacity never imports settings


class UnknownJob(ValueError):
    """A job type code that the ``[capacity]`` configuration does not define."""


class SlotUnavailable(ValueError):
    """The requested time can never be booked: closed, outside hours, off the grid, too soon."""


@dataclass(frozen=True)
class Demand:
    """What a visit needs from a day: labour minutes and minutes of each special resource."""

    jobs: tuple[JobType, ...]
    labour_minutes: int
    resources: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class UnitNeed:
    """``amount`` of ledger unit ``key``, whose capacity is ``capacity`` for this taker."""

    key: str
    kind: str
    day: date
    capacity: int
    amount: int


def demand(settings: Settings, jobs: Sequence[str]) -> Demand:
    """The labour and resource minutes of ``jobs`` (job type codes)."""
    types = settings.capacity.job_types
    if not jobs:
        raise UnknownJob("no jobs given: name at least one job type")
    unknown = [j for j in jobs if j not in types]
    if unknown:
        raise UnknownJob(f"unknown job type {unknown[0]!r}; known: {', '.join(types)}")
    chosen = tuple(types[j] for j in jobs)
    by_resource: dict[str, int] = {}
    for job in chosen:
        if job.resource:
            by_resource[job.resource] = by_resource.get(job.resource, 0) + job.labour_minutes
    return Demand(chosen, sum(j.labour_minutes for j in chosen), tuple(sorted(by_resource.items())))


_CALENDARS: dict[tuple[int, Any, str], tuple[CapacityConfig, Calendar]] = {}


def calendar(settings: Settings) -> Calendar:
    """The :class:`Calendar` of ``settings``, built once per configuration and reused.

    Its interval grid is cached per day, so the offers of every request do not recompute the
    same zone conversions.  Keyed by the (immutable) capacity configuration object.
    """
    key = (id(settings.capacity), settings.tz, settings.dealership.country)
    found = _CALENDARS.get(key)
    if found is not None and found[0] is settings.capacity:
        return found[1]
    if len(_CALENDARS) > 32:  # tests build many settings; keep the cache small
        _CALENDARS.clear()
    cal = Calendar(settings)
    _CALENDARS[key] = (settings.capacity, cal)
    return cal


class Calendar:
    """The dealership's opening calendar and capacities, read from settings."""

    def __init__(self, settings: Settings) -> None:
        self.config: CapacityConfig = settings.capacity
        self.tz = settings.tz
        self.country = settings.dealership.country
        self.workdays = calendar_for(self.country)
        self.step = timedelta(minutes=self.config.interval_minutes)
        self._grid: dict[date, tuple[tuple[datetime, str], ...]] = {}
        # What callers derive from the grid per day (see offer.py), kept as long as the calendar.
        self.derived: dict[Any, Any] = {}

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def day_start(self, day: date) -> datetime:
        """The UTC instant the local ``day`` begins."""
        return datetime.combine(day, datetime.min.time(), self.tz).astimezone(UTC)

    def weekday(self, day: date) -> int:
        """The weekday whose hours and advisors ``day`` has: a make-up working day (调休上班,
        a Saturday or Sunday worked for an official break) is worked like a Monday."""
        if self.config.public_holidays and self.workdays.day(day).make_up:
            return 0
        return day.weekday()

    def closed_reason(self, day: date) -> str | None:
        """Why the workshop is closed on ``day`` (None when open)."""
        if self.config.opening_hours.get(self.weekday(day)) is None:
            return "closed weekday"
        if day in self.config.closures:
            return "closure"
        if self.config.public_holidays:
            workday = self.workdays.day(day)
            if workday.kind == HOLIDAY:
                return f"holiday: {workday.holiday}"
        return None

    def intervals(self, day: date) -> list[datetime]:
        """The arrival interval starts of ``day`` as UTC instants (none on a closed day)."""
        return [start for start, _ in self.grid(day)]

    def grid(self, day: date) -> tuple[tuple[datetime, str], ...]:
        """``(UTC start, interval_iso(start))`` of each arrival interval of ``day``, cached."""
        found = self._grid.get(day)
        if found is None:
            found = tuple((s, interval_iso(s)) for s in self._intervals(day))
            if len(self._grid) > 1000:
                self._grid.clear()
                self.derived.clear()
            self._grid[day] = found
        return found

    def _intervals(self, day: date) -> list[datetime]:
        if self.closed_reason(day):
            return []
        opens, closes = self.config.opening_hours[self.weekday(day)]  # type: ignore[misc]
        start = datetime.combine(day, opens, self.tz)
        end = datetime.combine(day, closes, self.tz)
        out = []
        # Step in local wall time and convert each start: a DST change moves UTC, not the grid.
        at = start
        while at < end:
            out.append(at.astimezone(UTC))
            at = at + self.step
        return out

    def check_slot(self, starts_at: datetime) -> date:
        """The local day of ``starts_at``; SlotUnavailable unless it starts an arrival interval."""
        if starts_at.tzinfo is None:
            raise SlotUnavailable(f"naive starts_at {starts_at!r}: give an aware instant")
        day = self.local_date(starts_at)
        reason = self.closed_reason(day)
        if reason:
            raise SlotUnavailable(f"the workshop is closed on {day} ({reason})")
        if starts_at.astimezone(UTC) not in self.intervals(day):
            local = starts_at.astimezone(self.tz).strftime("%H:%M")
            raise SlotUnavailable(
                f"{day} {local} is not an arrival time: arrivals are on "
                f"{self.config.interval_minutes}-minute marks within opening hours"
            )
        return day

    def advisors_on(self, day: date) -> list[AdvisorCapacity]:
        weekday = self.weekday(day)
        return [a for a in self.config.advisors if weekday in a.weekdays]

    def labour_capacity(self, day: date, *, include_reserved: bool = False) -> int:
        """Bookable labour minutes of ``day``; the reserved share is kept for walk-ins."""
        c = self.config
        hours = max(0.0, c.technicians * c.hours_per_technician - c.absences.get(day, 0.0))
        share = 1.0 if include_reserved else 1.0 - c.reserved_share
        return int(hours * 60 * share + 1e-9)

    def resource_capacity(self, name: str) -> int:
        return int(self.config.resources[name] * 60 + 1e-9)

    def units(
        self,
        need: Demand,
        starts_at: datetime,
        advisor_code: str,
        *,
        include_reserved: bool = False,
    ) -> list[UnitNeed]:
        """The ledger units a visit at ``starts_at`` with ``advisor_code`` takes, sorted by key."""
        day = self.local_date(starts_at)
        advisor = next(a for a in self.config.advisors if a.code == advisor_code)
        iso = interval_iso(starts_at)
        out = [
            UnitNeed(f"rcpt:{advisor_code}:{iso}", "reception", day, advisor.cars_per_interval, 1),
            UnitNeed(f"arr:{iso}", "arrivals", day, self.config.max_arrivals_per_interval, 1),
        ]
        if need.labour_minutes:
            cap = self.labour_capacity(day, include_reserved=include_reserved)
            out.append(UnitNeed(labour_key(day), "labour", day, cap, need.labour_minutes))
        for name, minutes in need.resources:
            if minutes:
                out.append(
                    UnitNeed(
                        resource_key(name, day),
                        "resource",
                        day,
                        self.resource_capacity(name),
                        minutes,
                    )
                )
        return sorted(out, key=lambda u: u.key)

    def day_units(self, day: date) -> list[UnitNeed]:
        """Every ledger unit of ``day`` (amount 0): each interval's arrivals and each advisor
        on duty's reception, the day's labour and each special resource.  An offer creates a
        day's rows all at once, the first time it touches the day, instead of a few per offer.
        """
        out = [UnitNeed(labour_key(day), "labour", day, self.labour_capacity(day), 0)]
        out += [
            UnitNeed(resource_key(name, day), "resource", day, self.resource_capacity(name), 0)
            for name in self.config.resources
        ]
        advisors = self.advisors_on(day)
        arrivals = self.config.max_arrivals_per_interval
        for _, iso in self.grid(day):
            out.append(UnitNeed(f"arr:{iso}", "arrivals", day, arrivals, 0))
            out += [
                UnitNeed(f"rcpt:{a.code}:{iso}", "reception", day, a.cars_per_interval, 0)
                for a in advisors
            ]
        return out


def interval_iso(starts_at: datetime) -> str:
    return starts_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def reception_key(advisor_code: str, starts_at: datetime) -> str:
    return f"rcpt:{advisor_code}:{interval_iso(starts_at)}"


def arrivals_key(starts_at: datetime) -> str:
    return f"arr:{interval_iso(starts_at)}"


def labour_key(day: date) -> str:
    return f"labour:{day.isoformat()}"


def resource_key(name: str, day: date) -> str:
    return f"res:{name}:{day.isoformat()}"


def days(first: date, count: int) -> Iterable[date]:
    return (first + timedelta(days=n) for n in range(count))
