"""The provider's circuit breaker, shared by every sender through the database.

A 5xx, a timeout or a refused connection on a send or a look-up is a failure; any answer
the provider gives (a send accepted, a look-up answered) is a success.  After
:data:`FAILURES_TO_OPEN` consecutive failures, counted across all senders, the breaker
opens: nobody claims or recovers anything until ``open_until``.  Then one sender, and only
one, claims a single row as a probe (half-open) while the others keep waiting; the probe's
success closes the breaker, its failure opens it again for twice as long (up to
:data:`MAX_PAUSE_SECONDS`).  Opening and closing each log one line.

The breaker row is locked after the pacing lane in a claim and after the outbox row in a
record or a recovery, and a claim skips locked outbox rows: the lock order has no cycle.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from outreach.models.outbox import ProviderBreaker

log = logging.getLogger(__name__)

PROVIDER = "default"
FAILURES_TO_OPEN = 3
FIRST_PAUSE_SECONDS = 1.0
MAX_PAUSE_SECONDS = 60.0
# How long a probe may take before another sender may probe in its place.
PROBE_SECONDS = 30.0


@dataclass(frozen=True)
class Gate:
    """The breaker as a claim or a recovery found it."""

    failures: int = 0
    until: datetime | None = None  # open: nothing may be sent before this
    probing: bool = False  # half-open: this sender sends one row as the probe

    @property
    def blocked(self) -> bool:
        return self.until is not None

    @property
    def failing(self) -> bool:
        """Failures were counted since the last success: a success must reset them."""
        return self.failures > 0


def gate(session: Session, now: datetime, *, probe: bool = True) -> Gate:
    """Whether sending may go on at ``now``; with ``probe``, take the half-open probe if due."""
    row = session.get(ProviderBreaker, PROVIDER, populate_existing=True)
    if row is None or row.failures < FAILURES_TO_OPEN:
        return Gate(failures=row.failures if row else 0)
    if row.open_until is not None and row.open_until > now:
        return Gate(failures=row.failures, until=row.open_until)
    if not probe:
        return Gate(failures=row.failures, until=now + timedelta(seconds=PROBE_SECONDS))
    # Half-open: whoever moves open_until first probes; the others see it open.
    taken = session.execute(
        update(ProviderBreaker)
        .where(ProviderBreaker.provider == PROVIDER, ProviderBreaker.open_until == row.open_until)
        .values(open_until=now + timedelta(seconds=PROBE_SECONDS))
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return Gate(failures=row.failures, until=now + timedelta(seconds=1))
    return Gate(failures=row.failures, probing=True)


def failure(session: Session, now: datetime, why: str) -> bool:
    """Count one failure to reach the provider; returns whether the breaker is open now."""
    row = _locked(session, now)
    row.failures += 1
    if row.failures < FAILURES_TO_OPEN:
        return False
    was_open = row.failures > FAILURES_TO_OPEN
    pause = min(MAX_PAUSE_SECONDS, row.pause_seconds * 2 if was_open else FIRST_PAUSE_SECONDS)
    row.pause_seconds = pause
    row.open_until = now + timedelta(seconds=pause)
    if not was_open:
        row.opened_at = now
        log.warning(
            "provider breaker open: %d consecutive failures (last: %s); sending paused",
            row.failures,
            why[:200],
        )
    session.flush()
    return True


def success(session: Session, now: datetime) -> None:
    """The provider answered: reset the count and close the breaker if it was open."""
    row = session.get(ProviderBreaker, PROVIDER, with_for_update=True, populate_existing=True)
    if row is None or row.failures == 0:
        return
    if row.failures >= FAILURES_TO_OPEN:
        since = row.opened_at or now
        log.warning(
            "provider breaker closed: the provider answers again after %.0f s",
            (now - since).total_seconds(),
        )
    row.failures = 0
    row.pause_seconds = 0.0
    row.open_until = None
    row.opened_at = None
    session.flush()


def _locked(session: Session, now: datetime) -> ProviderBreaker:
    query = (
        select(ProviderBreaker)
        .where(ProviderBreaker.provider == PROVIDER)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row = session.scalars(query).one_or_none()
    if row is None:
        try:
            with session.begin_nested():
                session.add(ProviderBreaker(provider=PROVIDER, failures=0, pause_seconds=0.0))
        except IntegrityError:
            pass  # another sender made it first: lock theirs
        row = session.scalars(query).one()
    return row
