"""The sender's loop: claim a batch, wait for each slot, send, record; until nothing is due.

Accepted sends are recorded in groups (every :data:`FLUSH_ROWS` rows or
:data:`FLUSH_SECONDS`, and before any wait longer than that), everything else one by one.
Before each send the sender checks that its claim still holds (:func:`claim.send_by`) and
that the customer's contact window is open at that very moment; if not, the row goes back
unsent.  When the provider's breaker opens, the rest of the batch goes back and the loop
returns.  A lost database connection while recording is retried with back-off: the
outcome is held in memory meanwhile, and if the database stays away, recovery settles the
rows after their lease by asking the provider.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from outreach.contact_window import next_allowed, public_holidays
from outreach.db import is_transient, transaction
from outreach.gateway import Gateway
from outreach.outbox import breaker
from outreach.outbox.claim import Batch, Claim, release, send_by, take_batch
from outreach.outbox.record import Hooks, record, record_sent
from outreach.outbox.sending import OUTAGE, Outcome, send
from outreach.settings import Settings
from outreach.workdays import WorkCalendar

log = logging.getLogger(__name__)
T = TypeVar("T")

FLUSH_ROWS = 20
FLUSH_SECONDS = 0.25
# Waits between tries of a record whose database connection was lost (about 30 s in all).
DB_RETRY_SECONDS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)


@dataclass
class DispatchStats:
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    paused_until: datetime | None = None  # the provider's breaker is open until then

    def add(self, status: str, count: int = 1) -> None:
        if count:
            self.outcomes[status] = self.outcomes.get(status, 0) + count


@dataclass
class _Sender:
    sessions: sessionmaker[Session]
    gateway: Gateway
    settings: Settings
    clock: Callable[[], datetime]
    sleep: Callable[[float], None]
    hooks: Hooks
    rng: random.Random | None
    holidays: WorkCalendar
    stats: DispatchStats
    failing: bool = False  # breaker failures were counted: the next success resets them
    accepted: list[tuple[Claim, Outcome]] = field(default_factory=list)
    flushed_at: datetime | None = None

    def in_transaction(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a transaction; a lost connection is retried with back-off."""
        for attempt, pause in enumerate((*DB_RETRY_SECONDS, None), start=1):
            try:
                with transaction(self.sessions) as session:
                    return work(session)
            except DBAPIError as exc:
                if pause is None or not is_transient(exc):
                    raise
                if attempt == 1:
                    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else exc
                    log.warning("outbox: database unavailable (%s); retrying", reason)
                self.sleep(pause)
        raise AssertionError("unreachable")

    def flush(self) -> None:
        if self.accepted:
            group, self.accepted = self.accepted, []
            done = self.in_transaction(
                lambda s: record_sent(s, self.settings, group, now=self.clock(), hooks=self.hooks)
            )
            self.stats.add("sent", done)
        self.flushed_at = self.clock()

    def record_one(self, claim: Claim, outcome: Outcome) -> bool:
        """Record one outcome; returns whether the provider's breaker is open now."""

        def work(session: Session) -> tuple[str, bool]:
            now = self.clock()
            status = record(
                session, self.settings, claim, outcome, now=now, hooks=self.hooks, rng=self.rng
            )
            if outcome.kind in OUTAGE:
                return status, breaker.gate(session, now, probe=False).blocked
            if self.failing:
                breaker.success(session, now)
            return status, False

        status, blocked = self.in_transaction(work)
        self.failing = outcome.kind in OUTAGE
        self.stats.add(status)
        return blocked

    def give_back(self, claims: list[Claim], until: datetime, reason: str) -> None:
        def work(session: Session) -> int:
            return sum(release(session, c, next_attempt_at=until, reason=reason) for c in claims)

        self.stats.add("released", self.in_transaction(work))

    def run_batch(self, batch: Batch) -> None:
        self.failing = batch.gate.failing
        claims = batch.claims
        for index, claim in enumerate(claims):
            wait = (claim.send_at - self.clock()).total_seconds()
            if wait > FLUSH_SECONDS:
                self.flush()
            if wait > 0:
                self.sleep(wait)
            now = self.clock()
            if now > send_by(claim, self.settings.sending):
                self.flush()
                self.give_back([claim], now, "the claim's lease ran short before its slot")
                continue
            opens = next_allowed(
                now,
                claim.timezone,
                self.settings.contact_window,
                self.holidays,
            )
            answering = claim.answers_until is not None and now <= claim.answers_until
            if opens > now and not answering:
                self.flush()
                self.give_back([claim], opens, "the contact window closed before its slot")
                continue
            outcome = send(self.gateway, claim, self.settings)
            if outcome.kind == "sent" and not self.failing:
                self.accepted.append((claim, outcome))
                since = (self.clock() - (self.flushed_at or now)).total_seconds()
                if len(self.accepted) >= FLUSH_ROWS or since >= FLUSH_SECONDS:
                    self.flush()
                continue
            self.flush()
            if self.record_one(claim, outcome):
                rest = claims[index + 1 :]
                gate = self.in_transaction(lambda s: breaker.gate(s, self.clock(), probe=False))
                until = gate.until or self.clock()
                self.give_back(rest, until, "the provider's breaker opened")
                self.stats.paused_until = until
                return
        self.flush()


def dispatch(
    sessions: sessionmaker[Session],
    gateway: Gateway,
    settings: Settings,
    *,
    worker: str,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
    hooks: Hooks,
    rng: random.Random | None = None,
    max_batches: int | None = None,
) -> DispatchStats:
    """Drain what may be sent now: claim, wait for each slot, send, record; until none is due.

    Returns early while the provider's breaker is open (``paused_until``).  ``clock`` and
    ``sleep`` are injected so tests run on a controlled clock without waiting.
    """
    stats = DispatchStats()
    holidays = public_holidays(settings)
    sender = _Sender(sessions, gateway, settings, clock, sleep, hooks, rng, holidays, stats)
    batches = 0
    while max_batches is None or batches < max_batches:
        with transaction(sessions) as session:
            batch = take_batch(session, settings, worker=worker, now=clock(), holidays=holidays)
        if not batch.claims:
            if batch.settled:
                continue  # every row looked at went back to wait: look at the next ones
            if batch.resume_at is None:
                break
            if batch.gate.blocked:
                stats.paused_until = batch.resume_at
                break
            sleep(max((batch.resume_at - clock()).total_seconds(), 0.001))
            continue
        batches += 1
        stats.claimed += len(batch.claims)
        sender.run_batch(batch)
        if stats.paused_until is not None:
            break
    return stats
