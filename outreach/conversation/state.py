"""The conversation's state, typed: a :class:`State` (``Outreach.state``), a
:class:`ConversationState` (``Outreach.context``, JSON) and :func:`close`, the one way a
conversation ends with its status and outcome.

``Outreach.context`` is JSON so that any web worker can take the next reply.  Its keys are the
fields of :class:`ConversationState`; :meth:`ConversationState.from_json` refuses a key it does
not know (a typo is an error, not a new key), except those other modules keep there
(:data:`FOREIGN_KEYS`, e.g. the last offer's wording escalation repeats), which pass through.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from outreach.models import OUTREACH_OPEN, Appointment, Outreach


class State(StrEnum):
    """Where a conversation is (``Outreach.state``)."""

    NEW = "new"  # opened, nothing said yet
    OFFERED = "offered"  # slots are on offer (``ConversationState.slots``)
    ASKED_NEED = "asked_need"  # an inbound customer was asked which of the five needs
    FOLLOWUP = "followup"  # after a visit: asked for a 1-5 rating
    BOOKED = "booked"
    DECLINED = "declined"
    HANDED_OFF = "handed_off"
    OPTED_OUT = "opted_out"
    CLOSED = "closed"


# How a conversation can end: its status (``Outreach.status``) and the state it is left in.
ENDINGS = {
    "booked": State.BOOKED,
    "declined": State.DECLINED,
    "handed_off": State.HANDED_OFF,
    "closed": State.CLOSED,
}
# Context keys other modules own (escalation and the delivery jobs read the offer's wording).
FOREIGN_KEYS = frozenset({"offer_text"})


class ContextError(ValueError):
    """``Outreach.context`` holds a key the conversation does not know."""


@dataclass
class ConversationState:
    """What the conversation remembers between replies (``Outreach.context``)."""

    slots: list[dict[str, Any]] = field(default_factory=list)  # on offer, UTC ISO times
    jobs: list[str] = field(default_factory=list)  # job codes the offer books
    mode: str | None = None  # "book", "reschedule" or "followup"
    misses: int = 0  # replies in a row not understood
    confirming: bool = False  # the last message asked a yes/no question
    need: str | None = None  # the need an inbound customer named
    asked: dict[str, str] | None = None  # the day last asked for (a SlotPreference as JSON)
    preference: dict[str, str] | None = None  # said before the need was known
    mileage_km: int | None = None
    faults: list[str] = field(default_factory=list)  # the customer's own words
    technician: str | None = None  # "" when they want no one in particular
    services: str | None = None  # special services, as written on the appointment
    no_slots_queued: bool = False  # an advisor was asked to find a time (once)
    appointment_id: int | None = None  # the one being rescheduled, or the one booked
    because: str | None = None  # why they said no
    foreign: dict[str, Any] = field(default_factory=dict)  # FOREIGN_KEYS, kept as they are

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> ConversationState:
        raw = dict(raw or {})
        foreign = {k: raw.pop(k) for k in list(raw) if k in FOREIGN_KEYS}
        unknown = sorted(set(raw) - _defaults().keys())
        if unknown:
            raise ContextError(f"Outreach.context: unknown key {unknown[0]!r}")
        return cls(**raw, foreign=foreign)

    def to_json(self) -> dict[str, Any]:
        """Only what is set (a fresh conversation stores ``{}``), foreign keys included."""
        out = {
            name: getattr(self, name)
            for name, default in _defaults().items()
            if getattr(self, name) != default
        }
        return {**out, **self.foreign}

    def with_changes(self, **changes: Any) -> ConversationState:
        foreign = {k: changes.pop(k) for k in list(changes) if k in FOREIGN_KEYS}
        return dataclasses.replace(self, **changes, foreign={**self.foreign, **foreign})


@functools.cache
def _defaults() -> dict[str, Any]:
    """Each field's value in a fresh state, ``foreign`` left out (read on every reply, so
    worked out once)."""
    fresh = ConversationState()
    return {
        f.name: getattr(fresh, f.name) for f in dataclasses.fields(fresh) if f.name != "foreign"
    }


def read(outreach: Outreach | None) -> ConversationState:
    """The conversation's state (an empty one without a conversation)."""
    return ConversationState.from_json(outreach.context if outreach is not None else None)


def write(outreach: Outreach, **changes: Any) -> ConversationState:
    """Change some fields and store the whole context again (in-place changes to a JSON
    column are not tracked)."""
    new = read(outreach).with_changes(**changes)
    outreach.context = new.to_json()
    return new


def close(outreach: Outreach | None, *, status: str, outcome: str, now: datetime) -> None:
    """End an open conversation: its status, the matching state, when and how it ended.
    A conversation already closed keeps its ending (the first one is the true one)."""
    if outreach is None or outreach.status not in OUTREACH_OPEN:
        return
    outreach.status = status
    outreach.state = ENDINGS[status].value
    outreach.closed_at = now
    outreach.outcome = outcome


def carry_facts(state: ConversationState, appointment: Appointment) -> None:
    """What the customer told the conversation goes on the visit it booked, whoever booked it
    (the bot, or an advisor from the desk after a hand-off): the mileage, the faults in their
    own words, the technician they asked for and the special services."""
    if state.mileage_km is not None:
        appointment.mileage_reported_km = state.mileage_km
    if state.faults:
        appointment.faults_reported = "\n".join(state.faults)
    if state.technician is not None:
        appointment.designated_technician = state.technician or None
    if state.services:
        appointment.special_services = state.services
