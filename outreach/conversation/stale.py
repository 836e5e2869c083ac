"""Closing conversations nobody came back to.

A customer who texts "预约" and never answers the question that follows would otherwise keep an
open outreach forever — and an open outreach blocks every campaign for that customer (one open
conversation per customer).  :func:`close_stale` closes open conversations with no activity for
``[conversation] stale_after_hours`` and lets their held slots go.  Activity is anything in the
audit trail (either direction, queued messages included); a conversation with a message still
waiting in the outbox is not stale, so escalation's next step is never cut short.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.conversation import slots
from outreach.conversation.state import close
from outreach.models import ContactAttempt, OutboxMessage, Outreach
from outreach.settings import Settings

_WAITING = ("queued", "sending")


def close_stale(session: Session, settings: Settings, now: datetime) -> list[int]:
    """Close open conversations idle for the configured time; return their ids (never commits)."""
    hours = settings.conversation.stale_after_hours
    cutoff = now - timedelta(hours=hours)
    last_attempt = (
        select(func.max(ContactAttempt.at))
        .where(ContactAttempt.outreach_id == Outreach.id)
        .scalar_subquery()
    )
    waiting = (
        select(OutboxMessage.id)
        .where(OutboxMessage.outreach_id == Outreach.id, OutboxMessage.status.in_(_WAITING))
        .exists()
    )
    stale = session.scalars(
        select(Outreach)
        .where(
            Outreach.status == "open",
            func.coalesce(last_attempt, Outreach.opened_at, Outreach.created_at) < cutoff,
            ~waiting,
        )
        .order_by(Outreach.id)
    ).all()
    for outreach in stale:
        slots.release(session, outreach.customer_id)
        close(outreach, status="closed", outcome=f"no activity for {hours} h", now=now)
    session.flush()
    return [o.id for o in stale]
