"""The outbox (every outbound SMS and call, before and after it is sent) and job bookkeeping."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from outreach.db import Base, utcnow
from outreach.models.customers import _in

OUTBOX_STATUSES = ("queued", "sending", "sent", "failed", "cancelled", "handed_off")
OUTBOX_CHANNELS = ("sms", "voice")


class OutboxMessage(Base):
    """One outbound SMS or call: written with the decision that caused it, sent at most once.

    ``next_attempt_at`` is when a sender may next pick the row up: the contact window's
    opening, or a back-off after a refused attempt.  ``claimed_at`` marks the start of a
    send; a row left in "sending" past the lease is settled by ``outbox.recover_stuck``.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(_in("status", OUTBOX_STATUSES), name="outbox_status"),
        CheckConstraint(_in("channel", OUTBOX_CHANNELS), name="outbox_channel"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    outreach_id: Mapped[int | None] = mapped_column(ForeignKey("outreach.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    to: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    template: Mapped[str | None] = mapped_column(String(60))
    not_before: Mapped[datetime]
    # Set on an answer to the customer's own message: until then the contact window does not
    # hold it back (``[contact_window] reply_minutes``); afterwards it waits like the rest.
    answers_until: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    ambiguous: Mapped[int] = mapped_column(default=0)  # sends whose outcome was unknown
    recovered: Mapped[int] = mapped_column(default=0)  # requeues after a crash
    # The claim time of the earliest send whose outcome is still unknown (a 5xx, a timeout,
    # the provider unreachable): the provider is asked for a message since then before any
    # resend.  Cleared when the row is sent.
    lookup_since: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime]
    provider_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PendingStatus(Base):
    """A status callback that arrived before the outbox recorded its SID, kept to apply then.

    Twilio can call back while the sender's "record" transaction is still open; the
    callback's handled-once row (``webhook_events``) is committed either way, so without this
    row the status would be lost.  ``outbox.record`` applies and deletes it.
    """

    __tablename__ = "pending_statuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[int | None]
    answered_by: Mapped[str | None] = mapped_column(String(40))
    received_at: Mapped[datetime]


class SendPacing(Base):
    """The next free send slot for a pacing lane, shared by every sender process.

    A sender reserves slots for a whole batch in the transaction that claims it, so any
    number of senders together keep to the configured rate (see ``outreach.pacing``).
    """

    __tablename__ = "send_pacing"

    lane: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_slot_at: Mapped[datetime]


class ProviderBreaker(Base):
    """The provider's circuit breaker, shared by every sender process (``outbox.breaker``).

    ``failures`` counts consecutive 5xx / connection failures; from the threshold on, no
    sender sends until ``open_until``, and then one sender probes while the others wait.
    """

    __tablename__ = "provider_breaker"

    provider: Mapped[str] = mapped_column(String(40), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    pause_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    open_until: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]


class JobRun(Base):
    """One run of a scheduled job; the unique key makes a run happen once across schedulers."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "run_key", name="uq_job_runs_job_run_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    run_key: Mapped[str] = mapped_column(String(40))
    owner: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(12), default="running")
    detail: Mapped[str | None] = mapped_column(Text)
