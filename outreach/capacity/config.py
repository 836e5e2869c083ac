"""The ``[capacity]`` configuration: opening hours, reception, workshop, job types and resources.

Capacity owns this section: :func:`parse_capacity` reads it through the shared
:class:`~outreach.config_reader.ConfigReader` when :func:`outreach.settings.parse_config` reads the
file; every mistake names the key and the expected form, like the rest of the settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from outreach.config_reader import LOCALES, ConfigError, ConfigReader

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$")


@dataclass(frozen=True)
class AdvisorCapacity:
    """An advisor who receives cars: on which weekdays, and how many cars per interval."""

    code: str
    name: str
    weekdays: frozenset[int]  # 0 = Monday
    cars_per_interval: int = 1


@dataclass(frozen=True)
class JobType:
    code: str
    description: dict[str, str]
    labour_hours: float
    price: float
    resource: str | None = None

    @property
    def labour_minutes(self) -> int:
        return round(self.labour_hours * 60)


@dataclass(frozen=True)
class Pacing:
    """How many invitations the campaigns may send per day, given free capacity."""

    max_offers_per_day: int = 40
    days: int = 7
    offers_per_free_place: float = 1.0
    typical_visit_hours: float = 1.5


def _default_hours() -> dict[int, tuple[time, time] | None]:
    week = {d: (time(8, 30), time(17, 30)) for d in range(6)}
    return {**week, 6: None}


@dataclass(frozen=True)
class CapacityConfig:
    interval_minutes: int = 15
    max_arrivals_per_interval: int = 2
    opening_hours: dict[int, tuple[time, time] | None] = field(default_factory=_default_hours)
    closures: frozenset[date] = frozenset()
    public_holidays: bool = True
    advisors: tuple[AdvisorCapacity, ...] = (
        AdvisorCapacity("A01", "王芳", frozenset(range(6))),
        AdvisorCapacity("A02", "张伟", frozenset(range(6))),
    )
    technicians: int = 6
    hours_per_technician: float = 8.0
    absences: dict[date, float] = field(default_factory=dict)  # technician hours missing
    reserved_share: float = 0.20
    job_types: dict[str, JobType] = field(
        default_factory=lambda: {
            "maintenance": JobType(
                "maintenance", {"zh-CN": "常规保养", "en": "routine maintenance"}, 1.5, 680.0
            )
        }
    )
    resources: dict[str, float] = field(default_factory=dict)  # daily hours per resource
    min_lead_hours: float = 2.0
    horizon_days: int = 14
    hold_minutes: dict[str, int] = field(default_factory=lambda: {"sms": 30, "voice": 10})
    pacing: Pacing = Pacing()


def parse_capacity(r: ConfigReader) -> CapacityConfig:
    """Validate ``[capacity]``; a missing section gives the defaults."""
    d = CapacityConfig()
    p = "capacity"
    interval = r.integer(f"{p}.interval_minutes", d.interval_minutes, minimum=5)
    if 60 % interval:
        raise ConfigError(f"{r.where}: {p}.interval_minutes must divide 60, got {interval}")
    hours = dict(d.opening_hours)
    raw_hours = r.get(f"{p}.opening_hours", None)
    if raw_hours is not None:
        if not isinstance(raw_hours, dict):
            raise ConfigError(f"{r.where}: {p}.opening_hours must be a table of weekdays")
        unknown = sorted(set(raw_hours) - set(WEEKDAYS))
        if unknown:
            raise ConfigError(
                f"{r.where}: {p}.opening_hours.{unknown[0]} is not a weekday "
                f"(use {', '.join(WEEKDAYS)})"
            )
        hours = {
            n: _hours(r, f"{p}.opening_hours.{day}", interval) for n, day in enumerate(WEEKDAYS)
        }
    closures = frozenset(
        _date(r, f"{p}.closures[{n}]", v) for n, v in enumerate(_list(r, p, "closures"))
    )
    advisors = d.advisors
    raw_advisors = _list(r, p, "advisors", None)
    if raw_advisors is not None:
        advisors = tuple(_advisor(r, f"{p}.advisors[{n}]", a) for n, a in enumerate(raw_advisors))
        codes = [a.code for a in advisors]
        if len(set(codes)) != len(codes) or not codes:
            raise ConfigError(f"{r.where}: {p}.advisors needs at least one, codes unique: {codes}")
    resources: dict[str, float] = {}
    for name in r.get(f"{p}.resources", {}) or {}:
        resources[name] = _number(r, f"{p}.resources.{name}", 0.0, minimum=0.0)
    jobs = d.job_types
    raw_jobs = _list(r, p, "job_types", None)
    if raw_jobs is not None:
        parsed = [_job(r, f"{p}.job_types[{n}]", j, resources) for n, j in enumerate(raw_jobs)]
        jobs = {j.code: j for j in parsed}
        if len(jobs) != len(parsed) or not jobs:
            raise ConfigError(f"{r.where}: {p}.job_types needs at least one, codes unique")
    absences: dict[date, float] = {}
    for n, a in enumerate(_list(r, f"{p}.workshop", "absences")):
        key = f"{p}.workshop.absences[{n}]"
        ar = _table(r, key, a)
        day = _date(ar, "date", ar.get("date"))
        absences[day] = absences.get(day, 0.0) + _number(ar, "hours", None, minimum=0.0)
    share = _number(r, f"{p}.workshop.reserved_share", d.reserved_share, minimum=0.0)
    if share >= 1:
        raise ConfigError(f"{r.where}: {p}.workshop.reserved_share must be below 1, got {share}")
    holds = {
        ch: r.integer(f"{p}.hold_minutes.{ch}", d.hold_minutes[ch], minimum=1)
        for ch in ("sms", "voice")
    }
    pc = Pacing()
    pacing = Pacing(
        max_offers_per_day=r.integer(
            f"{p}.pacing.max_offers_per_day", pc.max_offers_per_day, minimum=0
        ),
        days=r.integer(f"{p}.pacing.days", pc.days, minimum=1),
        offers_per_free_place=_number(
            r, f"{p}.pacing.offers_per_free_place", pc.offers_per_free_place, minimum=0.0
        ),
        typical_visit_hours=_number(
            r, f"{p}.pacing.typical_visit_hours", pc.typical_visit_hours, minimum=0.25
        ),
    )
    return CapacityConfig(
        interval_minutes=interval,
        max_arrivals_per_interval=r.integer(
            f"{p}.max_arrivals_per_interval", d.max_arrivals_per_interval, minimum=1
        ),
        opening_hours=hours,
        closures=closures,
        public_holidays=r.flag(f"{p}.public_holidays", d.public_holidays),
        advisors=advisors,
        technicians=r.integer(f"{p}.workshop.technicians", d.technicians, minimum=0),
        hours_per_technician=_number(
            r, f"{p}.workshop.hours_per_technician", d.hours_per_technician, minimum=0.0
        ),
        absences=absences,
        reserved_share=share,
        job_types=jobs,
        resources=resources,
        min_lead_hours=_number(r, f"{p}.min_lead_hours", d.min_lead_hours, minimum=0.0),
        horizon_days=r.integer(f"{p}.horizon_days", d.horizon_days, minimum=1),
        hold_minutes=holds,
        pacing=pacing,
    )


def _list(r: ConfigReader, prefix: str, name: str, default: Any = ()) -> Any:
    value = r.get(f"{prefix}.{name}", default)
    if value is not None and not isinstance(value, list | tuple):
        raise ConfigError(f"{r.where}: {prefix}.{name} must be a list, got {value!r}")
    return value


def _table(r: ConfigReader, key: str, value: Any) -> ConfigReader:
    return r.table(key, value)


def _number(r: ConfigReader, key: str, default: float | None, *, minimum: float) -> float:
    return r.number(key, default, minimum=minimum)


def _date(r: ConfigReader, key: str, value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise r.fail(key, "a date 'YYYY-MM-DD'", value) from None


def _hours(r: ConfigReader, key: str, interval: int) -> tuple[time, time] | None:
    value = r.text(key, "")
    if not value.strip():
        return None  # closed that weekday
    m = _HOURS.match(value.replace(" ", ""))
    try:
        opens, closes = (time.fromisoformat(f"{t:0>5}") for t in m.groups())  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        raise ConfigError(
            f"{r.where}: {key} must be 'HH:MM-HH:MM' or empty (closed), got {value!r}"
        ) from None
    if closes <= opens or opens.minute % interval or closes.minute % interval:
        raise ConfigError(
            f"{r.where}: {key} must close after it opens, on {interval}-minute marks, got {value!r}"
        )
    return opens, closes


def _advisor(r: ConfigReader, key: str, value: Any) -> AdvisorCapacity:
    ar = _table(r, key, value)
    days = ar.str_list("days", list(WEEKDAYS[:6]))
    bad = [d for d in days if d not in WEEKDAYS]
    if bad:
        raise ConfigError(
            f"{ar.where}: {ar.path('days')} has {bad[0]!r}; use {', '.join(WEEKDAYS)}"
        )
    return AdvisorCapacity(
        code=ar.text("code", None),
        name=ar.text("name", None),
        weekdays=frozenset(WEEKDAYS.index(d) for d in days),
        cars_per_interval=ar.integer("cars_per_interval", 1, minimum=1),
    )


def _job(r: ConfigReader, key: str, value: Any, resources: dict[str, float]) -> JobType:
    jr = _table(r, key, value)
    code = jr.text("code", None)
    resource = jr.text("resource", "") or None
    if resource is not None and resource not in resources:
        raise ConfigError(
            f"{jr.where}: {jr.path('resource')} {resource!r} is not in capacity.resources "
            f"({', '.join(resources) or 'none configured'})"
        )
    return JobType(
        code=code,
        description={loc: jr.text(f"description.{loc}", code) for loc in LOCALES},
        labour_hours=_number(jr, "labour_hours", None, minimum=0.0),
        price=_number(jr, "price", 0.0, minimum=0.0),
        resource=resource,
    )
