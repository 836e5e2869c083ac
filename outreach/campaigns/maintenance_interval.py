"""Maintenance reminders: due 3 months or 5,000 km after the last service, whichever is first.

Kilometres are not observed between visits, so today's odometer is estimated from the
vehicle's own readings: km per day from its first to its last visit with an odometer, or
``default_km_per_day`` when it has fewer than two readings on different days.  The anchor is
the last maintenance or inspection visit; vehicles that never had one are not selected here.

The selection reads one ``vehicle_history`` row per vehicle (see :mod:`outreach.history`).
The km test is done in whole numbers by cross-multiplying the rate, so the 5,000 km boundary
is exact; the same arithmetic in Python then gives the due date of each selected vehicle.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import Date, and_, case, literal, or_, select
from sqlalchemy.orm import Session

from outreach.campaigns.due import DueItem, who_columns
from outreach.db import days_between
from outreach.models import Customer, Vehicle, VehicleHistory
from outreach.rules import all_rules, not_acted_on
from outreach.settings import Settings

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


def select_due(session: Session, settings: Settings, today: date) -> Iterator[DueItem]:
    """Vehicles whose maintenance falls due within ``lead_days`` of ``today``."""
    config = settings.campaigns.maintenance_interval
    if not config.enabled:
        return
    interval_km, default_rate = config.interval_km, config.default_km_per_day
    horizon = today + timedelta(days=config.lead_days)
    h = VehicleHistory
    horizon_sql = literal(horizon, Date)
    span = days_between(h.first_read_on, h.last_read_on)
    moved = h.last_km - h.first_km
    to_go = h.service_km + interval_km - h.last_km  # km left at the last reading
    km_due = case(
        (and_(span > 0, h.service_km.is_not(None)),
         days_between(h.last_read_on, horizon_sql) * moved >= to_go * span),
        (span > 0, days_between(h.last_service_on, horizon_sql) * moved >= interval_km * span),
        (h.service_km.is_not(None),
         days_between(h.last_read_on, horizon_sql) * default_rate >= to_go),
        else_=days_between(h.last_service_on, horizon_sql) * default_rate >= interval_km,
    )  # fmt: skip
    time_due = h.last_service_on <= last_service_cutoff(horizon, config.interval_months)
    query = (
        select(
            *who_columns(),
            h.last_service_on,
            h.service_km,
            h.first_read_on,
            h.last_read_on,
            h.first_km,
            h.last_km,
        )
        .select_from(h)
        .join(Vehicle, Vehicle.id == h.vehicle_id)
        .join(Customer, Customer.id == Vehicle.customer_id)
        .where(
            h.last_service_on.is_not(None),
            or_(time_due, km_due),
            all_rules(settings, today),
            not_acted_on(NAME, Vehicle.id, h.last_service_on),
        )
    )
    add_months = _month_adder(config.interval_months)
    details_tail = (config.interval_months, interval_km)
    rows: Iterable[Any] = session.connection().execute(query.execution_options(yield_per=5000))
    for cid, cref, vid, vref, serviced, service_km, first_on, last_on, first_km, last_km in rows:
        # km per day from the vehicle's own readings, else the default
        if first_on is not None and last_on > first_on:
            rate = (last_km - first_km) / (last_on - first_on).days
        else:
            rate = default_rate
        estimated = None if last_on is None else round(last_km + rate * (today - last_on).days)
        if rate <= 0:
            by_km = None
        elif service_km is not None:
            to_go_km = service_km + interval_km - last_km
            by_km = last_on + timedelta(days=math.ceil(to_go_km / rate))
        else:
            by_km = serviced + timedelta(days=math.ceil(interval_km / rate))
        by_time = add_months(serviced)
        time_first = by_km is None or by_time <= by_km
        due_on = by_time if time_first or by_km is None else by_km
        yield DueItem(
            NAME,
            cid,
            cref,
            vid,
            vref,
            due_on,
            serviced,
            PRIORITY,
            None,
            (time_first, service_km, estimated, due_on < today, *details_tail),
        )


def _month_adder(months: int):
    """``date + months`` (calendar, month-end clamped), cached: service dates repeat a lot."""
    step = relativedelta(months=months)

    @lru_cache(maxsize=8192)
    def add(day: date) -> date:
        return day + step

    return add


def facts(item: DueItem) -> dict[str, Any]:
    time_first, service_km, estimated_km, overdue, _, _ = item.details
    return {
        "due_on": item.due_on,
        "overdue": overdue,
        "due_by": "time" if time_first else "km",
        "last_service_on": item.anchor_on,
        "last_service_km": service_km,
        "estimated_km": estimated_km,
    }


def describe(item: DueItem) -> str:
    time_first, _, estimated, _, months, km = item.details
    if time_first:
        why = f"{months} months since service on {item.anchor_on}"
    else:
        why = f"{km:,} km since service"
        if estimated is not None:
            why += f" (estimated {estimated:,} km today)"
    return f"maintenance due {item.due_on}: {why}"


def subject_key(item: DueItem) -> str:
    return f"{NAME}:vehicle:{item.vehicle_id}:{item.anchor_on}"
