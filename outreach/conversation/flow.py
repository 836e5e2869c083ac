"""The booking conversation as a state machine over ``Outreach.state`` / ``Outreach.context``.

:func:`respond` takes one understood reply and decides what happens and which script answers;
it is the same for SMS and voice (the callers render for their channel).  States:

``offered``   slots are listed in ``context["slots"]`` (``mode`` "book" or "reschedule")
``asked_need`` an inbound customer was asked what they need (five numbered needs)
``followup``  after a visit, the customer was asked to rate it 1-5 (跟踪回访); no slots held
``booked`` / ``declined`` / ``handed_off`` / ``opted_out`` — the conversation is closed.

Misses are counted in ``context["misses"]`` and reset by any reply that was understood: the
first miss gets one clarifying question, the second in a row goes to an advisor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from outreach import consent, job_lines, outbox
from outreach.conversation import records, slots
from outreach.conversation.numerals import cn_to_int
from outreach.conversation.texts import lang
from outreach.conversation.understand import NEEDS, Intent
from outreach.models import Appointment, Customer, Outreach
from outreach.preferences import SlotPreference
from outreach.settings import Settings

CLOSING = {"booked", "declined", "handed_off", "opted_out", "closed"}
# How a special service asked for is written on the appointment (the board shows it).
SERVICE_LABELS = {
    "car_wash": ("洗车", "car wash"),
    "courtesy_car": ("代步车", "courtesy car"),
    "pickup": ("上门取送车", "pick-up and delivery"),
}


@dataclass
class Convo:
    """Who is talking, in which conversation, about which appointment."""

    customer: Customer
    outreach: Outreach | None
    appointment: Appointment | None
    channel: str
    # The outreach whose queued messages this reply already cancelled (spares a repeat).
    outbox_cleared_for: int | None = None
    awaiting_person: bool = False  # an advisor has yet to call them back

    @property
    def ctx(self) -> dict[str, Any]:
        return dict(self.outreach.context or {}) if self.outreach else {}

    def update(self, **changes: Any) -> None:
        """Replace the JSON context (in-place changes to a JSON column are not tracked)."""
        assert self.outreach is not None  # noqa: S101 - callers open a conversation first
        self.outreach.context = {**(self.outreach.context or {}), **changes}

    @property
    def locale(self) -> str:
        return lang(self.customer.locale)


@dataclass
class Step:
    """The answer to one reply: a script name and its variables (None: say nothing)."""

    template: str | None
    context: dict[str, Any] = field(default_factory=dict)
    handoff: bool = False
    booked: Appointment | None = None


def options_for(outreach: Outreach | None) -> tuple[int, bool]:
    """How many numbered choices the customer is looking at, and whether a yes/no is pending."""
    if outreach is None:
        return 0, False
    ctx = outreach.context or {}
    if outreach.state == "asked_need":
        return len(NEEDS), False
    if outreach.state == "followup":
        return RATING_MAX, False
    return len(ctx.get("slots") or []), bool(ctx.get("confirming"))


def respond(
    session: Session, settings: Settings, c: Convo, intent: Intent, *, now: datetime
) -> Step:
    """Advance the conversation by one understood reply (never commits)."""
    customer = c.customer
    if intent.kind == "opt_out":
        return _opt_out(session, c, intent, now)
    if intent.kind == "opt_in":
        changed = consent.opt_in(session, customer, source=f"{c.channel}:{intent.text}", now=now)
        return Step("opt_in_confirmation" if changed else None)
    if intent.kind == "help":
        return Step("help")
    if customer.opted_out_at is not None:
        # No messages to an opted-out customer; a person still hears a complaint or a request.
        if intent.kind in ("complaint", "call_me"):
            records.hand_off(session, customer, c.outreach, reason=intent.kind, now=now)
            return Step(None, handoff=True)
        return Step(None)
    if intent.kind in ("complaint", "call_me"):
        return _hand_off(session, c, intent.kind, now)
    if intent.kind == "wrong_number":
        return _wrong_number(session, c, intent, now)
    if intent.kind == "thanks":
        return Step(None)  # a thank-you needs no answer (and costs the dealership nothing)
    _note_facts(c, intent)
    if c.outreach is None:
        return _no_conversation(session, settings, c, intent, now)
    if c.outreach.state == "asked_need":
        return _asked_need(session, settings, c, intent, now)
    if c.outreach.state == "followup":
        return _followup(session, settings, c, intent, now)
    return _offered(session, settings, c, intent, now)


def _opt_out(
    session: Session, c: Convo, intent: Intent, now: datetime, *, prefix: str = ""
) -> Step:
    source = f"{prefix}{c.channel}: {intent.text}"
    changed = consent.opt_out(session, c.customer, source=source, now=now)
    slots.release(session, c.customer.id)
    outbox.cancel_pending(session, customer_id=c.customer.id, reason="opted out")
    if c.outreach is not None:
        session.refresh(c.outreach)
        c.outreach.state = "opted_out"
    return Step("opt_out_confirmation" if changed else None)


def _wrong_number(session: Session, c: Convo, intent: Intent, now: datetime) -> Step:
    """Whoever answered is not our customer: nothing more goes to this number (an opt-out that
    a corrected number lifts, see :data:`consent.WRONG_NUMBER`), and an advisor is asked to
    fix the customer's file."""
    _opt_out(session, c, intent, now, prefix=consent.WRONG_NUMBER)
    records.queue_callback(session, c.customer, c.outreach, reason="bad_number", now=now)
    return Step("wrong_number", handoff=True)


def _hand_off(session: Session, c: Convo, reason: str, now: datetime) -> Step:
    slots.release(session, c.customer.id)
    records.hand_off(session, c.customer, c.outreach, reason=reason, now=now)
    return Step("handoff", handoff=True)


def _note_facts(c: Convo, intent: Intent) -> None:
    """Mileage and faults go on the appointment and the conversation, whatever else happens."""
    if intent.mileage_km is None and intent.fault is None:
        return
    if c.appointment is not None:
        if intent.mileage_km is not None:
            c.appointment.mileage_reported_km = intent.mileage_km
        if intent.fault:
            before = c.appointment.faults_reported
            c.appointment.faults_reported = f"{before}\n{intent.fault}" if before else intent.fault
    if c.outreach is not None:
        ctx = c.ctx
        if intent.mileage_km is not None:
            c.update(mileage_km=intent.mileage_km)
        if intent.fault:
            c.update(faults=[*ctx.get("faults", []), intent.fault])


def _noted(c: Convo, intent: Intent) -> dict[str, Any]:
    """What was put on file, for the ``noted`` script."""
    return {"mileage_km": intent.mileage_km, "fault": intent.fault}


def _preference(
    c: Convo, intent: Intent, appt: Appointment | None, extra: dict[str, Any] | None = None
) -> Step:
    """A designated technician or special services: on the appointment (or kept for it)."""
    sep = "、" if c.locale == "zh-CN" else ", "
    labels = [SERVICE_LABELS[s][0 if c.locale == "zh-CN" else 1] for s in intent.services]
    held = appt.special_services if appt is not None else c.ctx.get("services")
    services = list(dict.fromkeys([*(s for s in (held or "").split(sep) if s), *labels]))
    joined = sep.join(services) or None
    if appt is not None:
        if intent.technician is not None:
            appt.designated_technician = intent.technician or None
        if labels:
            appt.special_services = joined
    else:
        if intent.technician is not None:
            c.update(technician=intent.technician)
        if labels:
            c.update(services=joined)
    context = {"technician": intent.technician, "services": labels}
    return Step("preference_noted", {**context, **(extra or {})})


# --- no open conversation ----------------------------------------------------------------


def _no_conversation(
    session: Session, settings: Settings, c: Convo, intent: Intent, now: datetime
) -> Step:
    appt = c.appointment
    if appt is not None and appt.reminded_at is not None and intent.kind == "choose_option":
        # The answer to the day-before message: 1 confirms, 2 asks for another time.
        intent = replace(intent, kind="confirm" if intent.option == 1 else "reschedule")
    if appt is not None and appt.reminded_at is not None and intent.kind == "confirm":
        # "They are coming": the board shows it, and the advisor prepares for them.
        appt.confirmed_at = appt.confirmed_at or now
        return Step("arrival_confirmed", appointment_context(settings, c, appt))
    if appt is not None:
        if intent.kind in ("technician", "special_service"):
            return _preference(c, intent, appt)
        if intent.kind == "cancel_appointment":
            return _cancel(session, settings, c, appt, now)
        if intent.kind in ("reschedule", "propose_time"):
            _open(session, c, now, campaign="reschedule", mode="reschedule", appointment_id=appt.id)
            return _offer(session, settings, c, intent.preference, now, intro="reschedule")
        if intent.kind in ("mileage", "fault"):
            return Step("noted", {"noted": _noted(c, intent)})
        if intent.because == "vehicle_sold":
            # A booked car that is no longer theirs: a person sorts out the appointment.
            return _hand_off(session, c, "vehicle_sold", now)
        if intent.kind == "running_late":
            _note_on(settings, appt, c, intent, now)
            return Step("late_noted", appointment_context(settings, c, appt))
        if intent.kind == "book_request" and _more_work(appt, intent):
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
        # to "an advisor will call you" needs no answer.
        return Step(None if intent.kind == "confirm" else "handoff_pending")
    if intent.kind == "decline":
        if intent.because == "vehicle_sold":
            _vehicle_sold(c, None)
        return Step("declined", {"because": intent.because})
    if intent.kind == "cancel_appointment":
        return Step("no_appointment")
    # Anything else starts a passive booking: what do you need, then slots.
    need = intent.need or ("repair" if intent.fault else None)
    if need is None:
        preference = _pref_json(intent.preference)
        _open(session, c, now, campaign="inbound", state="asked_need", preference=preference)
        return Step("ask_need")
    _open(session, c, now, campaign="inbound", need=need)
    return _offer(session, settings, c, intent.preference, now)


# Replies that still start a new booking while an advisor is to call the customer back.
_STARTS_OVER = frozenset({"book_request", "propose_time", "reschedule", "decline"})


_ADD = re.compile(r"加|追加|另外|顺便|还要|还想|\balso\b|\bas well\b|\badd|\btoo\b|\bextra\b")


def _more_work(appt: Appointment, intent: Intent) -> bool:
    """Whether a booked customer's request asks for more than the visit holds: another kind
    of work, or work added in so many words ("加", "还要", "also")."""
    booked = {j.job_code for j in appt.jobs}
    other = intent.need is not None and slots.job_for_need(intent.need) not in booked
    return other or bool(_ADD.search(intent.text.lower()))


def _note_on(
    settings: Settings, appt: Appointment, c: Convo, intent: Intent, now: datetime
) -> None:
    """Write what the customer said on the appointment's notes (the board shows them)."""
    line = f"{now.astimezone(settings.tz):%Y-%m-%d %H:%M} {c.channel}: {intent.text}"
    appt.notes = f"{appt.notes}\n{line}" if appt.notes else line


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
    _note_on(settings, appt, c, intent, now)
    records.queue_callback(session, c.customer, None, reason="extra_work", now=now)
    return Step("extra_work_noted", appointment_context(settings, c, appt))


def _open(
    session: Session, c: Convo, now: datetime, *, campaign: str, state: str = "new", **ctx: Any
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
        state=state,
        context=ctx,
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
        return _decline(session, c, now, intent.because)
    if need is None and intent.preference is None:
        return _miss(session, c, now, template="ask_need")
    c.update(need=need, misses=0)
    pref = intent.preference or _pref_from_json(c.ctx.get("preference"))
    return _offer(session, settings, c, pref, now)


# --- after a visit ---------------------------------------------------------------------------

RATING_MAX = 5
LOW_RATING = 2  # this or less: the service manager's team calls the customer back
_RATING = re.compile(
    r"^\s*([1-5一二三四五])\s*(?:分|星|颗星|stars?|/\s*5|分满意)?(?=$|[\s,，。.!！、:：;；])"
)


def _followup(
    session: Session, settings: Settings, c: Convo, intent: Intent, now: datetime
) -> Step:
    """The answer to "how was your visit?": a rating, remarks, or a new booking.

    Every remark stays in the transcript (the customer file); a low rating or remarks that
    need an answer go to an advisor.  A complaint never gets here: it always goes to a person.
    """
    assert c.outreach is not None  # noqa: S101
    if intent.kind in ("book_request", "propose_time", "reschedule"):
        c.outreach.state = "offered"  # they want to come in again: a booking like any other
        return _offered(session, settings, c, intent, now)
    rating = _rating_of(intent)
    # A fault or a question after a visit needs an answer; so do words without a rating.
    remarks = intent.kind in ("fault", "question") or (intent.kind == "unknown" and rating is None)
    c.outreach.status = "closed"
    c.outreach.state = "closed"
    c.outreach.closed_at = now
    c.outreach.rating = rating
    if rating is not None and rating <= LOW_RATING:
        c.outreach.outcome = f"rated {rating}/{RATING_MAX}: advisor to call"
        records.queue_callback(session, c.customer, c.outreach, reason="low_rating", now=now)
        return Step("followup_reply", {"reply": "sorry"}, handoff=True)
    if remarks:
        rated = f"rated {rating}/{RATING_MAX}, " if rating is not None else ""
        c.outreach.outcome = f"{rated}remarks: advisor to read"
        records.queue_callback(session, c.customer, c.outreach, reason="feedback", now=now)
        return Step("followup_reply", {"reply": "noted"})
    if rating is None:
        c.outreach.outcome = "followed up: no rating"
        # ("thanks" never gets here: respond answers it with nothing.)
        quiet = intent.kind in ("confirm", "decline")
        return Step(None if quiet else "followup_reply", {"reply": "thanks"})
    c.outreach.outcome = f"rated {rating}/{RATING_MAX}"
    return Step("followup_reply", {"reply": "thanks"})


def _rating_of(intent: Intent) -> int | None:
    if intent.kind == "choose_option" and intent.option:
        return intent.option
    if m := _RATING.match(intent.text):
        return cn_to_int(m[1])
    return None


# --- slots offered --------------------------------------------------------------------------


def _offered(session: Session, settings: Settings, c: Convo, intent: Intent, now: datetime) -> Step:
    ctx = c.ctx
    offered: list[dict[str, Any]] = ctx.get("slots") or []
    kind = intent.kind
    if kind == "choose_option" and intent.option and intent.option <= len(offered):
        return _take(session, settings, c, offered[intent.option - 1], now)
    if kind == "confirm":
        if offered and (len(offered) == 1 or ctx.get("confirming")):
            return _take(session, settings, c, offered[0], now)
        if offered:
            c.update(misses=0)
            return Step("which_option", slots_context(settings, c, offered))
        return _offer(session, settings, c, None, now)
    if kind in ("propose_time", "reschedule", "book_request") and intent.preference is not None:
        pref = _on_the_day_asked(settings, c, intent.preference, now)
        return _offer(session, settings, c, pref, now, exact=True)
    if kind == "reschedule":
        c.update(misses=0)
        return Step("ask_time", slots_context(settings, c, offered))
    if kind == "book_request" or (kind == "propose_time" and not offered):
        if intent.need:
            c.update(need=intent.need)
        return _offer(session, settings, c, intent.preference, now)
    if kind == "decline":
        return _decline(session, c, now, intent.because)
    if kind == "cancel_appointment":
        if c.appointment is not None and ctx.get("mode") == "reschedule":
            return _cancel(session, settings, c, c.appointment, now)
        return _decline(session, c, now)
    if kind in ("mileage", "fault"):
        c.update(misses=0)
        return Step("noted", {"noted": _noted(c, intent), **slots_context(settings, c, offered)})
    if kind in ("technician", "special_service"):
        c.update(misses=0)
        return _preference(c, intent, None, slots_context(settings, c, offered))
    if kind == "question":
        return _question(session, settings, c, intent, now)
    return _miss(session, c, now, template="clarify", extra=slots_context(settings, c, offered))


def _offer(
    session: Session,
    settings: Settings,
    c: Convo,
    preference: SlotPreference | None,
    now: datetime,
    *,
    exact: bool = False,
    intro: str | None = None,
) -> Step:
    """Offer (and hold) up to three slots near the preference; book at once on an exact match."""
    assert c.outreach is not None  # noqa: S101 - only called inside a conversation
    ctx = c.ctx
    jobs = ctx.get("jobs") or _jobs(settings, c)
    slots.release(session, c.customer.id)
    hold = "voice" if c.channel == "voice" else "sms"
    found = slots.offer(
        session, settings, jobs=jobs, preference=preference, now=now,
        customer_id=c.customer.id, hold_for=hold,
    )  # fmt: skip
    note = None
    if not found and preference is not None:
        # Nothing at the time asked for: say whether we are closed then or only full.
        closed = slots.never_open(settings, jobs=jobs, preference=preference, now=now)
        too_far = slots.past_horizon(settings, preference=preference, now=now)
        note = "closed" if closed else "too_far" if too_far else "full"
        found = slots.offer(
            session, settings, jobs=jobs, preference=None, now=now,
            customer_id=c.customer.id, hold_for=hold,
        )  # fmt: skip
    if not found and not c.ctx.get("no_slots_queued"):
        # Nothing free in the horizon: the script says an advisor will arrange a time, so one
        # is asked to (once per conversation); the customer may still name another date.
        records.queue_callback(session, c.customer, c.outreach, reason="no_slots", now=now)
        c.update(no_slots_queued=True)
    c.outreach.state = "offered"
    asked = _pref_json(preference) if preference is not None and preference.on else None
    c.update(slots=found, jobs=jobs, misses=0, confirming=False, asked=asked)
    if exact and found and _is_exact(settings, found[0], preference):
        return _take(session, settings, c, found[0], now)
    if intro == "reschedule":
        note = "reschedule"
    return Step("slot_options", {"intro": note, **slots_context(settings, c, found)})


def _on_the_day_asked(
    settings: Settings, c: Convo, pref: SlotPreference, now: datetime
) -> SlotPreference:
    """ "下午三点半" right after "明天下午…" means tomorrow: a time with no day of its own keeps
    the day the customer asked for in their last reply (while that day is still ahead)."""
    if pref.earliest or pref.on is not None or pref.weekday is not None or pref.not_before:
        return pref
    asked = _pref_from_json(c.ctx.get("asked"))
    if asked is None or asked.on is None or asked.on < now.astimezone(settings.tz).date():
        return pref
    return replace(pref, on=asked.on)


def _is_exact(settings: Settings, slot: dict[str, Any], pref: SlotPreference | None) -> bool:
    if pref is None or pref.at is None:
        return False
    local = slots.starts_at(slot).astimezone(settings.tz)
    return local.time() == pref.at and (pref.on is None or local.date() == pref.on)


def _jobs(settings: Settings, c: Convo) -> list[str]:
    assert c.outreach is not None  # noqa: S101
    if c.ctx.get("mode") == "reschedule" and c.appointment is not None:
        return [j.job_code for j in c.appointment.jobs]
    return slots.jobs_for(settings, c.outreach, c.ctx.get("need"))


def _take(
    session: Session, settings: Settings, c: Convo, slot: dict[str, Any], now: datetime
) -> Step:
    """Book (or move the appointment to) the chosen slot; a lost race offers new slots."""
    assert c.outreach is not None  # noqa: S101
    ctx = c.ctx
    try:
        if ctx.get("mode") == "reschedule" and c.appointment is not None:
            appt = slots.move(session, settings, c.appointment, slot, now=now)
            template = "rescheduled"
        else:
            source = "inbound" if c.outreach.campaign in ("inbound",) else "bot"
            appt = slots.book(
                session, settings, c.outreach, slot, jobs=ctx.get("jobs") or _jobs(settings, c),
                now=now, source=source,
            )  # fmt: skip
            template = "confirmation"
    except (slots.SlotTaken, slots.SlotUnavailable):
        slots.release(session, c.customer.id)
        found = slots.offer(
            session, settings, jobs=ctx.get("jobs") or _jobs(settings, c), preference=None,
            now=now, customer_id=c.customer.id,
            hold_for="voice" if c.channel == "voice" else "sms",
        )  # fmt: skip
        c.update(slots=found, confirming=False, misses=0)
        return Step("slot_taken", slots_context(settings, c, found))
    if template == "confirmation":  # the offer's deferred items become the visit's job lines
        job_lines.record_job_lines(
            session, settings, appt, job_lines.offered_items(session, c.outreach)
        )
    if ctx.get("mileage_km") is not None:
        appt.mileage_reported_km = ctx["mileage_km"]
    if ctx.get("faults"):
        appt.faults_reported = "\n".join(ctx["faults"])
    if "technician" in ctx:
        appt.designated_technician = ctx["technician"] or None
    if ctx.get("services"):
        appt.special_services = ctx["services"]
    c.appointment = appt
    c.outreach.status = "booked"
    c.outreach.state = "booked"
    c.outreach.closed_at = now
    c.outreach.outcome = f"booked appointment {appt.id}"
    c.update(slots=[], appointment_id=appt.id, misses=0, confirming=False)
    _cancel_queued(session, c, reason="booked")
    if c.awaiting_person:
        records.settle_callbacks(session, c.customer.id)
    return Step(template, appointment_context(settings, c, appt), booked=appt)


def _cancel(
    session: Session, settings: Settings, c: Convo, appt: Appointment, now: datetime
) -> Step:
    context = appointment_context(settings, c, appt)
    slots.cancel(session, settings, appt, now)
    if c.outreach is not None and c.outreach.status in ("planned", "open"):
        c.outreach.status = "closed"
        c.outreach.state = "closed"
        c.outreach.closed_at = now
        c.outreach.outcome = f"appointment {appt.id} cancelled by the customer"
    return Step("cancelled", context)


# Why a customer said no, as the conversation's outcome reads (the desk and the results show it).
DECLINE_OUTCOMES = {
    None: "declined by the customer",
    "later": "declined for now: later",
    "serviced_elsewhere": "declined: already serviced (elsewhere)",
    "vehicle_sold": "declined: the vehicle was sold",
}


def _decline(session: Session, c: Convo, now: datetime, because: str | None = None) -> Step:
    assert c.outreach is not None  # noqa: S101
    slots.release(session, c.customer.id)
    _cancel_queued(session, c, reason="declined")
    c.outreach.status = "declined"
    c.outreach.state = "declined"
    c.outreach.closed_at = now
    c.outreach.outcome = DECLINE_OUTCOMES.get(because, DECLINE_OUTCOMES[None])
    c.update(slots=[], **({"because": because} if because else {}))
    if because == "vehicle_sold":
        _vehicle_sold(c, c.outreach.vehicle_id)
    return Step("declined", {"because": because})


def _vehicle_sold(c: Convo, vehicle_id: int | None) -> None:
    """The customer sold the car: it leaves every campaign (``Vehicle.active``).  Which car:
    the conversation's, or without one the customer's only active car (never a guess)."""
    active = [v for v in c.customer.vehicles if v.active]
    if vehicle_id is not None:
        active = [v for v in active if v.id == vehicle_id]
    if len(active) == 1:
        active[0].active = False


def _cancel_queued(session: Session, c: Convo, *, reason: str) -> None:
    """Cancel the conversation's queued messages, unless this reply already did."""
    assert c.outreach is not None  # noqa: S101
    if c.outbox_cleared_for != c.outreach.id:
        outbox.cancel_pending(session, outreach_id=c.outreach.id, reason=reason)


def _miss(
    session: Session, c: Convo, now: datetime, *, template: str, extra: dict[str, Any] | None = None
) -> Step:
    misses = int(c.ctx.get("misses", 0)) + 1
    c.update(misses=misses)
    if misses >= 2:
        return _hand_off(session, c, "not_understood", now)
    return Step(template, extra or {})


_PRICE = re.compile(r"多少钱|价格|价钱|费用|报价|how much|price|cost")
_DURATION = re.compile(r"多久|多长时间|几个小时|how long")
_WHERE = re.compile(r"地址|在哪|哪里|where|address")
_HOURS = re.compile(
    r"几点(?:开门|关门|上班|下班|营业|开始|结束)|营业时间|上班时间|开门|关门|营业吗|"
    r"what time do you (?:open|close)|opening hours|business hours|are you open|when do you open"
)


def _question(
    session: Session, settings: Settings, c: Convo, intent: Intent, now: datetime
) -> Step:
    """Answer what the scripts know (price, duration, opening hours, address); anything else
    goes to a person."""
    text = intent.text.lower()
    jobs = c.ctx.get("jobs") or _jobs(settings, c)
    est = slots.estimate(settings, jobs, c.locale)
    topic = None
    if _PRICE.search(text):
        topic = "price"
    elif _DURATION.search(text):
        topic = "duration"
    elif _HOURS.search(text):
        topic = "hours"
    elif _WHERE.search(text) and settings.dealership.address_in(c.locale):
        topic = "address"
    if topic is None:
        return _hand_off(session, c, "question", now)
    answer = {"topic": topic, "price": est.price, "hours": est.labour_hours}
    c.update(misses=0)
    return Step(
        "answer", {"answer": answer, **slots_context(settings, c, c.ctx.get("slots") or [])}
    )


# --- script variables ---------------------------------------------------------------------


def slots_context(settings: Settings, c: Convo, offered: list[dict[str, Any]]) -> dict[str, Any]:
    """The slots on offer, for the scripts (texts.py shapes them)."""
    return {"slot_list": list(offered)}


def appointment_context(settings: Settings, c: Convo, appt: Appointment) -> dict[str, Any]:
    """The appointment, for the scripts (texts.py shapes it)."""
    return {"appointment": appt}


def _pref_json(pref: SlotPreference | None) -> dict[str, str] | None:
    if pref is None:
        return None
    return {
        k: v.isoformat() if hasattr(v, "isoformat") else v
        for k, v in vars(pref).items()
        if v is not None and v is not False
    }


def _pref_from_json(raw: dict[str, Any] | None) -> SlotPreference | None:
    if not raw:
        return None
    conv: dict[str, Any] = {
        "on": date.fromisoformat,
        "not_before": date.fromisoformat,
        "at": time.fromisoformat,
    }
    return SlotPreference(**{k: conv.get(k, lambda v: v)(v) for k, v in raw.items()})
