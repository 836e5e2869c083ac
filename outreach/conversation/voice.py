"""Voice entry points: one turn of a call (what to ``<Say>``, whether to ``<Gather>``) and the
fallback to SMS when a call goes unanswered.

The webhook turns a :class:`VoiceTurn` into TwiML.  Steps: ``start`` (the call connected: read
the offer), ``choose`` (keypad or speech came back), ``choose-again`` (after one re-prompt: a
second miss hands the customer to an advisor).  Keypad 0 always asks for a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from outreach.consent import may_contact
from outreach.conversation import records
from outreach.conversation.engine import OFFER_TEXT_KEY, is_open, queue_sms, say, start_offer
from outreach.conversation.flow import (
    Convo,
    Step,
    appointment_context,
    options_for,
    respond,
    slots_context,
)
from outreach.conversation.understand import understand
from outreach.models import Outreach
from outreach.settings import Settings

VOICES = {"zh-CN": ("zh-CN", "Polly.Zhiyu"), "en": ("en-US", "Polly.Joanna")}
UNANSWERED_STATUSES = ("no-answer", "busy", "failed", "canceled")
# Scripts after which the call goes on listening; anything else ends the call.
_LISTEN = {"slot_options", "slot_taken", "which_option", "ask_need", "ask_time", "clarify",
           "noted", "answer", "already_booked"}  # fmt: skip


@dataclass(frozen=True)
class VoiceTurn:
    say: str
    language: str  # "zh-CN" | "en-US"
    voice: str  # "Polly.Zhiyu" | "Polly.Joanna"
    gather: bool
    hangup: bool
    next_step: str


def voice_turn(
    session: Session,
    settings: Settings,
    *,
    call_sid: str,
    to_or_from_phone: str,
    digits: str | None,
    speech: str | None,
    step: str,
    now: datetime,
) -> VoiceTurn:
    """One turn of a call with the customer at ``to_or_from_phone`` (never commits)."""
    customer = records.find_customer(session, to_or_from_phone)
    if customer is None:
        customer = records.provisional_customer(
            session, to_or_from_phone, locale=settings.dealership.default_locale, now=now
        )
    outreach = records.open_outreach(session, customer.id)
    convo = Convo(
        customer=customer,
        outreach=outreach,
        appointment=records.next_appointment(session, customer.id, now),
        channel="voice",
    )
    if step == "start":
        text = _opening(session, settings, convo, now)
        return _turn(session, convo, text, "start", now, listen=True, sid=call_sid)
    heard = (digits or "").strip() or (speech or "").strip()
    records.record(
        session, customer, outreach, direction="in", channel="voice", kind=f"voice:{step}",
        body=heard or None, now=now, status="received", sid=f"{call_sid}:{step}",
    )  # fmt: skip
    if digits and digits.strip() == "0":
        step_out = respond(session, settings, convo, understand("人工", now_local=now), now=now)
        return _finish(session, settings, convo, step_out, now)
    options, confirming = options_for(outreach)
    intent = understand(
        heard, now_local=now.astimezone(settings.tz), options=options, confirming=confirming
    )
    if intent.kind == "unknown":
        if step == "choose":
            again = say(
                settings, convo, Step("clarify", _listing(convo, settings)), channel="voice"
            )
            return _turn(session, convo, again or "", "choose-again", now, listen=True)
        records.hand_off(session, customer, convo.outreach, reason="voice_not_understood", now=now)
        return _finish(session, settings, convo, Step("handoff", handoff=True), now)
    return _finish(
        session, settings, convo, respond(session, settings, convo, intent, now=now), now
    )


def _opening(session: Session, settings: Settings, convo: Convo, now: datetime) -> str:
    outreach = convo.outreach
    if outreach is not None and outreach.state == "asked_need":
        return say(settings, convo, Step("ask_need"), channel="voice") or ""
    if outreach is not None:
        return start_offer(session, settings, outreach, now=now, channel="voice")
    if convo.appointment is not None:
        context = appointment_context(settings, convo, convo.appointment)
        return say(settings, convo, Step("already_booked", context), channel="voice") or ""
    step = respond(session, settings, convo, understand("", now_local=now), now=now)
    return say(settings, convo, step, channel="voice") or ""


def _listing(convo: Convo, settings: Settings) -> dict[str, object]:
    return slots_context(settings, convo, (convo.ctx.get("slots") or []))


def _finish(
    session: Session, settings: Settings, convo: Convo, step: Step, now: datetime
) -> VoiceTurn:
    text = say(settings, convo, step, channel="voice") or say(
        settings, convo, Step("goodbye"), channel="voice"
    )
    if step.booked is not None and may_contact(convo.customer):
        # The customer heard the confirmation; they also get it in writing.
        written = say(settings, convo, step, channel="sms")
        if written:
            queue_sms(
                session, settings, convo.customer, written, now=now, outreach=convo.outreach,
                kind=step.template or "confirmation", key=f"voice-confirmation:{step.booked.id}",
            )  # fmt: skip
    listen = step.template in _LISTEN
    return _turn(session, convo, text or "", "choose", now, listen=listen)


def _turn(
    session: Session,
    convo: Convo,
    text: str,
    next_step: str,
    now: datetime,
    *,
    listen: bool,
    sid: str | None = None,
) -> VoiceTurn:
    language, voice = VOICES[convo.locale]
    where = convo.outreach or records.latest_outreach(session, convo.customer.id)
    records.record(
        session, convo.customer, where,
        direction="out", channel="voice", kind="voice:say", body=text, now=now, status="said",
    )  # fmt: skip
    session.flush()
    return VoiceTurn(
        say=text,
        language=language,
        voice=voice,
        gather=listen,
        hangup=not listen,
        next_step=next_step if listen else "end",
    )


def call_unanswered(
    session: Session,
    settings: Settings,
    outreach: Outreach,
    *,
    status: str | None = None,
    answered_by: str | None = None,
    now: datetime,
    call_sid: str | None = None,
) -> bool:
    """Queue the same offer by SMS when the call was not answered, busy, or met a machine.

    Returns True when an SMS was queued (once per call).
    """
    machine = bool(answered_by) and (answered_by.startswith("machine") or answered_by == "fax")  # type: ignore[union-attr]
    unanswered = (status or "") in UNANSWERED_STATUSES or machine
    records.record(
        session, outreach.customer, outreach, direction="note", channel="voice",
        kind="call_unanswered" if unanswered else "call_answered",
        body=f"status={status} answered_by={answered_by}", now=now,
    )  # fmt: skip
    if not unanswered or not is_open(outreach) or not may_contact(outreach.customer):
        return False
    text = (outreach.context or {}).get(OFFER_TEXT_KEY)
    if not text or not (outreach.context or {}).get("slots"):
        text = start_offer(session, settings, outreach, now=now, channel="sms")
    queue_sms(
        session, settings, outreach.customer, text, now=now, outreach=outreach, kind="offer",
        key=f"voice-fallback:{outreach.id}:{call_sid or now.isoformat()}",
    )  # fmt: skip
    return True
