"""Aliyun's HTTP pushes: customers' replies (SmsUp, 上行短信) and delivery reports (SmsReport).

Both are JSON arrays.  A reply goes into the same conversation as a Twilio reply; there is no
synchronous answer in this channel, so the bot's answer is queued in the outbox as a new
message (sent at once as an answer to the customer, as a registered template).  A report
moves the message's status on like a Twilio status callback; receipts meaning "no such
number" act like Twilio's 21211 (an advisor checks the number) and "the recipient refuses
our messages" like 21610 (opted out).  The web view makes each item handled once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from outreach import delivery, handled_once, outbox
from outreach.aliyun_sms import REPORT_BAD_NUMBER, REPORT_BLOCKED, from_pushed
from outreach.conversation.records import open_outreach
from outreach.models import ContactAttempt, Customer, OutboxMessage
from outreach.settings import Settings
from outreach.twilio_gateway import OPTED_OUT_CODES

# The Twilio delivery-status codes a receipt is recorded as (see outreach.delivery).
OPTED_OUT = min(OPTED_OUT_CODES)  # 21610
BAD_NUMBER = 30005  # unknown destination handset: a bad number in delivery.BAD_NUMBER_CODES
MAX_ITEMS = 500
ERROR_CODE_WIDTH = 16  # contact_attempts.error_code  # one push holds at most this many items


class PushError(ValueError):
    """A pushed body that is not what Aliyun sends; the message names the item and field."""


@dataclass(frozen=True)
class PushedReply:
    phone: str  # E.164
    content: str
    send_time: str
    dest_code: str
    sequence_id: str

    @property
    def key(self) -> str:
        """What makes this reply handled once (Aliyun resends a push it got no answer to)."""
        return f"aliyun-up:{self.sequence_id}"


@dataclass(frozen=True)
class PushedReport:
    biz_id: str
    success: bool
    err_code: str
    err_msg: str
    phone: str
    out_id: str = ""

    @property
    def key(self) -> str:
        return f"aliyun-report:{self.biz_id}:{self.phone}:{self.err_code}"


def _items(payload: Any) -> list[dict[str, Any]]:
    if not isinstance(payload, list):
        raise PushError("the body must be a JSON array")
    if len(payload) > MAX_ITEMS:
        raise PushError(f"at most {MAX_ITEMS} items a push, got {len(payload)}")
    for n, item in enumerate(payload):
        if not isinstance(item, dict):
            raise PushError(f"item {n}: must be a JSON object")
    return payload


def _text(item: dict[str, Any], n: int, key: str, *, required: bool = True, limit: int = 64) -> str:
    value = item.get(key)
    if value is None or value == "":
        if required:
            raise PushError(f"item {n}: {key} is missing")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PushError(f"item {n}: {key} must be text, got {value!r}")
    text = str(value)
    if len(text) > limit:
        raise PushError(f"item {n}: {key} is longer than {limit} characters")
    return text


def parse_sms_up(payload: Any) -> list[PushedReply]:
    """The replies of an SmsUp push (each needs phone_number, content and sequence_id)."""
    replies = []
    for n, item in enumerate(_items(payload)):
        number = _text(item, n, "phone_number", limit=20)
        if not any(ch.isdigit() for ch in number):
            raise PushError(f"item {n}: phone_number {number!r} has no digits")
        replies.append(
            PushedReply(
                phone=from_pushed(number),
                content=_text(item, n, "content", required=False, limit=1600),
                send_time=_text(item, n, "send_time", required=False),
                dest_code=_text(item, n, "dest_code", required=False),
                sequence_id=_text(item, n, "sequence_id"),
            )
        )
    return replies


def parse_sms_report(payload: Any) -> list[PushedReport]:
    """The delivery reports of an SmsReport push (each needs biz_id and success)."""
    reports = []
    for n, item in enumerate(_items(payload)):
        success = item.get("success")
        if isinstance(success, str) and success.lower() in ("true", "false"):
            success = success.lower() == "true"
        if not isinstance(success, bool):
            raise PushError(f"item {n}: success must be true or false, got {success!r}")
        reports.append(
            PushedReport(
                biz_id=_text(item, n, "biz_id"),
                success=success,
                err_code=_text(item, n, "err_code", required=False),
                err_msg=_text(item, n, "err_msg", required=False, limit=200),
                phone=_text(item, n, "phone_number", required=False, limit=20),
                out_id=_text(item, n, "out_id", required=False),
            )
        )
    return reports


def take_reply(
    session: Session,
    settings: Settings,
    reply: PushedReply,
    *,
    handle_sms: Callable[..., Any],
    now: datetime,
) -> str:
    """Hand one pushed reply to the conversation (``handle_sms``, as for a Twilio reply) and
    queue its answer through the outbox; returns what happened, for the log."""
    answer = handle_sms(
        session,
        settings,
        from_phone=reply.phone,
        body=reply.content,
        message_sid=reply.key,
        now=now,
    )
    if answer.duplicate or not answer.text or answer.customer_id is None:
        return "no answer" if not answer.duplicate else "duplicate"
    handled_once.write_waiting(session)  # the conversation as it now stands is read below
    customer = session.get(Customer, answer.customer_id)
    assert customer is not None  # noqa: S101 - the conversation just used it
    outreach = open_outreach(session, customer.id)
    outbox.enqueue(
        session,
        settings,
        customer=customer,
        channel="sms",
        body=answer.text,
        idempotency_key=f"{reply.key}:answer",
        now=now,
        template=f"{outbox.CONVERSATION_TEMPLATE}{answer.kind or 'reply'}",
        outreach_id=outreach.id if outreach is not None else None,
        answers=now,
    )
    return f"answer queued ({answer.kind})"


def take_report(session: Session, report: PushedReport, *, now: datetime) -> str:
    """Apply one delivery report to the message with ``biz_id``; returns what happened."""
    status = "delivered" if report.success else "undelivered"
    code = None
    if not report.success:
        code = (
            OPTED_OUT
            if report.err_code in REPORT_BLOCKED
            else BAD_NUMBER
            if report.err_code in REPORT_BAD_NUMBER
            else None
        )
    sid = _sid_of(session, report)
    outcome = delivery.record_status(session, sid=sid, status=status, error_code=code, now=now)
    if not report.success and report.err_code:
        # The provider's own code on the outbox row, where a person reads it, and on the
        # attempt when it fits there (else the attempt keeps the Twilio code it acts as).
        if len(report.err_code) <= ERROR_CODE_WIDTH:
            session.execute(
                update(ContactAttempt)
                .where(ContactAttempt.provider_sid == sid, ContactAttempt.direction == "out")
                .values(error_code=report.err_code)
                .execution_options(synchronize_session=False)
            )
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.provider_sid == sid)
            .values(last_error=f"SmsReport {report.err_code}: {report.err_msg}"[:2000])
            .execution_options(synchronize_session=False)
        )
    return outcome


def _sid_of(session: Session, report: PushedReport) -> str:
    """The id the message was recorded under: its BizId, or its OutId when the send was
    settled by a QuerySendDetails look-up (which does not return the BizId)."""
    if report.out_id and session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.provider_sid == report.out_id).limit(1)
    ):
        return report.out_id
    return report.biz_id
