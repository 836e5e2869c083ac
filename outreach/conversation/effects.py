"""What one reply does, as data: the effects the handlers of ``flow.py`` decide on, and
:func:`apply`, which carries them out in order.

A handler reads the conversation and returns effects; it changes nothing and needs no
database.  :func:`apply` does the work (``booking.py`` offers, books, cancels and declines;
``convo.py`` and ``records.py`` write) and returns the answer: the :class:`Step` of the last
effect that produced one — a script said, an offer, a booking (which may lose its slot to
another customer and offer others), a hand-off with its apology.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from outreach import callbacks, consent, outbox
from outreach.conversation import booking, convo, records, slots
from outreach.conversation.convo import Convo, Step
from outreach.conversation.state import ConversationState, State, close
from outreach.models import Appointment, Outreach
from outreach.preferences import SlotPreference
from outreach.settings import Settings


@dataclass(frozen=True)
class Say:
    """Answer with a script and its variables (``template`` None: say nothing)."""

    template: str | None
    context: dict[str, Any] = field(default_factory=dict)
    handoff: bool = False  # the answer tells them a person takes over


@dataclass(frozen=True)
class Offer:
    """Offer (and hold) up to three slots near the preference; ``exact``: book at once a slot
    at exactly the time asked for.  ``intro`` names the offer's opening line."""

    preference: SlotPreference | None = None
    exact: bool = False
    intro: str | None = None


@dataclass(frozen=True)
class Take:
    """Book the slot chosen (or move the appointment being rescheduled to it)."""

    slot: dict[str, Any]


@dataclass(frozen=True)
class Cancel:
    """Cancel the customer's appointment at their request."""

    appointment: Appointment


@dataclass(frozen=True)
class Decline:
    """The customer says no to the offer, and why (``booking.DECLINE_OUTCOMES``)."""

    because: str | None = None


@dataclass(frozen=True)
class HandOff:
    """An advisor takes the conversation over and calls the customer back; ``quiet``: the
    customer opted out, so nothing is said to them and nothing else is touched."""

    reason: str
    quiet: bool = False


@dataclass(frozen=True)
class QueueCallback:
    """An advisor calls the customer back; the conversation goes on."""

    reason: str


@dataclass(frozen=True)
class OptOut:
    """No more messages to this customer (``source``: how and where they said so)."""

    source: str


@dataclass(frozen=True)
class OptIn:
    """The customer takes back an opt-out."""

    source: str


@dataclass(frozen=True)
class CallOff:
    """A customer waiting for an advisor's call says it is not needed ("不用打了，已经修好了"):
    their unclaimed callbacks that a customer may call off are closed as declined, with their
    words (``callbacks.CALLED_OFF``; a complaint still reaches a person)."""

    said: str


@dataclass(frozen=True)
class KeepTo:
    """The customer keeps to one way of contact, "sms" or "voice" ("别打电话，短信联系就行"):
    nothing goes out the other way (``consent.keep_to``); not an opt-out."""

    channel: str
    source: str


@dataclass(frozen=True, init=False)
class Open:
    """Open a conversation: its campaign, first state and what it remembers from the start."""

    campaign: str
    state: State
    remember: dict[str, Any]

    def __init__(self, campaign: str, state: State = State.NEW, **remember: Any) -> None:
        object.__setattr__(self, "campaign", campaign)
        object.__setattr__(self, "state", state)
        object.__setattr__(self, "remember", remember)


@dataclass(frozen=True, init=False)
class Remember:
    """Change what the conversation remembers (fields of :class:`ConversationState`)."""

    changes: dict[str, Any]

    def __init__(self, **changes: Any) -> None:
        object.__setattr__(self, "changes", changes)


@dataclass(frozen=True)
class BookAgain:
    """After a visit, the customer asks for another: the conversation is an offer again."""


@dataclass(frozen=True)
class Rate:
    """The rating given to the visit followed up (None: none given)."""

    rating: int | None


@dataclass(frozen=True)
class Close:
    """End the conversation with its status and outcome (``state.close``)."""

    status: str
    outcome: str


@dataclass(frozen=True)
class NoteFacts:
    """The mileage and a fault mentioned: on the appointment and on the conversation."""

    mileage_km: int | None
    fault: str | None


@dataclass(frozen=True)
class NotePreference:
    """A designated technician ("" for no one in particular) and special services (labels):
    on the appointment, or without one kept by the conversation for the visit it books."""

    technician: str | None
    services: tuple[str, ...]
    appointment: Appointment | None = None


@dataclass(frozen=True)
class ConfirmArrival:
    """The customer says they are coming to their appointment."""

    appointment: Appointment


@dataclass(frozen=True)
class NoteOnAppointment:
    """What the customer said, on the appointment's notes (the board shows them)."""

    appointment: Appointment
    said: str


@dataclass(frozen=True)
class VehicleSold:
    """The customer sold the car (None: their only active car, if they have just one)."""

    vehicle_id: int | None


@dataclass(frozen=True, init=False)
class NoteWhileWaiting:
    """Handed to a person who has not called yet: these notes go on the conversation the
    advisor books from, and the queue line becomes the customer's last words."""

    notes: tuple[NoteFacts | NotePreference, ...]

    def __init__(self, *notes: NoteFacts | NotePreference) -> None:
        object.__setattr__(self, "notes", notes)


Effect = (
    Say
    | Offer
    | Take
    | Cancel
    | Decline
    | HandOff
    | QueueCallback
    | OptOut
    | OptIn
    | KeepTo
    | CallOff
    | Open
    | Remember
    | BookAgain
    | Rate
    | Close
    | NoteFacts
    | NotePreference
    | NoteOnAppointment
    | ConfirmArrival
    | VehicleSold
    | NoteWhileWaiting
)


def apply(
    session: Session, settings: Settings, c: Convo, effects: Iterable[Effect], now: datetime
) -> Step:
    """Carry out the effects in order (never commits); the answer is the last :class:`Step`
    one of them produced (none: say nothing)."""
    answer = Step(None)
    for effect in effects:
        step = _carry_out(session, settings, c, effect, now)
        if step is not None:
            answer = step
    return answer


def _carry_out(
    session: Session, settings: Settings, c: Convo, effect: Effect, now: datetime
) -> Step | None:
    match effect:
        case Say(template, context, handoff):
            return Step(template, context, handoff=handoff)
        case Offer(preference, exact, intro):
            return booking.offer(session, settings, c, preference, now, exact=exact, intro=intro)
        case Take(slot):
            return booking.take(session, settings, c, slot, now)
        case Cancel(appointment):
            return booking.cancel(session, settings, c, appointment, now)
        case Decline(because):
            return booking.decline(session, c, now, because)
        case HandOff(reason, quiet=True):
            records.hand_off(session, c.customer, c.outreach, reason=reason, now=now)
            return Step(None, handoff=True)
        case HandOff(reason):
            return convo.hand_off(session, c, reason, now)
        case QueueCallback(reason):
            records.queue_callback(session, c.customer, c.outreach, reason=reason, now=now)
        case OptOut(source):
            return _opt_out(session, c, source, now)
        case OptIn(source):
            changed = consent.opt_in(session, c.customer, source=source, now=now)
            return Step("opt_in_confirmation" if changed else None)
        case CallOff(said):
            callbacks.settle_callbacks(
                session, c.customer.id, reasons=callbacks.CALLED_OFF, outcome="declined",
                note=f"the customer: {said}",
            )  # fmt: skip
        case KeepTo(channel, source):
            consent.keep_to(session, c.customer, channel, source=source, now=now)
        case Open(campaign, state, remember):
            _open(session, c, now, campaign=campaign, state=state, remember=remember)
        case Remember(changes):
            c.update(**changes)
        case BookAgain():
            assert c.outreach is not None  # noqa: S101 - a follow-up has its conversation
            c.outreach.state = State.OFFERED.value
        case Rate(rating):
            assert c.outreach is not None  # noqa: S101
            c.outreach.rating = rating
        case Close(status, outcome):
            close(c.outreach, status=status, outcome=outcome, now=now)
        case NoteFacts(mileage_km, fault):
            convo.note_facts(c, mileage_km, fault)
        case NotePreference(technician, services, appointment):
            convo.note_preference(c, technician, list(services), appointment)
        case NoteOnAppointment(appointment, said):
            convo.note_on(settings, appointment, c, said, now)
        case ConfirmArrival(appointment):
            appointment.confirmed_at = appointment.confirmed_at or now
        case VehicleSold(vehicle_id):
            booking.vehicle_sold(c, vehicle_id)
        case NoteWhileWaiting(notes):
            waiting = convo.awaited(session, c)
            if waiting is not None:
                request, handed_off = waiting
                apply(session, settings, handed_off, notes, now)
                request.detail = callbacks.last_words(session, c.customer.id)
    return None


def _opt_out(session: Session, c: Convo, source: str, now: datetime) -> Step:
    changed = consent.opt_out(session, c.customer, source=source, now=now)
    slots.release(session, c.customer.id)
    outbox.cancel_pending(session, customer_id=c.customer.id, reason="opted out")
    if c.outreach is not None:
        session.refresh(c.outreach)
        c.outreach.state = State.OPTED_OUT.value
    return Step("opt_out_confirmation" if changed else None)


def _open(
    session: Session,
    c: Convo,
    now: datetime,
    *,
    campaign: str,
    state: State,
    remember: dict[str, Any],
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
