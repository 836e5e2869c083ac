"""Deferred work: items declined or postponed at a visit, and new problems found in a repair.

An open item is due when its due-by date is within ``lead_days``; overdue items stay due until
they are done or acted on.  Safety-relevant severities come first.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from outreach.campaigns.due import DueItem, who_columns
from outreach.models import SEVERITIES, Customer, DeferredItem, OutreachReason, Vehicle, Visit
from outreach.rules import all_rules
from outreach.settings import Settings

NAME = "deferred_work"
# safety 0, high 5, then after maintenance (10): medium 20, low 40
PRIORITIES = {"safety": 0, "high": 5, "medium": 20, "low": 40}


def select_due(session: Session, settings: Settings, today: date) -> Iterator[DueItem]:
    """Open deferred items falling due within the lead window, most urgent first."""
    config = settings.campaigns.deferred_work
    if not config.enabled:
        return
    rank = case({s: n for n, s in enumerate(SEVERITIES)}, value=DeferredItem.severity)
    acted_on = select(OutreachReason.deferred_item_id).where(
        OutreachReason.deferred_item_id.is_not(None)
    )
    query = (
        select(
            *who_columns(),
            DeferredItem.id.label("item_id"),
            DeferredItem.description,
            DeferredItem.severity,
            DeferredItem.due_by,
            DeferredItem.found_during_repair,
            Visit.visited_on,
        )
        .select_from(DeferredItem)
        .join(Vehicle, Vehicle.id == DeferredItem.vehicle_id)
        .join(Customer, Customer.id == Vehicle.customer_id)
        .outerjoin(Visit, Visit.id == DeferredItem.visit_id)
        .where(
            DeferredItem.done_at.is_(None),
            DeferredItem.due_by <= today + timedelta(days=config.lead_days),
            DeferredItem.severity.in_(config.severities),
            DeferredItem.id.not_in(acted_on),
            all_rules(settings, today),
        )
        .order_by(rank, DeferredItem.due_by, DeferredItem.id)
    )
    rows = session.connection().execute(query.execution_options(yield_per=5000))
    for row in rows:
        yield DueItem(
            NAME,
            row.customer_id,
            row.customer_ref,
            row.vehicle_id,
            row.vehicle_ref,
            row.due_by,
            row.visited_on,
            PRIORITIES.get(row.severity, 40),
            row.item_id,
            (row.description, row.severity, row.found_during_repair, row.due_by < today),
        )


def facts(item: DueItem) -> dict[str, Any]:
    description, severity, found, overdue = item.details
    return {
        "description": description,
        "severity": severity,
        "due_by": item.due_on,
        "overdue": overdue,
        "found_during_repair": found,
        "visit_on": item.anchor_on,
    }


def describe(item: DueItem) -> str:
    description, severity, found, _ = item.details
    origin = "found during repair" if found else "deferred"
    since = f" at the visit on {item.anchor_on}" if item.anchor_on else ""
    return f"{severity} item {origin}{since}, due by {item.due_on}: {description}"


def subject_key(item: DueItem) -> str:
    return f"{NAME}:item:{item.deferred_item_id}"
