"""Maintenance reminders: due 3 months or 5,000 km after the last service, whichever is first.

Kilometres are not observed between visits, so today's odometer is estimated from the
vehicle's own readings: km per day from its first to its last visit with an odometer, or
``default_km_per_day`` when it has fewer than two readings on different days.  The anchor is
the last maintenance or inspection visit; vehicles that never had one are not selected here.

The whole selection is one aggregate over ``visits`` (an index-only scan of
``ix_visits_vehicle_history``).  The km test is done in whole numbers by cross-multiplying
the rate, so the 5,000 km boundary is exact.  Odometers never decrease along a vehicle's
visits (the importer refuses that), so min/max of the readings are the first and last.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import Date, and_, case, func, literal, or_
from sqlalchemy import select as sql_select
from sqlalchemy.orm import Session

from outreach.campaigns import DueItem
from outreach.db import days_between
from outreach.models import SERVICE_VISIT_TYPES, Customer, Vehicle, Visit
from outreach.rules import all_rules, not_acted_on
from outreach.settings import MaintenanceInterval, Settings

NAME = "maintenance_interval"
PRIORITY = 10


def last_service_cutoff(horizon: date, months: int) -> date:
    """The latest service date whose ``+ months`` (calendar, month-end clamped) is <= horizon.

    Adding months is monotone but not invertible at month ends (Jan 31 + 1 month = Feb 28,
    as is Jan 28 + 1 month), so subtract, then step forward while the next day still fits.
    """
    cutoff = horizon - relativedelta(months=months)
    while cutoff + timedelta(days=1) + relativedelta(months=months) <= horizon:
        cutoff += timedelta(days=1)
    return cutoff


@dataclass(slots=True)
class History:
    """One vehicle's aggregated visit history, as the query returns it."""

    last_service_on: date
    last_service_km: int | None  # odometer at the last service, if it was read then
    first_read_on: date | None
    last_read_on: date | None
    first_km: int | None
    last_km: int | None

    def km_per_day(self, default: int) -> float:
        if self.first_read_on is None or self.last_read_on is None:
            return float(default)
        span = (self.last_read_on - self.first_read_on).days
        if span <= 0:
            return float(default)
        return (self.last_km - self.first_km) / span  # type: ignore[operator]

    def estimated_km(self, on: date, default: int) -> int | None:
        if self.last_read_on is None or self.last_km is None:
            return None
        return round(self.last_km + self.km_per_day(default) * (on - self.last_read_on).days)

    def km_due_on(self, interval_km: int, default: int) -> date | None:
        """The day the estimated odometer reaches the service odometer + ``interval_km``."""
        rate = self.km_per_day(default)
        if rate <= 0:
            return None
        if self.last_service_km is not None and self.last_read_on is not None:
            remaining = self.last_service_km + interval_km - (self.last_km or 0)
            return self.last_read_on + timedelta(days=math.ceil(remaining / rate))
        return self.last_service_on + timedelta(days=math.ceil(interval_km / rate))


def history_query(config: MaintenanceInterval):
    """Per-vehicle aggregate of the visit history (a subquery)."""
    service = Visit.type.in_(SERVICE_VISIT_TYPES)
    read = Visit.odometer_km.is_not(None)
    return (
        sql_select(
            Visit.vehicle_id.label("vehicle_id"),
            func.max(case((service, Visit.visited_on))).label("last_service_on"),
            func.max(case((and_(service, read), Visit.visited_on))).label("service_read_on"),
            func.max(case((service, Visit.odometer_km))).label("service_km"),
            func.min(case((read, Visit.visited_on))).label("first_read_on"),
            func.max(case((read, Visit.visited_on))).label("last_read_on"),
            func.min(Visit.odometer_km).label("first_km"),
            func.max(Visit.odometer_km).label("last_km"),
        )
        .group_by(Visit.vehicle_id)
        .subquery("history")
    )


def select_due(session: Session, settings: Settings, today: date) -> Iterator[DueItem]:
    """Vehicles whose maintenance falls due within ``lead_days`` of ``today``."""
    config = settings.campaigns.maintenance_interval
    if not config.enabled:
        return
    horizon = today + timedelta(days=config.lead_days)
    h = history_query(config)
    horizon_sql = literal(horizon, Date)
    span = days_between(h.c.first_read_on, h.c.last_read_on)
    moved = h.c.last_km - h.c.first_km
    anchor_read = h.c.service_read_on == h.c.last_service_on
    # km still to go before the due point, and days of driving available until the horizon
    to_go_known = h.c.service_km + config.interval_km - h.c.last_km
    km_due = case(
        (
            and_(span > 0, anchor_read),
            days_between(h.c.last_read_on, horizon_sql) * moved >= to_go_known * span,
        ),
        (
            span > 0,
            days_between(h.c.last_service_on, horizon_sql) * moved >= config.interval_km * span,
        ),
        (
            anchor_read,
            days_between(h.c.last_read_on, horizon_sql) * config.default_km_per_day >= to_go_known,
        ),
        else_=days_between(h.c.last_service_on, horizon_sql) * config.default_km_per_day
        >= config.interval_km,
    )
    time_due = h.c.last_service_on <= last_service_cutoff(horizon, config.interval_months)
    query = (
        _select_columns(h)
        .where(
            h.c.last_service_on.is_not(None),
            or_(time_due, km_due),
            all_rules(settings, today),
            not_acted_on(NAME, Vehicle.id, h.c.last_service_on),
        )
    )
    add_months = _month_adder(config.interval_months)
    rows = session.connection().execute(query.execution_options(yield_per=5000))
    for row in rows:
        (customer_id, customer_ref, vehicle_id, vehicle_ref, last_service_on) = row[:5]
        service_read_on, service_km, first_read_on, last_read_on, first_km, last_km = row[5:]
        history = History(
            last_service_on,
            service_km if service_read_on == last_service_on else None,
            first_read_on,
            last_read_on,
            first_km,
            last_km,
        )
        by_time = add_months(last_service_on)
        by_km = history.km_due_on(config.interval_km, config.default_km_per_day)
        time_first = by_km is None or by_time <= by_km
        yield DueItem(
            NAME,
            customer_id,
            customer_ref,
            vehicle_id,
            vehicle_ref,
            by_time if time_first else by_km,  # type: ignore[arg-type]
            last_service_on,
            PRIORITY,
            None,
            (
                time_first,
                history.last_service_km,
                history.estimated_km(today, config.default_km_per_day),
                config.interval_months,
                config.interval_km,
            ),
        )


def _month_adder(months: int):
    """``date + months`` (calendar, month-end clamped), cached: service dates repeat a lot."""
    step = relativedelta(months=months)

    @lru_cache(maxsize=8192)
    def add(day: date) -> date:
        return day + step

    return add


def facts(item: DueItem) -> dict[str, Any]:
    time_first, service_km, estimated_km, _, _ = item.details
    return {
        "due_on": item.due_on,
        "due_by": "time" if time_first else "km",
        "last_service_on": item.anchor_on,
        "last_service_km": service_km,
        "estimated_km": estimated_km,
    }


def describe(item: DueItem) -> str:
    time_first, _, estimated, months, km = item.details
    if time_first:
        why = f"{months} months since service on {item.anchor_on}"
    else:
        why = f"{km:,} km since service"
        if estimated is not None:
            why += f" (estimated {estimated:,} km today)"
    return f"maintenance due {item.due_on}: {why}"


def subject_key(item: DueItem) -> str:
    return f"{NAME}:vehicle:{item.vehicle_id}:{item.anchor_on}"


def _select_columns(h):
    return sql_select(
        Customer.id.label("customer_id"),
        Customer.external_id.label("customer_ref"),
        Vehicle.id.label("vehicle_id"),
        Vehicle.external_id.label("vehicle_ref"),
        h.c.last_service_on,
        h.c.service_read_on,
        h.c.service_km,
        h.c.first_read_on,
        h.c.last_read_on,
        h.c.first_km,
        h.c.last_km,
    ).select_from(
        h.join(Vehicle, Vehicle.id == h.c.vehicle_id).join(
            Customer, Customer.id == Vehicle.customer_id
        )
    )
