"""Handled-once bookkeeping for requests a provider may retry (Twilio's webhooks).

Each handled request leaves one :class:`WebhookEvent` row keyed by what identifies it
(``sms:<MessageSid>``, ``MessageSid:<sid>:<status>`` …) holding the answer given, so a
retried copy changes nothing and gets the same answer.  The key is stored as its SHA-256 in
hex (:func:`stored_key`): a fixed 64 characters whatever the request carried, so a long key is
never cut and a replayed copy is recognised by exactly what the first copy stored.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from outreach.db import transaction_memo
from outreach.models import ContactAttempt, WebhookEvent

_LINES = "outreach.handled_once.lines"  # transcript lines waiting for the handled-once row


def stored_key(key: str) -> str:
    """The fixed-length form ``key`` is stored and looked up by (SHA-256, hex)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def replay(session: Session, key: str) -> str | None:
    """The answer given the first time ``key`` was handled, or None if it never was."""
    return session.scalar(select(WebhookEvent.answer).where(WebhookEvent.key == stored_key(key)))


def answer_last(session: Session) -> None:
    """Say that this transaction ends with :func:`record_answer`: until then a transcript line
    written last (:func:`line_written_last`) may wait and go into the database with the
    handled-once row, in the same statement on PostgreSQL.  The entry point that calls this
    must call :func:`record_answer` before it commits (``webhooks.once`` does)."""
    transaction_memo(session)[_LINES] = []


def line_written_last(session: Session, row: dict[str, Any]) -> bool:
    """Keep the transcript line ``row`` (its columns) for :func:`record_answer` when the
    transaction ends with it (:func:`answer_last`); False when the caller must write it now."""
    waiting = transaction_memo(session).get(_LINES)
    if waiting is None:
        return False
    waiting.append(row)
    return True


def record_answer(session: Session, key: str, now: datetime, answer: str) -> None:
    """Write the handled-once row for ``key`` with its answer, last in the effect's transaction,
    with the transcript lines that waited for it (:func:`line_written_last`): on PostgreSQL a
    line and the row in one statement (``WITH line AS (INSERT …) INSERT …``).

    A copy handled concurrently blocks on (PostgreSQL) or waits behind (SQLite, BEGIN
    IMMEDIATE) this row's unique key, then fails here with IntegrityError: its whole
    transaction rolls back and it answers what :func:`replay` reads.
    """
    lines = transaction_memo(session).pop(_LINES, None) or []
    params = {"key": stored_key(key), "received_at": now, "answer": answer}
    if len(lines) == 1 and session.get_bind().dialect.name == "postgresql":
        session.execute(
            _RECORD_WITH_LINE, {**params, **{f"line_{c}": v for c, v in lines[0].items()}}
        )
        return
    for line in lines:
        session.execute(_LINE, line)
    session.execute(_RECORD, params)


# Built once (every webhook runs it): the tables' own INSERTs, the values as parameters.
_ATTEMPTS = cast(Table, ContactAttempt.__table__)
_LINE = insert(_ATTEMPTS).inline()  # inline: no RETURNING of the new ids, nobody reads them
_RECORD = insert(cast(Table, WebhookEvent.__table__)).inline()
_RECORD_WITH_LINE = _RECORD.add_cte(
    insert(_ATTEMPTS)
    .values({c.name: bindparam(f"line_{c.name}") for c in _ATTEMPTS.c if c.name != "id"})
    .cte("line")
)
