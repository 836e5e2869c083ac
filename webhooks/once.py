"""Handle a webhook once: the effect, its handled-once row and the answer in one transaction.

Twilio retries a webhook it got no answer to, and the signature has no timestamp, so a copy can
be replayed at any time: the second copy answers what the first answered and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from desk.context import now, sessions
from outreach.db import RETRY_ATTEMPTS, is_transient, retry_pause
from outreach.handled_once import answer_last, record_answer, replay

log = logging.getLogger(__name__)


def answer_once(
    key: str,
    effect: Callable[[Session, datetime], str],
    fallback: Callable[[Session, datetime, Exception], str] | None = None,
) -> str:
    """Run ``effect`` once per ``key`` and return its answer; a duplicate gets the same answer.

    When the effect fails, its work is rolled back and ``fallback`` runs in a fresh
    transaction (queue the customer for an advisor, answer politely); without a fallback the
    error propagates so Twilio retries.
    """
    at = now()
    with sessions()() as session:
        try:
            return _claim_and_run_with_retries(session, key, at, effect)
        except IntegrityError as exc:
            # A copy committed first, earlier or concurrently (its row holds the answer) — or
            # the effect itself broke a constraint, which is a failure like any other.
            with session.begin():
                stored = replay(session, key)
            if stored is not None:
                return stored
            failure: Exception = exc
        except Exception as exc:  # the customer gets a polite answer whatever broke
            failure = exc
        log.error("webhook %s failed: %s", key, failure, exc_info=failure)
        if fallback is None:
            raise failure
        with session.begin():
            stored = replay(session, key)
            if stored is not None:
                return stored
            answer = fallback(session, at, failure)
            record_answer(session, key, at, answer)
            return answer


def _claim_and_run_with_retries(
    session: Session, key: str, at: datetime, effect: Callable[[Session, datetime], str]
) -> str:
    """:func:`_claim_and_run`, again when a transient failure aborted it (bounded).

    A deadlock or serialization failure (a booking racing another), SQLite's "database is
    locked", or a pooled connection the server dropped: nothing was written (the pool has
    replaced a lost connection), so the request runs again from the start.
    """
    for attempt in range(1, RETRY_ATTEMPTS + 1):
        try:
            return _claim_and_run(session, key, at, effect)
        except DBAPIError as exc:
            if attempt == RETRY_ATTEMPTS or not is_transient(exc):
                raise  # a duplicate (IntegrityError) is never transient: the caller replays
            log.warning(
                "webhook %s: %s, attempt %d, retrying", key, type(exc.orig).__name__, attempt
            )
            retry_pause(attempt)
    raise AssertionError("unreachable")


def _claim_and_run(
    session: Session, key: str, at: datetime, effect: Callable[[Session, datetime], str]
) -> str:
    with session.begin():
        # No look-up first, and the handled-once row goes in last with the answer: a copy
        # handled before or meanwhile makes that insert fail on the unique key, this whole
        # transaction rolls back, and the caller answers what the first copy answered
        # (retries are rare; every request pays one insert and nothing more).  A transcript
        # line the effect writes last goes into the database with that row.
        answer_last(session)
        answer = effect(session, at)
        record_answer(session, key, at, answer)
        return answer
