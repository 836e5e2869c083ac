"""Messaging records: what the sandbox gateway would have sent, and webhooks already handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from outreach.db import Base, utcnow
from outreach.models.customers import _in

SANDBOX_KINDS = ("sms", "voice")


class SandboxMessage(Base):
    """An outbound SMS or call the sandbox gateway recorded instead of sending."""

    __tablename__ = "sandbox_messages"
    __table_args__ = (
        CheckConstraint(_in("kind", SANDBOX_KINDS), name="sandbox_kind"),
        Index("ix_sandbox_to_created", "to", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(34), unique=True)  # "SM…" or "CA…", as Twilio's
    kind: Mapped[str] = mapped_column(String(8))
    to: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)  # the SMS text, or the call's answer URL
    status_callback: Mapped[str | None] = mapped_column(Text)
    validity_seconds: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEvent(Base):
    """A webhook already handled, keyed so that Twilio's retries have their effect once.

    ``key`` is ``sms:<MessageSid>``, ``message-status:<MessageSid>:<status>`` or
    ``voice:<CallSid>:<step>`` …, stored as its SHA-256 in hex (``handled_once.stored_key``);
    it is inserted at the end of the effect's transaction, so a duplicate fails on the unique
    constraint, rolls back and answers with ``answer``.
    """

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    answer: Mapped[str] = mapped_column(Text, default="")  # the response body sent the first time
    received_at: Mapped[datetime]
