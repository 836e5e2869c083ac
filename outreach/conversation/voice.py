"""Voice entry points: one turn of a call (what to ``<Say>``, whether to ``<Gather>``) and the
fallback to SMS when a call goes unanswered.

The webhook turns a :class:`VoiceTurn` into TwiML.  Steps: ``start`` (the call connected: read
the offer), ``choose-N`` (the N-th keypad or speech answer came back), ``retry-N`` (the answer
to a re-prompt: a second miss hands the customer to an advisor).  Every turn of a call has a
step name of its own because the webhook answers each CallSid + step once (Twilio retries):
two turns sharing a name would replay the first answer.  Keypad 0 always asks for a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from outreach.consent import may_contact
from outreach.conversation import records
from outreach.conversation.convo import (
    Convo,
    Step,
    appointment_context,
    offered_starts,
    options_for,
    slots_context,
    state_of,
    visit_date,
)
from outreach.conversation.engine import (
    OFFER_TEXT_KEY,
    followup_text,
    is_open,
    queue_sms,
    say,
    start_offer,
)
from outreach.conversation.flow import respond
from outreach.conversation.state import State
from outreach.conversation.understand import understand
from outreach.delivery import unanswered as call_not_taken
from outreach.models import Outreach
from outreach.settings import Settings


@dataclass(frozen=True)
class Voice:
    """How a call speaks and listens in one language.

    ``<Say>`` needs a Polly voice with the language code Twilio lists for it (Polly.Zhiyu is
    ``cmn-CN``; a wrong pair makes ``<Say>`` fail).  ``<Gather>`` speech recognition takes a
    BCP-47 tag from its own list, where Mandarin (Simplified, China) is ``cmn-Hans-CN``.
    """

    say_language: str
    voice: str
    speech_language: str


# The one table of voice/language pairs; the TwiML answers and the fallback read it.
VOICES = {
    "zh-CN": Voice(say_language="cmn-CN", voice="Polly.Zhiyu", speech_language="cmn-Hans-CN"),
    "en": Voice(say_language="en-US", voice="Polly.Joanna", speech_language="en-US"),
}
# Scripts after which the call goes on listening; anything else ends the call.
_LISTEN = {"slot_options", "slot_taken", "which_option", "ask_need", "ask_time", "clarify",
           "noted", "answer", "already_booked", "preference_noted"}  # fmt: skip


@dataclass(frozen=True)
class VoiceTurn:
    say: str
    language: str  # the <Say> language, from VOICES
    voice: str  # the Polly voice, from VOICES
    speech_language: str  # the <Gather> speech-recognition language, from VOICES
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
        return _turn(session, convo, text, "choose-1", now, listen=True)
    heard = (digits or "").strip() or (speech or "").strip()
    retry, turn = _parse_step(step)
    pressed_zero = digits is not None and digits.strip() == "0"
    if pressed_zero:
        intent = understand("人工", now_local=now)  # 0: a person
    else:
        options, confirming = options_for(outreach)
        intent = understand(
            heard,
            now_local=now.astimezone(settings.tz),
            options=options,
            confirming=confirming,
            state=state_of(outreach, convo.appointment, awaiting=False),
            offered=offered_starts(outreach, settings.tz),
            booked_on=visit_date(convo.appointment, settings.tz),
        )
    if intent.kind == "thanks":
        intent = replace(intent, kind="unknown")  # on a call, "thank you" is not an answer
    # The caller's words in the transcript, with what they were understood as (as for an SMS).
    records.record(
        session, customer, outreach, direction="in", channel="voice", kind=intent.kind,
        body=heard or None, now=now, status="received", sid=f"{call_sid}:{step}",
    )  # fmt: skip
    if pressed_zero:
        step_out = respond(session, settings, convo, intent, now=now)
        return _finish(session, settings, convo, step_out, now, turn)
    if intent.kind == "unknown":
        if not retry:
            again = say(
                settings, convo, Step("clarify", _listing(convo, settings)), channel="voice"
            )
            return _turn(session, convo, again or "", f"retry-{turn + 1}", now, listen=True)
        records.hand_off(session, customer, convo.outreach, reason="voice_not_understood", now=now)
        return _finish(session, settings, convo, Step("handoff", handoff=True), now, turn)
    return _finish(
        session, settings, convo, respond(session, settings, convo, intent, now=now), now, turn
    )


_STEP = re.compile(r"(choose|retry)-(\d+)")


def _parse_step(step: str) -> tuple[bool, int]:
    """Whether ``step`` answers a re-prompt, and its turn number (the older names count as 1)."""
    if m := _STEP.fullmatch(step):
        return m[1] == "retry", int(m[2])
    return step == "choose-again", 1


def _opening(session: Session, settings: Settings, convo: Convo, now: datetime) -> str:
    outreach = convo.outreach
    if outreach is not None and outreach.state == State.ASKED_NEED:
        return say(settings, convo, Step("ask_need"), channel="voice") or ""
    if outreach is not None and outreach.state == State.FOLLOWUP:
        return followup_text(settings, outreach, channel="voice", now=now)
    if outreach is not None:
        return start_offer(session, settings, outreach, now=now, channel="voice")
    if convo.appointment is not None:
        context = appointment_context(settings, convo, convo.appointment)
        return say(settings, convo, Step("already_booked", context), channel="voice") or ""
    step = respond(session, settings, convo, understand("", now_local=now), now=now)
    return say(settings, convo, step, channel="voice") or ""


def _listing(convo: Convo, settings: Settings) -> dict[str, object]:
    return slots_context(settings, convo, convo.state.slots)


def _finish(
    session: Session, settings: Settings, convo: Convo, step: Step, now: datetime, turn: int
) -> VoiceTurn:
    text = say(settings, convo, step, channel="voice") or say(
        settings, convo, Step("goodbye"), channel="voice"
    )
    if step.booked is not None and may_contact(convo.customer, "sms"):
        # The customer heard the confirmation; they also get it in writing.
        written = say(settings, convo, step, channel="sms")
        if written:
            queue_sms(
                session, settings, convo.customer, written, now=now, outreach=convo.outreach,
                kind=step.template or "confirmation", key=f"voice-confirmation:{step.booked.id}",
            )  # fmt: skip
    listen = step.template in _LISTEN
    return _turn(session, convo, text or "", f"choose-{turn + 1}", now, listen=listen)


def _turn(
    session: Session,
    convo: Convo,
    text: str,
    next_step: str,
    now: datetime,
    *,
    listen: bool,
) -> VoiceTurn:
    voice = VOICES[convo.locale]
    where = convo.outreach or records.latest_outreach(session, convo.customer.id)
    records.record(
        session, convo.customer, where,
        direction="out", channel="voice", kind="voice:say", body=text, now=now, status="said",
    )  # fmt: skip
    session.flush()
    return VoiceTurn(
        say=text,
        language=voice.say_language,
        voice=voice.voice,
        speech_language=voice.speech_language,
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
    unanswered = call_not_taken(status, answered_by)
    records.record(
        session, outreach.customer, outreach, direction="note", channel="voice",
        kind="call_unanswered" if unanswered else "call_answered",
        body=f"status={status} answered_by={answered_by}", now=now,
    )  # fmt: skip
    if not unanswered or not is_open(outreach) or not may_contact(outreach.customer, "sms"):
        return False
    text = (outreach.context or {}).get(OFFER_TEXT_KEY)
    if not text or not (outreach.context or {}).get("slots"):
        text = start_offer(session, settings, outreach, now=now, channel="sms")
    queue_sms(
        session, settings, outreach.customer, text, now=now, outreach=outreach, kind="offer",
        key=f"voice-fallback:{outreach.id}:{call_sid or now.isoformat()}",
    )  # fmt: skip
    return True
