"""Handled-once bookkeeping for requests a provider may retry (Twilio's webhooks).

Each handled request leaves one :class:`WebhookEvent` row keyed by what identifies it
(``sms:<MessageSid>``, ``MessageSid:<sid>:<status>`` …) holding the answer given, so a
retried copy changes nothing and gets the same answer.  The key is stored as its SHA-256 in
hex (:func:`stored_key`): a fixed 64 characters whatever the request carried, so a long key is
never cut and a replayed copy is recognised by exactly what the first copy stored.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Insert, Table, Update, event, insert, select
from sqlalchemy.orm import Session

from outreach.db import transaction_memo
from outreach.models import WebhookEvent

_WAITING = "outreach.handled_once.waiting"  # writes waiting for the handled-once row


def stored_key(key: str) -> str:
    """The fixed-length form ``key`` is stored and looked up by (SHA-256, hex)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def replay(session: Session, key: str) -> str | None:
    """The answer given the first time ``key`` was handled, or None if it never was."""
    return session.scalar(select(WebhookEvent.answer).where(WebhookEvent.key == stored_key(key)))


def answer_last(session: Session) -> None:
    """Say that this transaction ends with :func:`record_answer`: until then a write that
    nothing in the transaction reads or changes again (:func:`written_last`: the reply's
    transcript line, the conversation's row) may wait and go into the database with the
    handled-once row, in the same statement on PostgreSQL.  The entry point that calls this
    must call :func:`record_answer` before it commits (``webhooks.once`` does)."""
    transaction_memo(session)[_WAITING] = []


def written_last(session: Session, statement: Insert | Update, params: dict[str, Any]) -> bool:
    """Keep ``statement`` (a Core INSERT or UPDATE built once, with parameter names of its
    own) and its ``params`` for :func:`record_answer` when the transaction ends with it
    (:func:`answer_last`); False when the caller must execute it now."""
    waiting = transaction_memo(session).get(_WAITING)
    if waiting is None:
        return False
    waiting.append((statement, params))
    return True


def write_waiting(session: Session) -> None:
    """Write now what waited for the handled-once row: for an effect that reads or changes
    those rows after the conversation answered (a pushed reply's answer is queued in the
    outbox for the conversation as it now stands)."""
    waiting = transaction_memo(session).get(_WAITING)
    while waiting:
        statement, params = waiting.pop(0)
        session.execute(statement, params)


def record_answer(session: Session, key: str, now: datetime, answer: str) -> None:
    """Write the handled-once row for ``key`` with its answer, last in the effect's transaction,
    with the writes that waited for it (:func:`written_last`): on PostgreSQL all in one
    statement (``WITH w0 AS (UPDATE …), w1 AS (INSERT …) INSERT …``), elsewhere in turn.

    A copy handled concurrently blocks on (PostgreSQL) or waits behind (SQLite, BEGIN
    IMMEDIATE) this row's unique key, then fails here with IntegrityError: its whole
    transaction rolls back and it answers what :func:`replay` reads.
    """
    waiting: list[tuple[Insert | Update, dict[str, Any]]] = (
        transaction_memo(session).pop(_WAITING, None) or []
    )
    params = {"key": stored_key(key), "received_at": now, "answer": answer}
    if waiting and session.get_bind().dialect.name == "postgresql":
        for _, more in waiting:
            params.update(more)
        session.execute(_with_writes(tuple(statement for statement, _ in waiting)), params)
        return
    for statement, more in waiting:
        session.execute(statement, more)
    session.execute(_RECORD, params)


class WritesLost(RuntimeError):
    """A transaction that held writes back for the handled-once row ended without it."""


@event.listens_for(Session, "before_commit")
def _nothing_held_back(session: Session) -> None:
    """A commit with writes still waiting for :func:`record_answer` would lose them: refused,
    loudly (the transaction rolls back), never silently."""
    if session.in_nested_transaction() or session.get_transaction() is None:
        return  # a savepoint's release: the outer transaction still ends with the row
    if transaction_memo(session).get(_WAITING):
        raise WritesLost("writes held back for the handled-once row were never written")


@functools.cache
def _with_writes(statements: tuple[Insert | Update, ...]) -> Insert:
    # One per combination of waiting statements (each built once by its module): a handful.
    return _RECORD.add_cte(*(s.cte(f"w{n}") for n, s in enumerate(statements)))


# Built once (every webhook runs it): the table's own INSERT, the values as parameters, and no
# RETURNING of the new id (nobody reads it).
_RECORD = insert(cast(Table, WebhookEvent.__table__)).inline()
