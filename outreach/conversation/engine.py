"""SMS entry points: an inbound text, the opening offer of a planned outreach, queued texts.

State lives in the database (``Outreach.state`` / ``Outreach.context``, ``ContactAttempt``),
never in cookies; these functions take the session and ``now`` and never commit.

**Unknown numbers.**  A text from a number we do not know starts a passive booking: a
provisional customer is created (``external_id`` "IN-<digits>", no name, the language guessed
from the text) with consent recorded as *implied by their own request*, which covers answering
them and the messages about the booking they ask for.  A STOP from an unknown number creates
the record already opted out, so the number stays on our own opt-out list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from outreach import outbox
from outreach.campaigns import post_service_followup as followup_campaign
from outreach.conversation import records, slots
from outreach.conversation.convo import (
    Convo,
    Step,
    offered_starts,
    options_for,
    state_of,
    visit_date,
)
from outreach.conversation.flow import respond
from outreach.conversation.state import State
from outreach.conversation.texts import render_text
from outreach.conversation.understand import understand
from outreach.models import OUTREACH_OPEN, ContactAttempt, Customer, Outreach
from outreach.settings import Settings

REMINDER_OPTIONS = 2  # reply 1 to confirm, 2 to change
OFFER_TEXT_KEY = "offer_text"  # read by escalation to repeat the offer


@dataclass(frozen=True)
class Reply:
    """What to answer an inbound SMS with (``text`` None: answer nothing)."""

    text: str | None
    handoff: bool = False
    kind: str | None = None  # the script used
    customer_id: int | None = None
    duplicate: bool = False  # the same MessageSid was handled before


def handle_sms(
    session: Session,
    settings: Settings,
    *,
    from_phone: str,
    body: str,
    message_sid: str,
    now: datetime,
) -> Reply:
    """Handle one inbound SMS: record it, understand it, advance the conversation, answer."""
    found = records.situation(session, from_phone, now, sid=message_sid, channel="sms")
    earlier = found.earlier
    if earlier is not None:
        answered = records.reply_to(session, earlier)
        return Reply(
            answered.body if answered else None,
            kind=answered.kind if answered else None,
            customer_id=earlier.customer_id,
            duplicate=True,
        )
    customer, outreach, appointment = found.customer, found.outreach, found.appointment
    if customer is None:
        customer = records.provisional_customer(
            session, from_phone, locale=_guess_locale(body, settings), now=now
        )
    options, confirming = options_for(outreach)
    if outreach is None and appointment is not None and appointment.reminded_at is not None:
        options = REMINDER_OPTIONS  # the day-before message asked "1 to confirm, 2 to change"
    # An offer still waiting in the outbox has not been seen: the reply is read as if there
    # were none, so a "1" books nothing (the customer is shown the times instead).
    unseen = found.queued and not found.went_out
    state = state_of(None if unseen else outreach, appointment, found.awaiting_person)
    intent = understand(
        body,
        now_local=now.astimezone(settings.tz),
        options=options,
        confirming=confirming,
        state=state,
        offered=offered_starts(outreach, settings.tz),
        booked_on=visit_date(appointment, settings.tz),
    )
    convo = Convo(
        customer=customer,
        outreach=outreach,
        appointment=appointment,
        channel="sms",
        awaiting_person=found.awaiting_person,
        offer_unseen=unseen,
    )
    records.write(
        session, customer, outreach, direction="in", channel="sms", kind=intent.kind,
        body=body, now=now, status="received", sid=message_sid,
    )  # fmt: skip
    if outreach is not None:
        # The customer answered: whatever escalation had queued for this outreach is moot.
        if found.queued:
            outbox.cancel_pending(session, outreach_id=outreach.id, reason="the customer replied")
        convo.outbox_cleared_for = outreach.id
    step = respond(session, settings, convo, intent, now=now)
    text = say(settings, convo, step, channel="sms")
    if text is not None:
        where = convo.outreach or found.latest_outreach_id
        # Any line the conversation added goes first; the conversation's row and the answer's
        # line are the reply's last writes (nothing here reads or changes them after).
        records.save(session, convo.outreach, last=True)
        records.write(
            session, customer, where, direction="out", channel="sms",
            kind=step.template or "reply", body=text, now=now, status="replied", last=True,
        )  # fmt: skip
    else:
        records.save(session, convo.outreach)
    return Reply(text, handoff=step.handoff, kind=step.template, customer_id=customer.id)


def say(settings: Settings, convo: Convo, step: Step, *, channel: str) -> str | None:
    """Render the step's script for the channel, or None when there is nothing to say."""
    if step.template is None:
        return None
    vehicle = convo.outreach.vehicle if convo.outreach is not None else None
    return render_text(
        settings, step.template, customer=convo.customer, channel=channel, vehicle=vehicle,
        **step.context,
    )  # fmt: skip


def _guess_locale(body: str, settings: Settings) -> str:
    if re.search(r"[\u4e00-\u9fff]", body):
        return "zh-CN"
    if re.search(r"[A-Za-z]", body):
        return "en"
    return settings.dealership.default_locale


def start_offer(
    session: Session,
    settings: Settings,
    outreach: Outreach,
    *,
    now: datetime,
    channel: str,
    jobs: list[str] | None = None,
) -> str:
    """Open a planned outreach: hold up to three slots and return the offer text for ``channel``.

    The slots are stored in ``outreach.context`` so the reply books exactly what was offered;
    the SMS wording is also stored (``offer_text``) for escalation and the unanswered-call
    fallback.  The caller sends the text.  ``jobs`` (job codes) default to the reasons' jobs.
    """
    customer = outreach.customer
    convo = Convo(customer=customer, outreach=outreach, appointment=None, channel=channel)
    jobs = jobs or slots.jobs_for(settings, outreach, (outreach.context or {}).get("need"))
    slots.release(session, customer.id)
    offered = slots.offer(
        session, settings, jobs=jobs, preference=None, now=now, customer_id=customer.id,
        hold_for="voice" if channel == "voice" else "sms",
    )  # fmt: skip
    outreach.status = "open"
    outreach.state = State.OFFERED.value
    outreach.opened_at = outreach.opened_at or now
    texts = {
        ch: render_text(
            settings,
            "offer",
            customer=customer,
            channel=ch,
            vehicle=outreach.vehicle,
            reasons=list(outreach.reasons),
            slot_list=offered,
        )
        for ch in {"sms", channel}
    }
    convo.update(slots=offered, jobs=jobs, misses=0, confirming=False, mode="book")
    convo.update(**{OFFER_TEXT_KEY: texts["sms"]})
    return texts[channel]


def start_followup(
    session: Session, settings: Settings, outreach: Outreach, *, now: datetime, channel: str
) -> str:
    """Open a follow-up after a visit (跟踪回访): ask for a 1-5 rating and any remarks; no slots
    are held.  Returns the text for ``channel``; the SMS wording is kept for escalation."""
    outreach.status = "open"
    outreach.state = State.FOLLOWUP.value
    outreach.opened_at = outreach.opened_at or now
    texts = {ch: followup_text(settings, outreach, channel=ch, now=now) for ch in {"sms", channel}}
    convo = Convo(customer=outreach.customer, outreach=outreach, appointment=None, channel=channel)
    convo.update(mode="followup", misses=0, **{OFFER_TEXT_KEY: texts["sms"]})
    return texts[channel]


def followup_text(settings: Settings, outreach: Outreach, *, channel: str, now: datetime) -> str:
    """The follow-up question for ``channel``, about the latest visit it follows up."""
    visits = [r.anchor_on for r in outreach.reasons if r.anchor_on is not None]
    visit_on = max(visits) if visits else now.astimezone(settings.tz).date()
    return render_text(
        settings, "followup", customer=outreach.customer, channel=channel,
        vehicle=outreach.vehicle, visit_on=visit_on,
    )  # fmt: skip


def is_followup(outreach: Outreach) -> bool:
    """Whether a planned outreach only follows up visits (a rating, not a booking offer)."""
    reasons = list(outreach.reasons)
    return bool(reasons) and all(r.campaign == followup_campaign.NAME for r in reasons)


def queue_sms(
    session: Session,
    settings: Settings,
    customer: Customer,
    text: str,
    *,
    now: datetime,
    outreach: Outreach | None,
    kind: str = "offer",
    key: str,
) -> ContactAttempt:
    """Queue one SMS to the customer through the outbox (sent later, inside their contact
    window, at most once per ``key``), and note it in the audit trail as "queued"."""
    outbox.enqueue(
        session,
        settings,
        customer=customer,
        channel="sms",
        body=text,
        idempotency_key=key,
        now=now,
        template=f"conversation:{kind}",
        outreach_id=outreach.id if outreach else None,
    )
    return records.record(
        session, customer, outreach, direction="out", channel="sms", kind=kind, body=text,
        now=now, status="queued",
    )  # fmt: skip


def is_open(outreach: Outreach | None) -> bool:
    return outreach is not None and outreach.status in OUTREACH_OPEN
