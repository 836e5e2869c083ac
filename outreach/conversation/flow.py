"""The booking conversation as a state machine over ``Outreach.state`` (:class:`State`) and
``Outreach.context`` (:class:`ConversationState`).

:func:`respond` takes one understood reply and calls the handler :data:`HANDLERS` names for
(state, intent); it is the same for SMS and voice (the callers render for their channel).  It
never reads the reply's text: everything it needs is on the :class:`Intent`.  States:

``offered``   slots are on offer (``ConversationState.slots``; ``mode`` "book" or "reschedule")
``asked_need`` an inbound customer was asked what they need (five numbered needs)
``followup``  after a visit, the customer was asked to rate it 1-5 (跟踪回访); no slots held
``booked`` / ``declined`` / ``handed_off`` / ``opted_out`` — closed, by :func:`close` only.

Misses are counted (``ConversationState.misses``) and reset by any reply that was understood:
the first miss gets one clarifying question, the second in a row goes to an advisor.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from outreach import consent, outbox
from outreach.conversation import booking, convo, records, slots
from outreach.conversation.convo import (
    RATING_MAX,
    Convo,
    Step,
    appointment_context,
    slots_context,
)
from outreach.conversation.state import ConversationState, State, close
from outreach.conversation.understand import NEEDS, Intent
from outreach.models import Appointment, Outreach
from outreach.settings import Settings

Handler = Callable[[Session, Settings, Convo, Intent, datetime], Step]


def respond(
    session: Session, settings: Settings, c: Convo, intent: Intent, *, now: datetime
) -> Step:
    """Advance the conversation by one understood reply (never commits): the handler of
    :data:`HANDLERS` for (state, intent), else for (any state, intent), else the state's.
    A reply that reads as a complaint beside what it asks (``Intent.concern``: "选2吧，不过
    上次洗车洗得跟没洗一样") is handled as it asks, and a person gets the complaint too."""
    where = c.outreach.state if c.outreach is not None else "none"
    if c.customer.opted_out_at is not None and intent.kind not in _CONSENT:
        return _opted_out(session, settings, c, intent, now)
    if intent.only_channel is not None:
        _keep_to(session, c, intent, now)
        if intent.kind == "unknown":  # nothing asked beside it: say it is noted
            offered = c.state.slots if c.outreach is not None else []
            context = {"only_channel": intent.only_channel, **slots_context(settings, c, offered)}
            return Step("channel_noted", context)
    handler = (
        HANDLERS.get((where, intent.kind))
        or HANDLERS.get(("*", intent.kind))
        or HANDLERS[(where, "*")]
    )
    step = handler(session, settings, c, intent, now)
    if intent.concern:
        records.queue_callback(session, c.customer, c.outreach, reason="complaint", now=now)
    return step


_CONSENT = frozenset({"opt_out", "opt_in", "help"})  # answered whether or not opted out


def _keep_to(session: Session, c: Convo, intent: Intent, now: datetime) -> None:
    """ "别打电话，短信联系就行": calls refused, texts asked for (or the reverse); the
    customer keeps to that way of contact, and the reply is handled as it asks."""
    assert intent.only_channel is not None  # noqa: S101
    source = f"{c.channel}: {intent.text}"
    consent.keep_to(session, c.customer, intent.only_channel, source=source, now=now)


def _opted_out(
    session: Session, settings: Settings, c: Convo, intent: Intent, now: datetime
) -> Step:
    """No messages to an opted-out customer; a person still hears a complaint or a request."""
    if intent.kind in ("complaint", "call_me", "other_need") or intent.concern:
        reason = "complaint" if intent.concern else intent.kind
        records.hand_off(session, c.customer, c.outreach, reason=reason, now=now)
        return Step(None, handoff=True)
    return Step(None)


def _opt_in(session: Session, settings: Settings, c: Convo, intent: Intent, now: datetime) -> Step:
    source = f"{c.channel}:{intent.text}"
    changed = consent.opt_in(session, c.customer, source=source, now=now)
    return Step("opt_in_confirmation" if changed else None)


def _person(session: Session, settings: Settings, c: Convo, intent: Intent, now: datetime) -> Step:
    """A complaint, a request for a person, a need outside the five: an advisor, first."""
    return convo.hand_off(session, c, intent.kind, now)


def _noting(handler: Handler) -> Handler:
    """The state's own handler, after the mileage and faults said are put on file."""

    def noted(
        session: Session, settings: Settings, c: Convo, intent: Intent, now: datetime
    ) -> Step:
        convo.note_facts(c, intent)
        return handler(session, settings, c, intent, now)

    return noted


def _opt_out(
    session: Session, settings: Settings, c: Convo, intent: Intent, now: datetime, prefix: str = ""
) -> Step:
    source = f"{prefix}{c.channel}: {intent.text}"
    changed = consent.opt_out(session, c.customer, source=source, now=now)
    slots.release(session, c.customer.id)
    outbox.cancel_pending(session, customer_id=c.customer.id, reason="opted out")
    if c.outreach is not None:
        session.refresh(c.outreach)
        c.outreach.state = State.OPTED_OUT.value
    return Step("opt_out_confirmation" if changed else None)


def _wrong_number(
    session: Session, settings: Settings, c: Convo, intent: Intent, now: datetime
) -> Step:
    """Whoever answered is not our customer: nothing more goes to this number (an opt-out that
    a corrected number lifts, see :data:`consent.WRONG_NUMBER`), and an advisor is asked to
    fix the customer's file."""
    _opt_out(session, settings, c, intent, now, prefix=consent.WRONG_NUMBER)
    records.queue_callback(session, c.customer, c.outreach, reason="bad_number", now=now)
    return Step("wrong_number", handoff=True)


def _no_conversation(
    session: Session, settings: Settings, c: Convo, intent: Intent, now: datetime
) -> Step:
    appt = c.appointment
    if appt is not None and intent.kind == "confirm":
        # "They are coming": the board shows it, and the advisor prepares for them.
        appt.confirmed_at = appt.confirmed_at or now
        return Step("arrival_confirmed", appointment_context(settings, c, appt))
    if appt is not None:
        if intent.kind in ("technician", "special_service"):
            return convo.note_preference(c, intent, appt)
        if intent.kind == "cancel_appointment":
            return booking.cancel(session, settings, c, appt, now)
        if intent.kind in ("reschedule", "propose_time"):
            _open(session, c, now, campaign="reschedule", mode="reschedule", appointment_id=appt.id)
            return booking.offer(session, settings, c, intent.preference, now, intro="reschedule")
        if intent.kind in ("mileage", "fault"):
            return Step("noted", {"noted": convo.noted(c, intent)})
        if intent.because == "vehicle_sold":
            # A booked car that is no longer theirs: a person sorts out the appointment.
            return convo.hand_off(session, c, "vehicle_sold", now)
        if intent.kind == "running_late":
            convo.note_on(settings, appt, c, intent, now)
            return Step("late_noted", appointment_context(settings, c, appt))
        if intent.kind == "add_work" or (
            intent.kind == "book_request" and _more_work(appt, intent)
        ):
            return _extra_work(session, settings, c, appt, intent, now)
        if intent.kind in (
            "confirm",
            "choose_option",
            "question",
            "unknown",
            "decline",
            "book_request",
        ):
            return Step("already_booked", appointment_context(settings, c, appt))
    if c.awaiting_person and c.channel == "sms" and intent.kind not in _STARTS_OVER:
        # Handed to a person: a "1" meant for the old offer, a "thanks" or a question is for
        # them (the desk shows it in the transcript), not the start of a new booking; an "OK"
        # to "an advisor will call you" needs no answer.  What they add for the visit (a
        # courtesy car, a technician, the mileage) waits for the advisor on the conversation.
        convo.note_while_waiting(session, c, intent)
        return Step(None if intent.kind == "confirm" else "handoff_pending")
    if intent.kind == "decline":
        if intent.because == "vehicle_sold":
            booking.vehicle_sold(c, None)
        return Step("declined", {"because": intent.because})
    if intent.kind == "cancel_appointment":
        return Step("no_appointment")
    if intent.kind == "question":
        # Asked before any conversation ("你们周日营业吗", "how much is a service"): answered as
        # it stands; nothing is opened until the customer asks to book.
        return _question(session, settings, c, intent, now)
    # Anything else starts a passive booking: what do you need, then slots.
    need = intent.need or ("repair" if intent.fault else None)
    if need is None:
        preference = convo.pref_json(intent.preference)
        _open(session, c, now, campaign="inbound", state=State.ASKED_NEED, preference=preference)
        return Step("ask_need")
    _open(session, c, now, campaign="inbound", need=need)
    return booking.offer(session, settings, c, intent.preference, now)


# Replies that still start a new booking while an advisor is to call the customer back.
_STARTS_OVER = frozenset({"book_request", "propose_time", "reschedule", "decline"})


def _more_work(appt: Appointment, intent: Intent) -> bool:
    """Whether a booked customer's request asks for another kind of work than the visit holds
    (work added in so many words, "顺便", "also", is ``add_work`` already)."""
    booked = {j.job_code for j in appt.jobs}
    return intent.need is not None and slots.job_for_need(intent.need) not in booked


def _extra_work(
    session: Session,
    settings: Settings,
    c: Convo,
    appt: Appointment,
    intent: Intent,
    now: datetime,
) -> Step:
    """More work on a booked visit ("我想加一个四轮定位"): written on the appointment, and an
    advisor confirms it fits (labour, bays) — never a second booking beside the first."""
    convo.note_on(settings, appt, c, intent, now)
    records.queue_callback(session, c.customer, None, reason="extra_work", now=now)
    return Step("extra_work_noted", appointment_context(settings, c, appt))


def _open(
    session: Session,
    c: Convo,
    now: datetime,
    *,
    campaign: str,
    state: State = State.NEW,
    **remember: Any,
) -> None:
    """Open a conversation with its first state and context (one INSERT, no UPDATE after)."""
    vehicle = next((v for v in c.customer.vehicles if v.active), None)
    c.outreach = Outreach(
        customer_id=c.customer.id,
        vehicle_id=vehicle.id if vehicle else None,
        status="open",
        channel=c.channel,
        campaign=campaign,
        planned_on=now.date(),
        opened_at=now,
        state=state.value,
        context=ConversationState(**remember).to_json(),
        created_at=now,
        reasons=[],  # a new conversation has none: spare the lazy load
    )
    session.add(c.outreach)
    session.flush()


def _asked_need(
    session: Session, settings: Settings, c: Convo, intent: Intent, now: datetime
) -> Step:
    need = intent.need
    if intent.kind == "choose_option" and intent.option:
        need = NEEDS[intent.option - 1]
    elif intent.fault and not need:
        need = "repair"
    if intent.kind in ("decline", "cancel_appointment"):
        return booking.decline(session, c, now, intent.because)
    if need is None and intent.preference is None:
        return convo.miss(session, c, now, template="ask_need")
    c.update(need=need, misses=0)
    pref = intent.preference or convo.pref_from_json(c.state.preference)
    return booking.offer(session, settings, c, pref, now)


LOW_RATING = 2  # this or less: the service manager's team calls the customer back


def _followup(
    session: Session, settings: Settings, c: Convo, intent: Intent, now: datetime
) -> Step:
    """The answer to "how was your visit?": a rating, remarks, or a new booking.

    Every remark stays in the transcript (the customer file); a low rating or remarks that
    need an answer go to an advisor.  A complaint never gets here: it always goes to a person.
    """
    assert c.outreach is not None  # noqa: S101
    if intent.kind in ("book_request", "propose_time", "reschedule"):
        c.outreach.state = State.OFFERED.value  # they want to come in again: a new booking
        return _offered(session, settings, c, intent, now)
    rating = intent.rating
    # A fault or a question after a visit needs an answer; so do words without a rating.
    remarks = (
        intent.kind in ("fault", "question")
        or (intent.kind == "unknown" and rating is None)
        or intent.fault is not None  # "5分，但是刹车还有异响": the fault needs an answer
    )
    c.outreach.rating = rating
    rated = f"rated {rating}/{RATING_MAX}" if rating is not None else None
    if (rating is not None and rating <= LOW_RATING) or intent.concern:
        outcome = f"{rated or 'remarks'}: advisor to call"
        close(c.outreach, status="closed", outcome=outcome, now=now)
        if not intent.concern:  # a complaint with the rating: respond files that instead
            records.queue_callback(session, c.customer, c.outreach, reason="low_rating", now=now)
        return Step("followup_reply", {"reply": "sorry"}, handoff=True)
    if remarks:
        outcome = f"{rated}, remarks: advisor to read" if rated else "remarks: advisor to read"
        close(c.outreach, status="closed", outcome=outcome, now=now)
        records.queue_callback(session, c.customer, c.outreach, reason="feedback", now=now)
        return Step("followup_reply", {"reply": "noted"})
    close(c.outreach, status="closed", outcome=rated or "followed up: no rating", now=now)
    if rating is None:
        # ("thanks" never gets here: respond answers it with nothing.)
        quiet = intent.kind in ("confirm", "decline")
        return Step(None if quiet else "followup_reply", {"reply": "thanks"})
    return Step("followup_reply", {"reply": "thanks"})


def _offered(session: Session, settings: Settings, c: Convo, intent: Intent, now: datetime) -> Step:
    ctx = c.state
    offered = ctx.slots
    kind = intent.kind
    if kind == "choose_option" and intent.option and intent.option <= len(offered):
        return booking.take(session, settings, c, offered[intent.option - 1], now)
    if kind == "confirm":
        if offered and (len(offered) == 1 or ctx.confirming):
            return booking.take(session, settings, c, offered[0], now)
        if offered:
            c.update(misses=0)
            return Step("which_option", slots_context(settings, c, offered))
        return booking.offer(session, settings, c, None, now)
    if kind in ("propose_time", "reschedule", "book_request") and intent.preference is not None:
        pref = booking.on_the_day_asked(settings, c, intent.preference, now)
        return booking.offer(session, settings, c, pref, now, exact=True)
    if kind == "reschedule":
        c.update(misses=0)
        return Step("ask_time", slots_context(settings, c, offered))
    if kind == "book_request" or (kind == "propose_time" and not offered):
        if intent.need:
            c.update(need=intent.need)
        return booking.offer(session, settings, c, intent.preference, now)
    if kind == "decline":
        return booking.decline(session, c, now, intent.because)
    if kind == "cancel_appointment":
        if c.appointment is not None and ctx.mode == "reschedule":
            return booking.cancel(session, settings, c, c.appointment, now)
        return booking.decline(session, c, now)
    if kind in ("mileage", "fault"):
        c.update(misses=0)
        return Step(
            "noted", {"noted": convo.noted(c, intent), **slots_context(settings, c, offered)}
        )
    if kind in ("technician", "special_service"):
        c.update(misses=0)
        return convo.note_preference(c, intent, None, slots_context(settings, c, offered))
    if kind == "question":
        return _question(session, settings, c, intent, now)
    extra = slots_context(settings, c, offered)
    if c.offer_unseen and offered:  # they have not seen the times yet: show them, no miss
        return Step("slot_options", {"intro": None, **extra})
    return convo.miss(session, c, now, template="clarify", extra=extra)


def _question(
    session: Session, settings: Settings, c: Convo, intent: Intent, now: datetime
) -> Step:
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
        return convo.hand_off(session, c, "question", now)
    answer = {"topic": topic, "price": est.price, "hours": est.labour_hours}
    if c.outreach is not None:
        c.update(misses=0)
    return Step("answer", {"answer": answer, **slots_context(settings, c, c.state.slots or [])})


# (state, intent) → handler; "*" is any.  The first three rows answer whatever the state;
# the state rows read every other reply in the state's own terms.
HANDLERS: dict[tuple[str, str], Handler] = {
    ("*", "opt_out"): _opt_out,
    ("*", "opt_in"): _opt_in,
    ("*", "help"): lambda session, settings, c, intent, now: Step("help"),
    ("*", "complaint"): _person,
    ("*", "call_me"): _person,
    ("*", "other_need"): _person,
    ("*", "wrong_number"): _wrong_number,
    ("*", "thanks"): lambda session, settings, c, intent, now: Step(None),  # nothing to answer
    ("none", "*"): _noting(_no_conversation),
    (State.NEW.value, "*"): _noting(_offered),
    (State.OFFERED.value, "*"): _noting(_offered),
    (State.ASKED_NEED.value, "*"): _noting(_asked_need),
    (State.FOLLOWUP.value, "*"): _noting(_followup),
}
