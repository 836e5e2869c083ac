"""Pacing and back-off: how fast the senders may send, and how long to wait after a refusal.

Global pacing across sender processes: every sender reserves its send slots from one row per
lane (``send_pacing``) in the same transaction that claims its batch.  The row holds the next
free slot; a reservation of ``n`` slots starts at ``max(next_slot_at, now)`` and moves the
row on by ``n / rate``.  This is the generic cell-rate algorithm: the senders together never
exceed the rate, idle time earns no burst, and a sender that dies only wastes its slots.
Row locking (PostgreSQL) or ``BEGIN IMMEDIATE`` (SQLite) serializes the reservations.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from outreach.models import SendPacing
from outreach.settings import Sending

DEFAULT_LANE = "default"


def reserve_slots(
    session: Session, count: int, rate_per_second: float, now: datetime, lane: str = DEFAULT_LANE
) -> list[datetime]:
    """Reserve ``count`` consecutive send times for this sender, ``1/rate`` seconds apart."""
    if count <= 0:
        return []
    gap = timedelta(seconds=1 / rate_per_second)
    start = next_free_slot(session, now, lane)
    take_slots_until(session, start + gap * count, lane)
    return [start + gap * i for i in range(count)]


def next_free_slot(session: Session, now: datetime, lane: str = DEFAULT_LANE) -> datetime:
    """Lock the lane until commit and return its first free send time (``now`` at the earliest).

    The caller then takes the slots it uses with :func:`take_slots_until`, in the same
    transaction.
    """
    row = _lock_lane(session, lane, now)
    start = max(row.next_slot_at, now)
    session.expire(row)
    return start


def take_slots_until(session: Session, until: datetime, lane: str = DEFAULT_LANE) -> None:
    """Mark every slot of the (locked) lane before ``until`` as taken."""
    session.execute(update(SendPacing).where(SendPacing.lane == lane).values(next_slot_at=until))


def _lock_lane(session: Session, lane: str, now: datetime) -> SendPacing:
    query = select(SendPacing).where(SendPacing.lane == lane).with_for_update()
    row = session.scalars(query).one_or_none()
    if row is None:
        try:
            with session.begin_nested():
                session.add(SendPacing(lane=lane, next_slot_at=now))
        except IntegrityError:
            pass  # another sender made the lane first; lock theirs
        row = session.scalars(query.execution_options(populate_existing=True)).one()
    return row


def backoff_delay(attempts: int, sending: Sending, rng: random.Random | None = None) -> timedelta:
    """How long to wait after the ``attempts``-th refused try: exponential, with jitter.

    "Equal jitter": half the exponential delay is kept, the other half drawn at random, so
    senders that were refused together (a 429 burst) do not all come back at once.
    """
    rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
    ceiling = min(sending.backoff_max_seconds, sending.backoff_base_seconds * 2 ** (attempts - 1))
    return timedelta(seconds=ceiling / 2 + rng.uniform(0, ceiling / 2))
