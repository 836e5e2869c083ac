"""Campaign pacing: never invite more customers than the next days can absorb.

The budget of new offers for ``today`` is::

    free_places = sum over the next ``pacing.days`` days (today's remaining bookable
                  intervals included) of
                  min(free arrival places, free labour minutes // typical visit minutes)
    budget      = min(pacing.max_offers_per_day,
                      floor(free_places * pacing.offers_per_free_place / pacing.days))
                  - offers already opened today (local day)

never below zero.  Spreading the free places over the window, rather than offering them all
today, leaves room for tomorrow's due customers and for inbound requests.  The campaign runner
cuts its due list to the budget with :func:`cut_to_budget`; the rest wait, in due-date order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.capacity.model import Calendar
from outreach.capacity.report import day_loads
from outreach.models import Outreach

if TYPE_CHECKING:
    from outreach.settings import Settings  # annotations only: capacity never imports settings

T = TypeVar("T")

# The campaign that asks for a rating and holds no slot (campaigns.post_service_followup.NAME;
# named here, not imported: capacity is read by the settings, which the campaigns import).
FOLLOWUP = "post_service_followup"


def free_places(session: Session, settings: Settings, today: date, now: datetime) -> int:
    """Visits of typical size the next ``pacing.days`` days can still take."""
    cfg = settings.capacity
    typical = max(1, round(cfg.pacing.typical_visit_hours * 60))
    after = now + timedelta(hours=cfg.min_lead_hours)
    loads = day_loads(session, settings, today, cfg.pacing.days, after=after)
    return sum(min(d.arrivals_free, d.free_minutes // typical) for d in loads if not d.closed)


def daily_offer_budget(session: Session, settings: Settings, today: date, now: datetime) -> int:
    """How many new offers may go out today (see the module doc for the formula)."""
    p = settings.capacity.pacing
    places = free_places(session, settings, today, now)
    by_capacity = math.floor(places * p.offers_per_free_place / p.days)
    cal = Calendar(settings)
    start, end = cal.day_start(today), cal.day_start(today + timedelta(days=1))
    sent = session.scalar(
        select(func.count())
        .select_from(Outreach)
        .where(
            Outreach.opened_at >= start,
            Outreach.opened_at < end,
            Outreach.campaign != FOLLOWUP,  # a follow-up asks for a rating and holds no slot
        )
    )
    return max(0, min(p.max_offers_per_day, by_capacity) - (sent or 0))


def cut_to_budget(items: Iterable[T], budget: int) -> tuple[list[T], list[T]]:
    """(send now, wait): the ``budget`` earliest-due items, then the rest, by due date.

    Items need ``due_on`` and may have ``priority`` (lower first on the same due date).
    """

    def order(item: Any) -> tuple[Any, int]:
        return (item.due_on, getattr(item, "priority", 0))

    ordered = sorted(items, key=order)
    return ordered[:budget], ordered[budget:]
