"""The sandbox gateway: records every outbound message and call, sends nothing anywhere.

The default without Twilio credentials, so a demo, the tests and a dealer trying the product
see exactly what would have gone out (the ``sandbox_messages`` table).  Each send is recorded
in its own short transaction: the outbox calls a gateway with no transaction open.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from outreach.gateway import SendResult
from outreach.models import SandboxMessage

# The account the sandbox pretends to be: webhook requests must carry it as AccountSid.
SANDBOX_ACCOUNT_SID = "AC" + "0" * 32


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SandboxGateway:
    """A Gateway that writes :class:`SandboxMessage` rows instead of calling a provider."""

    name = "sandbox"

    def __init__(
        self,
        sessions: sessionmaker[Session] | Session,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        # A sessionmaker: each send commits on its own.  A Session: sends join its
        # transaction (the caller commits), for tests and one-transaction scripts.
        self.sessions = sessions
        self.clock = clock

    def _record(self, prefix: str, kind: str, to: str, body: str, **extra: object) -> SendResult:
        sid = prefix + uuid.uuid4().hex
        row = SandboxMessage(sid=sid, kind=kind, to=to, body=body, created_at=self.clock(), **extra)
        if isinstance(self.sessions, Session):
            self.sessions.add(row)
            self.sessions.flush()
        else:
            with self.sessions() as session, session.begin():
                session.add(row)
        return SendResult(sid=sid, status="queued")

    def send_sms(
        self, to: str, body: str, *, status_callback: str | None, validity_seconds: int | None
    ) -> SendResult:
        """Record the message as Twilio would have queued it."""
        return self._record(
            "SM",
            "sms",
            to,
            body,
            status_callback=status_callback,
            validity_seconds=validity_seconds,
        )

    def place_call(self, to: str, *, answer_url: str, status_callback: str | None) -> SendResult:
        """Record the call; its body is the answer URL the call would fetch."""
        return self._record("CA", "voice", to, answer_url, status_callback=status_callback)

    def find_sent(self, to: str, body: str, since: datetime) -> SendResult | None:
        """The recorded message to ``to`` with ``body`` at or after ``since``."""
        if isinstance(self.sessions, Session):
            return _find(self.sessions, to, body, since)
        with self.sessions() as session:
            return _find(session, to, body, since)


def _find(session: Session, to: str, body: str, since: datetime) -> SendResult | None:
    row = session.scalars(
        select(SandboxMessage)
        .where(
            SandboxMessage.kind == "sms",
            SandboxMessage.to == to,
            SandboxMessage.body == body,
            SandboxMessage.created_at >= since,
        )
        .order_by(SandboxMessage.id)
        .limit(1)
    ).first()
    return SendResult(sid=row.sid, status="queued") if row else None


def sandbox_outbox(
    session: Session, *, to: str | None = None, limit: int = 50
) -> list[SandboxMessage]:
    """The latest recorded messages (newest first), optionally to one number."""
    query = select(SandboxMessage).order_by(SandboxMessage.id.desc()).limit(limit)
    if to:
        query = query.where(SandboxMessage.to == to)
    return list(session.scalars(query))
