"""Seasonal maintenance: campaign windows the dealership defines (pre-summer A/C, pre-winter …).

While a window is open, each customer with a qualifying vehicle is due once per window
(the window's start date anchors the reason); the customer's newest qualifying vehicle is named.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.campaigns.due import DueItem, who_columns
from outreach.models import Customer, OutreachReason, Vehicle
from outreach.rules import all_rules
from outreach.settings import SeasonalWindow, Settings

NAME = "seasonal"
PRIORITY = 30


def select_due(session: Session, settings: Settings, today: date) -> Iterator[DueItem]:
    """Customers with a qualifying vehicle, once for each seasonal window open today."""
    config = settings.campaigns.seasonal
    if not config.enabled:
        return
    for window in config.windows:
        open_dates = occurrence(window, today)
        if open_dates is None:
            continue
        yield from _select_window(session, settings, today, window, *open_dates)


def occurrence(window: SeasonalWindow, today: date) -> tuple[date, date] | None:
    """The window's (start, end) dates that contain ``today``, or None."""
    for year in (today.year - 1, today.year):
        start = _month_day(year, window.start)
        end_year = year if window.end >= window.start else year + 1
        end = _month_day(end_year, window.end)
        if start <= today <= end:
            return start, end
    return None


def _month_day(year: int, month_day: tuple[int, int]) -> date:
    """That month-day in ``year``; 29 February is the 28th in a common year."""
    month, day = month_day
    if (month, day) == (2, 29) and not calendar.isleap(year):
        day = 28
    return date(year, month, day)


def _select_window(
    session: Session,
    settings: Settings,
    today: date,
    window: SeasonalWindow,
    start: date,
    end: date,
) -> Iterator[DueItem]:
    # the subject keys this window's reasons get (see subject_key below)
    prefix = f"{NAME}:{window.name}:{start}:"
    contacted = select(OutreachReason.customer_id).where(
        OutreachReason.campaign == NAME, OutreachReason.subject_key.startswith(prefix)
    )
    conditions = [all_rules(settings, today), Customer.id.not_in(contacted)]
    if window.min_vehicle_age_years:
        conditions.append(Vehicle.model_year <= today.year - window.min_vehicle_age_years)
    # Ordered by customer, newest vehicle first: the first row of each customer is theirs.
    query = (
        select(*who_columns())
        .select_from(Customer)
        .join(Vehicle, Vehicle.customer_id == Customer.id)
        .where(*conditions)
        .order_by(Customer.id, Vehicle.id.desc())
    )
    previous = None
    details = (window,)
    rows = session.connection().execute(query.execution_options(yield_per=5000))
    for customer_id, customer_ref, vehicle_id, vehicle_ref in rows:
        if customer_id == previous:
            continue
        previous = customer_id
        yield DueItem(
            NAME,
            customer_id,
            customer_ref,
            vehicle_id,
            vehicle_ref,
            end,
            start,
            PRIORITY,
            None,
            details,
        )


def facts(item: DueItem) -> dict[str, Any]:
    (window,) = item.details
    return {"window": window.name, "title": window.title, "ends_on": item.due_on}


def describe(item: DueItem) -> str:
    (window,) = item.details
    title = window.title.get("en", window.name)
    return f"seasonal {title}, {item.anchor_on} to {item.due_on}"


def subject_key(item: DueItem) -> str:
    (window,) = item.details
    return f"{NAME}:{window.name}:{item.anchor_on}:customer:{item.customer_id}"
