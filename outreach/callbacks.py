"""The advisors' callback queue: why a customer needs a person, how urgently, and filing it.

One table of reasons (:data:`REASONS`) and one way to file (:func:`queue_callback`), used by the
conversation, the outbox, escalation and the webhooks.  The desk reads its labels and response
targets from the same table, so every reason the product files has both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from outreach.db import one_of
from outreach.models import CallbackRequest, ContactAttempt, Customer, Outreach


@dataclass(frozen=True)
class Reason:
    """Why a customer is in the queue (``CallbackRequest.reason``)."""

    code: str
    priority: int  # lower is more urgent (the desk sorts ascending)
    target_minutes: int  # how soon an advisor should act
    zh: str  # label on Chinese pages
    en: str  # label on English pages

    @property
    def target(self) -> timedelta:
        return timedelta(minutes=self.target_minutes)

    def label(self, locale: str) -> str:
        return self.zh if locale.startswith("zh") else self.en


# The targets follow the dealership's habit: a complaint within the half hour, a customer who
# asked for a call or rated a visit badly within two hours, the rest the same morning or
# afternoon, a number to correct within the day.
_TABLE = (
    Reason("complaint", 10, 30, "投诉", "complaint"),
    Reason("bot_error", 20, 30, "系统未能处理客户消息", "message the system could not handle"),
    Reason("low_rating", 20, 120, "回访低分", "low rating after a visit"),
    Reason("call_me", 30, 120, "客户要求回电", "asked for a call"),
    Reason("send_unknown", 30, 60, "短信是否送达不明", "message may not have been sent"),
    Reason("vehicle_sold", 30, 240, "客户称车已卖出（有预约）", "car sold (has a booking)"),
    Reason("other_need", 35, 240, "其他需求（发票、退款等）", "other request (invoice …)"),
    Reason("question", 40, 240, "客户提问待答复", "question to answer"),
    Reason("not_understood", 40, 240, "两次未能理解", "not understood twice"),
    Reason("voice_not_understood", 40, 240, "语音未能理解", "not understood on the phone"),
    Reason("no_slots", 40, 240, "近期无空档", "no free time to offer"),
    Reason("extra_work", 40, 240, "预约追加项目", "extra work on a booking"),
    Reason("feedback", 45, 480, "回访意见", "remarks after a visit"),
    Reason("unanswered", 50, 240, "多次联系未回复", "no reply after several contacts"),
    Reason("bad_number", 60, 1440, "号码有误", "wrong or bad number"),
)
REASONS: dict[str, Reason] = {r.code: r for r in _TABLE}
# Shown for a code no longer filed (rows written by an older version).
UNKNOWN = Reason("other", 50, 240, "其他", "other")


class UnknownReason(ValueError):
    """A callback filed with a reason that is not in :data:`REASONS`."""


def reason(code: str) -> Reason:
    """The reason with this code; :data:`UNKNOWN` for codes older versions filed."""
    return REASONS.get(code, UNKNOWN)


DETAIL_CHARS = 120  # a queue line, not a transcript
DETAIL_MESSAGES = 3


def last_words(session: Session, customer_id: int) -> str:
    """The customer's last few messages (what put them in the queue), oldest first, cut to a
    queue line from the front so the newest words stay."""
    bodies = session.scalars(
        select(ContactAttempt.body)
        .where(
            ContactAttempt.customer_id == customer_id,
            ContactAttempt.direction == "in",
            ContactAttempt.body.is_not(None),
        )
        .order_by(ContactAttempt.at.desc(), ContactAttempt.id.desc())
        .limit(DETAIL_MESSAGES)
    ).all()
    text = " / ".join(" ".join((body or "").split()) for body in reversed(bodies))
    return text if len(text) <= DETAIL_CHARS else "…" + text[-(DETAIL_CHARS - 1) :]


def queue_callback(
    session: Session,
    *,
    customer: Customer,
    reason: str,
    now: datetime,
    outreach: Outreach | None = None,
    detail: str | None = None,
) -> CallbackRequest:
    """Put the customer in the advisors' queue with the reason's priority.

    ``detail`` is the short line the advisor reads in the queue; without one, the customer's
    last message (the desk shows the whole transcript beside it, in the dealership's time).
    The caller's conversation goes on unless it closes it.
    """
    entry = REASONS.get(reason)
    if entry is None:
        raise UnknownReason(f"unknown callback reason {reason!r}: add it to callbacks.REASONS")
    if detail is None:
        session.flush()  # the message that caused this is the customer's last one
        detail = last_words(session, customer.id)
    request = CallbackRequest(
        customer_id=customer.id,
        outreach_id=outreach.id if outreach is not None else None,
        reason=entry.code,
        priority=entry.priority,
        detail=detail[:2000],
        status="open",
        created_at=now,
    )
    session.add(request)
    return request


# Callbacks the bot asked for because it could not book; moot once the customer books.
SETTLED_BY_BOOKING = ("not_understood", "voice_not_understood", "no_slots", "unanswered")


# Callbacks the customer may call off ("不用打了，已经修好了"); a complaint, a low rating, a bad
# number or extra work on a visit always reaches a person.
CALLED_OFF = (*SETTLED_BY_BOOKING, "call_me", "question", "other_need")


def settle_callbacks(
    session: Session, customer_id: int, *, reasons: tuple[str, ...] = SETTLED_BY_BOOKING,
    outcome: str = "booked", note: str = "the customer booked by message",
) -> None:  # fmt: skip
    """Close the customer's unclaimed callbacks of ``reasons`` (by default those that only
    asked a person to get them booked: they just booked); anything claimed stays open."""
    session.execute(
        update(CallbackRequest)
        .where(
            CallbackRequest.customer_id == customer_id,
            CallbackRequest.status == "open",
            one_of(CallbackRequest.reason, reasons),
        )
        .values(status="done", outcome=outcome, outcome_note=note[:500])
        .execution_options(synchronize_session=False)
    )
