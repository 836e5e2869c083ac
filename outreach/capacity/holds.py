"""Slot holds: an offered slot kept for a customer while they answer; its units are taken."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from outreach.capacity import ledger
from outreach.capacity.model import Calendar, Demand
from outreach.models import Advisor
from outreach.models.capacity import SlotHold
from outreach.settings import Settings


def advisor_rows(session: Session, settings: Settings) -> dict[str, Advisor]:
    """The configured advisors' rows by code, created when missing; inactive ones left out."""
    codes = [a.code for a in settings.capacity.advisors]
    rows = {a.code: a for a in session.scalars(select(Advisor).where(Advisor.code.in_(codes)))}
    missing = [a for a in settings.capacity.advisors if a.code not in rows]
    if missing:
        # ON CONFLICT: two first bookings in two processes may both find an advisor missing.
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(Advisor)
            .values([{"code": a.code, "name": a.name, "active": True} for a in missing])
            .on_conflict_do_nothing(index_elements=["code"])
        )
        rows = {a.code: a for a in session.scalars(select(Advisor).where(Advisor.code.in_(codes)))}
    return {code: row for code, row in rows.items() if row.active}


def place_hold(
    session: Session,
    settings: Settings,
    *,
    need: Demand,
    starts_at: datetime,
    advisor: Advisor,
    customer_id: int | None,
    channel: str,
    now: datetime,
) -> SlotHold:
    """Hold one slot (its units taken) for the channel's hold time, or raise SlotTaken."""
    minutes = settings.capacity.hold_minutes.get(channel)
    if minutes is None:
        raise ValueError(f"hold_for must be one of {', '.join(settings.capacity.hold_minutes)}")
    with session.begin_nested():
        hold = SlotHold(
            starts_at=starts_at,
            advisor_id=advisor.id,
            customer_id=customer_id,
            jobs=",".join(j.code for j in need.jobs),
            channel=channel,
            status="held",
            expires_at=now + timedelta(minutes=minutes),
            created_at=now,
        )
        session.add(hold)
        session.flush()
        needs = Calendar(settings).units(need, starts_at, advisor.code)
        ledger.take(session, needs, hold_id=hold.id)
    return hold


def end_hold(session: Session, hold_id: int, status: str) -> bool:
    """Move a live hold to ``status`` and give its units back; False if it was not live.

    The status change is conditional, so of two processes ending the same hold one wins.
    """
    changed = session.execute(
        update(SlotHold)
        .where(SlotHold.id == hold_id, SlotHold.status == "held")
        .values(status=status)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    ledger.release(session, hold_id=hold_id)
    return True


def release_expired_holds(session: Session, now: datetime) -> int:
    """End every hold whose time has run out; returns how many were released."""
    ids = session.scalars(
        select(SlotHold.id)
        .where(SlotHold.status == "held", SlotHold.expires_at <= now)
        .order_by(SlotHold.id)
    ).all()
    released = sum(end_hold(session, i, "expired") for i in ids)
    _expire_loaded(session, ids)
    return released


def release_customer_holds(session: Session, customer_id: int, *, keep: Sequence[int] = ()) -> int:
    """Release a customer's live holds (they booked one, or declined); returns how many."""
    ids = session.scalars(
        select(SlotHold.id).where(
            SlotHold.customer_id == customer_id,
            SlotHold.status == "held",
            SlotHold.id.not_in(list(keep)) if keep else SlotHold.id.is_not(None),
        )
    ).all()
    released = sum(end_hold(session, i, "released") for i in ids)
    _expire_loaded(session, ids)
    return released


def _expire_loaded(session: Session, ids: Sequence[int]) -> None:
    # The status moved by a Core UPDATE; drop stale loaded copies so readers see it.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, SlotHold) and obj.id in ids:
            session.expire(obj)
