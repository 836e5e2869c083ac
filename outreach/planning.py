"""Planning: turn due items into outreach, one per customer, merging every reason they are due."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from outreach.campaigns import DueItem, iter_due
from outreach.models import Customer, Outreach, OutreachReason
from outreach.settings import Settings


@dataclass(frozen=True)
class DueContact:
    """A customer to contact once, for every reason they are due (most urgent first)."""

    customer_id: int
    items: tuple[DueItem, ...]

    @property
    def lead(self) -> DueItem:
        return self.items[0]

    @property
    def due_on(self) -> date:
        return min(i.due_on for i in self.items)


def merge(items: Iterable[DueItem]) -> list[DueContact]:
    """Group due items by customer, ordered by due date then urgency."""
    by_customer: dict[int, list[DueItem]] = {}
    for item in items:
        by_customer.setdefault(item.customer_id, []).append(item)
    contacts = [
        DueContact(cid, tuple(sorted(group, key=lambda i: (i.priority, i.due_on))))
        for cid, group in by_customer.items()
    ]
    contacts.sort(key=lambda c: (c.due_on, c.lead.priority, c.customer_id))
    return contacts


def plan_outreach(
    session: Session,
    settings: Settings,
    *,
    today: date,
    now: datetime,
    limit: int | None = None,
    campaigns: Iterable[str] | None = None,
) -> list[Outreach]:
    """Create planned outreach for the ``limit`` customers who are due soonest.

    The rest wait for a later day in due-date order (pacing by workshop capacity sets
    ``limit``).  Each outreach is written under a savepoint: if another process planned the
    same customer or reason first, the unique indexes refuse the copy and it is skipped.
    """
    contacts = merge(iter_due(session, settings, today, campaigns))
    planned: list[Outreach] = []
    for contact in contacts:
        if limit is not None and len(planned) >= limit:
            break
        outreach = _plan_one(session, contact, today)
        if outreach is not None:
            planned.append(outreach)
    return planned


def _plan_one(session: Session, contact: DueContact, today: date) -> Outreach | None:
    customer = session.get(Customer, contact.customer_id)
    assert customer is not None  # noqa: S101 - selected from the same database a moment ago
    lead = contact.lead
    outreach = Outreach(
        customer_id=customer.id,
        vehicle_id=lead.vehicle_id,
        status="planned",
        channel=customer.only_channel or customer.preferred_channel,
        campaign=lead.campaign,
        planned_on=today,
        context={},
    )
    outreach.reasons = [
        OutreachReason(
            customer_id=customer.id,
            vehicle_id=item.vehicle_id,
            deferred_item_id=item.deferred_item_id,
            campaign=item.campaign,
            subject_key=item.subject_key,
            anchor_on=item.anchor_on,
            due_on=item.due_on,
            priority=item.priority,
            reason=item.reason,
            facts=item.as_json()["facts"],
        )
        for item in contact.items
    ]
    return outreach if add_outreach(session, outreach) else None


def add_outreach(session: Session, outreach: Outreach) -> bool:
    """Write a new outreach and its reasons under a savepoint; False if it was refused.

    The unique indexes refuse a second open outreach for the customer and a reason already
    acted on, so two processes planning at once write it once; the loser's savepoint is
    rolled back and the caller's transaction goes on.
    """
    try:
        with session.begin_nested():
            session.add(outreach)
    except IntegrityError:
        return False
    return True
