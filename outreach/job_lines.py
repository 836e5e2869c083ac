"""Job lines: the deferred items an offer named, written on the appointment when it is booked.

An offer that says "蓄电池电量偏低，入冬前建议更换" books a visit (the capacity jobs reserve
labour); the item itself becomes a job line of the appointment, with its price, so the board and
the confirmation tell parts staff and the customer what the visit is for.  The bot and the desk
both call :func:`record_job_lines` right after booking.

A line's price is that of the configured job type doing the work (``[job_words]`` of the
lexicon: words of the item's description → job code); an item no job type covers is "to be
quoted" (price None).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach import lexicon
from outreach.models import Appointment, AppointmentJobLine, DeferredItem, Outreach
from outreach.settings import Settings


def price_for(settings: Settings, description: str) -> float | None:
    """The price of the configured job type that does the work described, or None."""
    text = description.lower()
    job_types = settings.capacity.job_types
    for code, words in lexicon.grouped("job_words").items():
        if code in job_types and words.search(text):
            return float(job_types[code].price)
    return None


def offered_items(session: Session, outreach: Outreach | None) -> list[DeferredItem]:
    """The open deferred items the outreach's offer named (its deferred-work reasons)."""
    if outreach is None:
        return []
    ids = [r.deferred_item_id for r in outreach.reasons if r.deferred_item_id is not None]
    if not ids:
        return []
    items = session.scalars(
        select(DeferredItem)
        .where(DeferredItem.id.in_(ids), DeferredItem.done_at.is_(None))
        .order_by(DeferredItem.due_by, DeferredItem.id)
    ).all()
    return list(items)


def record_job_lines(
    session: Session,
    settings: Settings,
    appointment: Appointment,
    items: Iterable[DeferredItem],
) -> list[AppointmentJobLine]:
    """Write each item as a job line of ``appointment`` (once per item; a second call for the
    same booking adds nothing).  Returns the appointment's lines."""
    have = {line.deferred_item_id for line in appointment.job_lines}
    for item in items:
        if item.id in have:
            continue
        appointment.job_lines.append(
            AppointmentJobLine(
                deferred_item_id=item.id,
                description=item.description,
                price=price_for(settings, item.description),
            )
        )
        have.add(item.id)
    session.flush()
    return list(appointment.job_lines)
