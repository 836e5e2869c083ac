"""Who is talking and what one reply answers (:class:`Convo`, :class:`Step`), and the small
steps the effects share (``effects.py``): handing off, noting what the customer said,
cancelling queued messages."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach import callbacks, lexicon, outbox
from outreach.conversation import records, slots
from outreach.conversation.state import ConversationState, State, read, write
from outreach.conversation.texts import lang
from outreach.conversation.understand import NEEDS, Intent
from outreach.models import Appointment, CallbackRequest, Customer, Outreach
from outreach.preferences import SlotPreference
from outreach.settings import Settings

RATING_MAX = 5  # a follow-up asks for a rating of 1 to 5
CLOSING = {"booked", "declined", "handed_off", "opted_out", "closed"}


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
    offer_unseen: bool = False  # the conversation's offer is still waiting in the outbox

    @property
    def state(self) -> ConversationState:
        """What the conversation remembers (typed ``Outreach.context``)."""
        return read(self.outreach)

    def update(self, **changes: Any) -> None:
        """Change fields of the conversation's state (unknown fields are an error)."""
        assert self.outreach is not None  # noqa: S101 - callers open a conversation first
        write(self.outreach, **changes)

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


def state_of(outreach: Outreach | None, appointment: Appointment | None, awaiting: bool) -> str:
    """The conversation's state as the understanding reads it (``understand.STATES``)."""
    if outreach is not None:
        return "followup" if outreach.state == State.FOLLOWUP else "offer"
    if appointment is not None:
        return "booked"
    return "handoff" if awaiting else "none"


def visit_date(appointment: Appointment | None, tz: tzinfo) -> date | None:
    """The day of the customer's next visit, in the dealership's time (None: no visit)."""
    return appointment.starts_at.astimezone(tz).date() if appointment is not None else None


def offered_starts(outreach: Outreach | None, tz: tzinfo) -> tuple[datetime, ...]:
    """When the slots on offer start, in the dealership's time (``tz``), in their order."""
    if outreach is None or outreach.state not in (State.NEW, State.OFFERED):
        return ()
    slots = read(outreach).slots
    return tuple(datetime.fromisoformat(s["starts_at"]).astimezone(tz) for s in slots)


def options_for(outreach: Outreach | None) -> tuple[int, bool]:
    """How many numbered choices the customer is looking at, and whether a yes/no is pending."""
    if outreach is None:
        return 0, False
    ctx = read(outreach)
    if outreach.state == State.ASKED_NEED:
        return len(NEEDS), False
    if outreach.state == State.FOLLOWUP:
        return RATING_MAX, False
    return len(ctx.slots), ctx.confirming


def hand_off(session: Session, c: Convo, reason: str, now: datetime) -> Step:
    slots.release(session, c.customer.id)
    records.hand_off(session, c.customer, c.outreach, reason=reason, now=now)
    if reason == "complaint":  # an apology, and when someone calls: the queue's own target
        return Step("complaint", {"call_within": callbacks.reason(reason).target_minutes}, True)
    return Step("handoff", handoff=True)


def cancel_queued(session: Session, c: Convo, *, reason: str) -> None:
    """Cancel the conversation's queued messages, unless this reply already did."""
    assert c.outreach is not None  # noqa: S101
    if c.outbox_cleared_for != c.outreach.id:
        outbox.cancel_pending(session, outreach_id=c.outreach.id, reason=reason)


def note_on(settings: Settings, appt: Appointment, c: Convo, said: str, now: datetime) -> None:
    """Write what the customer said on the appointment's notes (the board shows them)."""
    line = f"{now.astimezone(settings.tz):%Y-%m-%d %H:%M} {c.channel}: {said}"
    appt.notes = f"{appt.notes}\n{line}" if appt.notes else line


def slots_context(settings: Settings, c: Convo, offered: list[dict[str, Any]]) -> dict[str, Any]:
    """The slots on offer, for the scripts (texts.py shapes them)."""
    return {"slot_list": list(offered)}


def appointment_context(settings: Settings, c: Convo, appt: Appointment) -> dict[str, Any]:
    """The appointment, for the scripts (texts.py shapes it)."""
    return {"appointment": appt}


def pref_json(pref: SlotPreference | None) -> dict[str, str] | None:
    if pref is None:
        return None
    return {
        k: v.isoformat() if hasattr(v, "isoformat") else v
        for k, v in vars(pref).items()
        if v is not None and v is not False
    }


def pref_from_json(raw: dict[str, Any] | None) -> SlotPreference | None:
    if not raw:
        return None
    conv: dict[str, Any] = {
        "on": date.fromisoformat,
        "not_before": date.fromisoformat,
        "at": time.fromisoformat,
    }
    return SlotPreference(**{k: conv.get(k, lambda v: v)(v) for k, v in raw.items()})


def note_facts(c: Convo, mileage_km: int | None, fault: str | None) -> None:
    """Mileage and faults go on the appointment and the conversation, whatever else happens."""
    if mileage_km is None and fault is None:
        return
    if c.appointment is not None:
        if mileage_km is not None:
            c.appointment.mileage_reported_km = mileage_km
        if fault:
            before = c.appointment.faults_reported
            c.appointment.faults_reported = f"{before}\n{fault}" if before else fault
    if c.outreach is not None:
        ctx = c.state
        if mileage_km is not None:
            c.update(mileage_km=mileage_km)
        if fault:
            c.update(faults=[*ctx.faults, fault])


def noted(c: Convo, intent: Intent) -> dict[str, Any]:
    """What was put on file, for the ``noted`` script."""
    return {"mileage_km": intent.mileage_km, "fault": intent.fault}


def service_labels(c: Convo, intent: Intent) -> list[str]:
    """The special services asked for, as the customer's language writes them."""
    return [lexicon.label("services", s, c.locale) for s in intent.services]


def note_preference(
    c: Convo, technician: str | None, labels: list[str], appt: Appointment | None
) -> None:
    """A designated technician or special services: on the appointment (or kept for it)."""
    sep = "、" if c.locale == "zh-CN" else ", "
    held = appt.special_services if appt is not None else c.state.services
    services = list(dict.fromkeys([*(s for s in (held or "").split(sep) if s), *labels]))
    joined = sep.join(services) or None
    if appt is not None:
        if technician is not None:
            appt.designated_technician = technician or None
        if labels:
            appt.special_services = joined
    else:
        if technician is not None:
            c.update(technician=technician)
        if labels:
            c.update(services=joined)


def awaited(session: Session, c: Convo) -> tuple[CallbackRequest, Convo] | None:
    """The customer's latest callback an advisor has yet to make about a conversation, and
    that conversation (no appointment to write on yet): what the customer adds now goes on
    it for the advisor to book from (a desk booking carries it onto the visit,
    :func:`state.carry_facts`)."""
    request = session.scalars(
        select(CallbackRequest)
        .where(
            CallbackRequest.customer_id == c.customer.id,
            CallbackRequest.status.in_(records.CALLBACK_WAITING),
            CallbackRequest.outreach_id.is_not(None),
        )
        .order_by(CallbackRequest.created_at.desc(), CallbackRequest.id.desc())
        .limit(1)
    ).first()
    outreach = session.get(Outreach, request.outreach_id) if request is not None else None
    if request is None or outreach is None:
        return None
    return request, dataclasses.replace(c, outreach=outreach, appointment=None)
