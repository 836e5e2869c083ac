"""The follow-up after a visit (跟踪回访): a few days after maintenance or a repair."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.campaigns.due import DueItem, who_columns
from outreach.models import Customer, Vehicle, Visit
from outreach.rules import customer_may_be_contacted, not_acted_on
from outreach.settings import Settings

NAME = "post_service_followup"
PRIORITY = 50


def select_due(session: Session, settings: Settings, today: date) -> Iterator[DueItem]:
    """Visits of the configured types that were ``after_days_min``..``max`` days ago.

    The booked-appointment rule does not apply: a customer who booked their next visit still
    gets asked how the last one went.  Consent, opt-out, cooldown and the cap do.
    """
    config = settings.campaigns.post_service_followup
    if not config.enabled:
        return
    query = (
        select(
            *who_columns(),
            Visit.visited_on,
            Visit.type,
        )
        .select_from(Visit)
        .join(Vehicle, Vehicle.id == Visit.vehicle_id)
        .join(Customer, Customer.id == Vehicle.customer_id)
        .where(
            Visit.type.in_(config.visit_types),
            Visit.visited_on >= today - timedelta(days=config.after_days_max),
            Visit.visited_on <= today - timedelta(days=config.after_days_min),
            *customer_may_be_contacted(settings, today),
            not_acted_on(NAME, Vehicle.id, Visit.visited_on),
        )
        .distinct()
        .order_by(Visit.visited_on, Vehicle.id)
    )
    rows = session.connection().execute(query.execution_options(yield_per=5000))
    for row in rows:
        yield DueItem(
            NAME,
            row.customer_id,
            row.customer_ref,
            row.vehicle_id,
            row.vehicle_ref,
            row.visited_on + timedelta(days=config.after_days_max),
            row.visited_on,
            PRIORITY,
            None,
            (row.type,),
        )


def facts(item: DueItem) -> dict[str, Any]:
    return {"visit_on": item.anchor_on, "visit_type": item.details[0]}


def describe(item: DueItem) -> str:
    return f"follow-up on the {item.details[0]} visit of {item.anchor_on}"


def subject_key(item: DueItem) -> str:
    return f"{NAME}:vehicle:{item.vehicle_id}:{item.anchor_on}"
