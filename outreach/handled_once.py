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
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from outreach.models import WebhookEvent


def stored_key(key: str) -> str:
    """The fixed-length form ``key`` is stored and looked up by (SHA-256, hex)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def replay(session: Session, key: str) -> str | None:
    """The answer given the first time ``key`` was handled, or None if it never was."""
    return session.scalar(select(WebhookEvent.answer).where(WebhookEvent.key == stored_key(key)))


def record_answer(session: Session, key: str, now: datetime, answer: str) -> None:
    """Write the handled-once row for ``key`` with its answer, last in the effect's transaction.

    A copy handled concurrently blocks on (PostgreSQL) or waits behind (SQLite, BEGIN
    IMMEDIATE) this row's unique key, then fails here with IntegrityError: its whole
    transaction rolls back and it answers what :func:`replay` reads.
    """
    session.execute(_RECORD, {"key": stored_key(key), "received_at": now, "answer": answer})


# Built once (every webhook runs it): the table's own INSERT, the values as parameters.
_RECORD = insert(cast(Table, WebhookEvent.__table__))
