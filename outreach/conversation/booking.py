"""Booking steps: offer (and hold) slots, take one, cancel, decline."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from outreach import callbacks, job_lines
from outreach.conversation import convo, records, slots
from outreach.conversation.convo import Convo, Step, appointment_context, slots_context
from outreach.conversation.state import State, carry_facts, close
from outreach.models import Appointment
from outreach.preferences import SlotPreference
from outreach.settings import Settings


def offer(
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
    ctx = c.state
    jobs = ctx.jobs or jobs_of(settings, c)
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
    if not found and not c.state.no_slots_queued:
        # Nothing free in the horizon: the script says an advisor will arrange a time, so one
        # is asked to (once per conversation); the customer may still name another date.
        records.queue_callback(session, c.customer, c.outreach, reason="no_slots", now=now)
        c.update(no_slots_queued=True)
    c.outreach.state = State.OFFERED.value
    asked = convo.pref_json(preference) if preference is not None and preference.on else None
    c.update(slots=found, jobs=jobs, misses=0, confirming=False, asked=asked)
    if exact and found and _is_exact(settings, found[0], preference):
        return take(session, settings, c, found[0], now)
    if intro == "reschedule":
        note = "reschedule"
    return Step("slot_options", {"intro": note, **slots_context(settings, c, found)})


def on_the_day_asked(
    settings: Settings, c: Convo, pref: SlotPreference, now: datetime
) -> SlotPreference:
    """ "下午三点半" right after "明天下午…" means tomorrow: a time with no day of its own keeps
    the day the customer asked for in their last reply (while that day is still ahead)."""
    if pref.earliest or pref.on is not None or pref.weekday is not None or pref.not_before:
        return pref
    asked = convo.pref_from_json(c.state.asked)
    if asked is None or asked.on is None or asked.on < now.astimezone(settings.tz).date():
        return pref
    return replace(pref, on=asked.on)


def _is_exact(settings: Settings, slot: dict[str, Any], pref: SlotPreference | None) -> bool:
    if pref is None or pref.at is None:
        return False
    local = slots.starts_at(slot).astimezone(settings.tz)
    return local.time() == pref.at and (pref.on is None or local.date() == pref.on)


def jobs_of(settings: Settings, c: Convo) -> list[str]:
    assert c.outreach is not None  # noqa: S101
    if c.state.mode == "reschedule" and c.appointment is not None:
        return [j.job_code for j in c.appointment.jobs]
    return slots.jobs_for(settings, c.outreach, c.state.need)


def take(
    session: Session, settings: Settings, c: Convo, slot: dict[str, Any], now: datetime
) -> Step:
    """Book (or move the appointment to) the chosen slot; a lost race offers new slots."""
    assert c.outreach is not None  # noqa: S101
    ctx = c.state
    try:
        if ctx.mode == "reschedule" and c.appointment is not None:
            appt = slots.move(session, settings, c.appointment, slot, now=now)
            template = "rescheduled"
        else:
            source = "inbound" if c.outreach.campaign in ("inbound",) else "bot"
            appt = slots.book(
                session, settings, c.outreach, slot, jobs=ctx.jobs or jobs_of(settings, c),
                now=now, source=source,
            )  # fmt: skip
            template = "confirmation"
    except (slots.SlotTaken, slots.SlotUnavailable):
        slots.release(session, c.customer.id)
        found = slots.offer(
            session, settings, jobs=ctx.jobs or jobs_of(settings, c), preference=None,
            now=now, customer_id=c.customer.id,
            hold_for="voice" if c.channel == "voice" else "sms",
        )  # fmt: skip
        c.update(slots=found, confirming=False, misses=0)
        return Step("slot_taken", slots_context(settings, c, found))
    if template == "confirmation":  # the offer's deferred items become the visit's job lines
        job_lines.record_job_lines(
            session, settings, appt, job_lines.offered_items(session, c.outreach)
        )
    carry_facts(ctx, appt)
    c.appointment = appt
    close(c.outreach, status="booked", outcome=f"booked appointment {appt.id}", now=now)
    c.update(slots=[], appointment_id=appt.id, misses=0, confirming=False)
    convo.cancel_queued(session, c, reason="booked")
    if c.awaiting_person:
        callbacks.settle_callbacks(session, c.customer.id)
    return Step(template, appointment_context(settings, c, appt), booked=appt)


def cancel(
    session: Session, settings: Settings, c: Convo, appt: Appointment, now: datetime
) -> Step:
    context = appointment_context(settings, c, appt)
    slots.cancel(session, settings, appt, now)
    close(c.outreach, status="closed", outcome=f"appointment {appt.id} cancelled by the customer",
          now=now)  # fmt: skip
    return Step("cancelled", context)


# Why a customer said no, as the conversation's outcome reads (the desk and the results show it).
DECLINE_OUTCOMES = {
    None: "declined by the customer",
    "later": "declined for now: later",
    "serviced_elsewhere": "declined: already serviced (elsewhere)",
    "vehicle_sold": "declined: the vehicle was sold",
}


def decline(session: Session, c: Convo, now: datetime, because: str | None = None) -> Step:
    assert c.outreach is not None  # noqa: S101
    slots.release(session, c.customer.id)
    convo.cancel_queued(session, c, reason="declined")
    outcome = DECLINE_OUTCOMES.get(because, DECLINE_OUTCOMES[None])
    close(c.outreach, status="declined", outcome=outcome, now=now)
    c.update(slots=[], **({"because": because} if because else {}))
    if because == "vehicle_sold":
        vehicle_sold(c, c.outreach.vehicle_id)
    return Step("declined", {"because": because})


def vehicle_sold(c: Convo, vehicle_id: int | None) -> None:
    """The customer sold the car: it leaves every campaign (``Vehicle.active``).  Which car:
    the conversation's, or without one the customer's only active car (never a guess)."""
    active = [v for v in c.customer.vehicles if v.active]
    if vehicle_id is not None:
        active = [v for v in active if v.id == vehicle_id]
    if len(active) == 1:
        active[0].active = False
