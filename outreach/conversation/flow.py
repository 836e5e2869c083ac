"""The booking conversation as a state machine over ``Outreach.state`` (:class:`State`) and
``Outreach.context`` (:class:`ConversationState`).

:func:`respond` takes one understood reply, asks the handler :data:`HANDLERS` names for
(state, intent) what to do, and carries that out with :func:`effects.apply`; it is the same
for SMS and voice (the callers render for their channel).  It never reads the reply's text:
everything it needs is on the :class:`Intent`.  A handler decides and does nothing: it reads
the conversation (:class:`Convo`) and returns effects (say a script, offer, book, cancel, hand
off, queue a callback, remember …), with no database; :func:`plan` is that decision for one
reply.  States:

``offered``   slots are on offer (``ConversationState.slots``; ``mode`` "book" or "reschedule")
``asked_need`` an inbound customer was asked what they need (five numbered needs)
``followup``  after a visit, the customer was asked to rate it 1-5 (跟踪回访); no slots held
``booked`` / ``declined`` / ``handed_off`` / ``opted_out`` — closed, by :func:`state.close` only.

Misses are counted (``ConversationState.misses``) and reset by any reply that was understood:
the first miss gets one clarifying question, the second in a row goes to an advisor.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from outreach import consent
from outreach.conversation import booking, convo, slots
from outreach.conversation.convo import (
    RATING_MAX,
    Convo,
    Step,
    appointment_context,
    slots_context,
)
from outreach.conversation.effects import (
    BookAgain,
    CallOff,
    Cancel,
    Close,
    ConfirmArrival,
    Decline,
    Effect,
    HandOff,
    KeepTo,
    NoteFacts,
    NoteOnAppointment,
    NotePreference,
    NoteWhileWaiting,
    Offer,
    Open,
    OptIn,
    OptOut,
    QueueCallback,
    Rate,
    Remember,
    Say,
    Take,
    VehicleSold,
    apply,
)
from outreach.conversation.state import State
from outreach.conversation.understand import NEEDS, Intent
from outreach.models import Appointment
from outreach.settings import Settings

Handler = Callable[[Settings, Convo, Intent, datetime], list[Effect]]


def respond(
    session: Session, settings: Settings, c: Convo, intent: Intent, *, now: datetime
) -> Step:
    """Advance the conversation by one understood reply (never commits): :func:`plan`'s
    effects, carried out."""
    return apply(session, settings, c, plan(settings, c, intent, now), now)


def plan(settings: Settings, c: Convo, intent: Intent, now: datetime) -> list[Effect]:
    """What one understood reply does: the handler of :data:`HANDLERS` for (state, intent),
    else for (any state, intent), else the state's.  A reply that reads as a complaint beside
    what it asks (``Intent.concern``: "选2吧，不过上次洗车洗得跟没洗一样") is handled as it
    asks, and a person gets the complaint too."""
    where = c.outreach.state if c.outreach is not None else "none"
    if c.customer.opted_out_at is not None and intent.kind not in _CONSENT:
        return _opted_out(settings, c, intent, now)
    kept: list[Effect] = []
    if intent.only_channel is not None:
        # "别打电话，短信联系就行": the way of contact kept to, and the reply as it asks
        kept.append(KeepTo(intent.only_channel, f"{c.channel}: {intent.text}"))
        if intent.kind == "unknown":  # nothing asked beside it: say it is noted
            offered = slots_context(settings, c, c.state.slots)  # none without a conversation
            context = {"only_channel": intent.only_channel, **offered}
            return [*kept, Say("channel_noted", context)]
    handler = (
        HANDLERS.get((where, intent.kind))
        or HANDLERS.get(("*", intent.kind))
        or HANDLERS[(where, "*")]
    )
    effects = [*kept, *handler(settings, c, intent, now)]
    if intent.concern:
        effects.append(QueueCallback("complaint"))
    return effects


_CONSENT = frozenset({"opt_out", "opt_in", "help"})  # answered whether or not opted out


def _opted_out(settings: Settings, c: Convo, intent: Intent, now: datetime) -> list[Effect]:
    """No messages to an opted-out customer; a person still hears a complaint or a request."""
    if intent.kind in ("complaint", "call_me", "other_need") or intent.concern:
        reason = "complaint" if intent.concern else intent.kind
        return [HandOff(reason, quiet=True)]
    return [Say(None)]


def _opt_in(settings: Settings, c: Convo, intent: Intent, now: datetime) -> list[Effect]:
    return [OptIn(f"{c.channel}:{intent.text}")]


def _person(settings: Settings, c: Convo, intent: Intent, now: datetime) -> list[Effect]:
    """A complaint, a request for a person, a need outside the five: an advisor, first."""
    return [HandOff(intent.kind)]


def _noting(handler: Handler) -> Handler:
    """The state's own handler, after the mileage and faults said are put on file."""

    def noted(settings: Settings, c: Convo, intent: Intent, now: datetime) -> list[Effect]:
        facts: list[Effect] = []
        if intent.mileage_km is not None or intent.fault is not None:
            facts.append(NoteFacts(intent.mileage_km, intent.fault))
        return [*facts, *handler(settings, c, intent, now)]

    return noted


def _opt_out(settings: Settings, c: Convo, intent: Intent, now: datetime) -> list[Effect]:
    return [OptOut(f"{c.channel}: {intent.text}")]


def _wrong_number(settings: Settings, c: Convo, intent: Intent, now: datetime) -> list[Effect]:
    """Whoever answered is not our customer: nothing more goes to this number (an opt-out that
    a corrected number lifts, see :data:`consent.WRONG_NUMBER`), and an advisor is asked to
    fix the customer's file."""
    return [
        OptOut(f"{consent.WRONG_NUMBER}{c.channel}: {intent.text}"),
        QueueCallback("bad_number"),
        Say("wrong_number", handoff=True),
    ]


def _no_conversation(settings: Settings, c: Convo, intent: Intent, now: datetime) -> list[Effect]:
    appt = c.appointment
    if appt is not None:
        booked = _to_booked(settings, c, appt, intent)
        if booked is not None:
            return booked
    if c.awaiting_person and c.channel == "sms" and intent.kind not in _STARTS_OVER:
        # Handed to a person: a "1" meant for the old offer, a "thanks" or a question is for
        # them (the desk shows it in the transcript), not the start of a new booking; an "OK"
        # to "an advisor will call you" needs no answer.  What they add for the visit (a
        # courtesy car, a technician, the mileage) waits for the advisor on the conversation.
        answer = Say(None if intent.kind == "confirm" else "handoff_pending")
        if not (
            intent.services or intent.technician is not None or intent.mileage_km or intent.fault
        ):
            return [answer]
        facts = NoteFacts(intent.mileage_km, intent.fault)
        wanted = NotePreference(intent.technician, tuple(convo.service_labels(c, intent)))
        return [NoteWhileWaiting(facts, wanted), answer]
    if intent.kind == "decline":
        sold: list[Effect] = [VehicleSold(None)] if intent.because == "vehicle_sold" else []
        # waiting for a person who is no longer needed: the advisor is spared the call
        off: list[Effect] = [CallOff(intent.text)] if c.awaiting_person else []
        return [*sold, *off, Say("declined", {"because": intent.because})]
    if intent.kind == "cancel_appointment":
        return [Say("no_appointment")]
    if intent.kind == "question":
        # Asked before any conversation ("你们周日营业吗", "how much is a service"): answered as
        # it stands; nothing is opened until the customer asks to book.
        return _question(settings, c, intent, now)
    # Anything else starts a passive booking: what do you need, then slots.
    need = intent.need or ("repair" if intent.fault else None)
    if need is None:
        preference = convo.pref_json(intent.preference)
        return [Open("inbound", State.ASKED_NEED, preference=preference), Say("ask_need")]
    return [Open("inbound", need=need), Offer(intent.preference)]


def _to_booked(
    settings: Settings, c: Convo, appt: Appointment, intent: Intent
) -> list[Effect] | None:
    """A reply from a customer with an appointment and no conversation (None: read it as if
    they had none)."""
    context = appointment_context(settings, c, appt)
    if intent.kind == "confirm":
        # "They are coming": the board shows it, and the advisor prepares for them.
        return [ConfirmArrival(appt), Say("arrival_confirmed", context)]
    if intent.kind in ("technician", "special_service"):
        return _note_preference(c, intent, appt)
    if intent.kind == "cancel_appointment":
        return [Cancel(appt)]
    if intent.kind in ("reschedule", "propose_time"):
        reopen = Open("reschedule", mode="reschedule", appointment_id=appt.id)
        return [reopen, Offer(intent.preference, intro="reschedule")]
    if intent.kind in ("mileage", "fault"):
        return [Say("noted", {"noted": convo.noted(c, intent)})]
    if intent.because == "vehicle_sold":
        # A booked car that is no longer theirs: a person sorts out the appointment.
        return [HandOff("vehicle_sold")]
    if intent.kind == "running_late":
        return [NoteOnAppointment(appt, intent.text), Say("late_noted", context)]
    if intent.kind == "add_work" or (intent.kind == "book_request" and _more_work(appt, intent)):
        # More work on a booked visit ("我想加一个四轮定位"): written on the appointment, and
        # an advisor confirms it fits (labour, bays) — never a second booking beside the first.
        return [
            NoteOnAppointment(appt, intent.text),
            QueueCallback("extra_work"),
            Say("extra_work_noted", context),
        ]
    if intent.kind in ("choose_option", "question", "unknown", "decline", "book_request"):
        return [Say("already_booked", context)]
    return None


# Replies that still start a new booking while an advisor is to call the customer back.
_STARTS_OVER = frozenset({"book_request", "propose_time", "reschedule", "decline"})


def _more_work(appt: Appointment, intent: Intent) -> bool:
    """Whether a booked customer's request asks for another kind of work than the visit holds
    (work added in so many words, "顺便", "also", is ``add_work`` already)."""
    booked = {j.job_code for j in appt.jobs}
    return intent.need is not None and slots.job_for_need(intent.need) not in booked


def _note_preference(
    c: Convo, intent: Intent, appt: Appointment | None, extra: dict[str, Any] | None = None
) -> list[Effect]:
    """A designated technician or special services: on the appointment (or kept for it)."""
    labels = convo.service_labels(c, intent)
    context = {"technician": intent.technician, "services": labels, **(extra or {})}
    return [
        NotePreference(intent.technician, tuple(labels), appt),
        Say("preference_noted", context),
    ]


def _miss(c: Convo, template: str, extra: dict[str, Any] | None = None) -> list[Effect]:
    """A reply not understood: one clarifying question, and the second in a row an advisor."""
    misses = c.state.misses + 1
    answer = HandOff("not_understood") if misses >= 2 else Say(template, extra or {})
    return [Remember(misses=misses), answer]


def _asked_need(settings: Settings, c: Convo, intent: Intent, now: datetime) -> list[Effect]:
    need = intent.need
    if intent.kind == "choose_option" and intent.option:
        need = NEEDS[intent.option - 1]
    elif intent.fault and not need:
        need = "repair"
    if intent.kind in ("decline", "cancel_appointment"):
        return [Decline(intent.because)]
    if need is None and intent.preference is None:
        return _miss(c, "ask_need")
    pref = intent.preference or convo.pref_from_json(c.state.preference)
    return [Remember(need=need, misses=0), Offer(pref)]


LOW_RATING = 2  # this or less: the service manager's team calls the customer back


def _followup(settings: Settings, c: Convo, intent: Intent, now: datetime) -> list[Effect]:
    """The answer to "how was your visit?": a rating, remarks, or a new booking.

    Every remark stays in the transcript (the customer file); a low rating or remarks that
    need an answer go to an advisor.  A complaint never gets here: it always goes to a person.
    """
    if intent.kind in ("book_request", "propose_time", "reschedule"):
        return [BookAgain(), *_offered(settings, c, intent, now)]  # a new booking
    rating = intent.rating
    # A fault or a question after a visit needs an answer; so do words without a rating.
    remarks = (
        intent.kind in ("fault", "question")
        or (intent.kind == "unknown" and rating is None)
        or intent.fault is not None  # "5分，但是刹车还有异响": the fault needs an answer
    )
    rated = f"rated {rating}/{RATING_MAX}" if rating is not None else None
    if (rating is not None and rating <= LOW_RATING) or intent.concern:
        outcome = f"{rated or 'remarks'}: advisor to call"
        # A complaint with the rating: plan files that instead.
        callback: list[Effect] = [] if intent.concern else [QueueCallback("low_rating")]
        sorry = Say("followup_reply", {"reply": "sorry"}, handoff=True)
        return [Rate(rating), Close("closed", outcome), *callback, sorry]
    if remarks:
        outcome = f"{rated}, remarks: advisor to read" if rated else "remarks: advisor to read"
        noted = Say("followup_reply", {"reply": "noted"})
        return [Rate(rating), Close("closed", outcome), QueueCallback("feedback"), noted]
    closing: list[Effect] = [Rate(rating), Close("closed", rated or "followed up: no rating")]
    # ("thanks" never gets here: plan answers it with nothing.)
    quiet = rating is None and intent.kind in ("confirm", "decline")
    return [*closing, Say(None if quiet else "followup_reply", {"reply": "thanks"})]


def _offered(settings: Settings, c: Convo, intent: Intent, now: datetime) -> list[Effect]:
    ctx = c.state
    offered = ctx.slots
    kind = intent.kind
    if kind == "choose_option" and intent.option and intent.option <= len(offered):
        return [Take(offered[intent.option - 1])]
    if kind == "confirm":
        if offered and (len(offered) == 1 or ctx.confirming):
            return [Take(offered[0])]
        if offered:
            return [Remember(misses=0), Say("which_option", slots_context(settings, c, offered))]
        return [Offer(None)]
    if kind in ("propose_time", "reschedule", "book_request") and intent.preference is not None:
        pref = booking.on_the_day_asked(settings, c, intent.preference, now)
        return [Offer(pref, exact=True)]
    if kind == "reschedule":
        return [Remember(misses=0), Say("ask_time", slots_context(settings, c, offered))]
    if kind == "book_request" or (kind == "propose_time" and not offered):
        need: list[Effect] = [Remember(need=intent.need)] if intent.need else []
        return [*need, Offer(intent.preference)]
    if kind == "decline":
        return [Decline(intent.because)]
    if kind == "cancel_appointment":
        if c.appointment is not None and ctx.mode == "reschedule":
            return [Cancel(c.appointment)]
        return [Decline()]
    extra = slots_context(settings, c, offered)
    if kind in ("mileage", "fault"):
        return [Remember(misses=0), Say("noted", {"noted": convo.noted(c, intent), **extra})]
    if kind in ("technician", "special_service"):
        return [Remember(misses=0), *_note_preference(c, intent, None, extra)]
    if kind == "question":
        return _question(settings, c, intent, now)
    if c.offer_unseen and offered:  # they have not seen the times yet: show them, no miss
        return [Say("slot_options", {"intro": None, **extra})]
    return _miss(c, "clarify", extra)


def _question(settings: Settings, c: Convo, intent: Intent, now: datetime) -> list[Effect]:
    """Answer what the scripts know (price, duration, opening hours, address); anything else
    goes to a person."""
    if c.outreach is not None:
        jobs = c.state.jobs or booking.jobs_of(settings, c)
    else:  # no conversation: the work the question names, else the workshop's first job
        jobs = slots.jobs_for(settings, None, intent.need)
    est = slots.estimate(settings, jobs, c.locale)
    topic = intent.topic
    if topic == "address" and not settings.dealership.address_in(c.locale):
        topic = None
    if topic is None:
        return [HandOff("question")]
    answer = {"topic": topic, "price": est.price, "hours": est.labour_hours}
    said = Say("answer", {"answer": answer, **slots_context(settings, c, c.state.slots or [])})
    return [Remember(misses=0), said] if c.outreach is not None else [said]


# (state, intent) → handler; "*" is any.  The first rows answer whatever the state; the state
# rows read every other reply in the state's own terms.
HANDLERS: dict[tuple[str, str], Handler] = {
    ("*", "opt_out"): _opt_out,
    ("*", "opt_in"): _opt_in,
    ("*", "help"): lambda settings, c, intent, now: [Say("help")],
    ("*", "complaint"): _person,
    ("*", "call_me"): _person,
    ("*", "other_need"): _person,
    ("*", "wrong_number"): _wrong_number,
    ("*", "thanks"): lambda settings, c, intent, now: [Say(None)],  # nothing to answer
    ("none", "*"): _noting(_no_conversation),
    (State.NEW.value, "*"): _noting(_offered),
    (State.OFFERED.value, "*"): _noting(_offered),
    (State.ASKED_NEED.value, "*"): _noting(_asked_need),
    (State.FOLLOWUP.value, "*"): _noting(_followup),
}
