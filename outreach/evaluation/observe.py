"""What a reply changed: the customer's records read before and after it, compared.

Only product records are read — consent, appointments, the conversation rows, the advisors'
queue, the outbox, the audit trail — never the conversation's internals, so the verdict stays
valid while the understanding is rebuilt.  Two readings are fuzzy on purpose and say so: the
offered slots and the notes kept in the conversation's JSON context are found by their keys
("starts_at", "fault", "mileage") wherever the context keeps them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.evaluation.corpus import INTENTS
from outreach.models import (
    Appointment,
    CallbackRequest,
    ContactAttempt,
    Customer,
    OutboxMessage,
    Outreach,
    SlotHold,
    Vehicle,
)

_APPOINTMENT_FIELDS = (
    "status", "starts_at", "confirmed_at", "notes", "designated_technician", "special_services",
    "mileage_reported_km", "faults_reported",
)  # fmt: skip


@dataclass(frozen=True)
class Snapshot:
    """The customer's records at one moment (``found`` False: no such customer)."""

    found: bool = False
    opted_out: bool = False
    queued: int = 0  # messages waiting in the outbox for the customer
    callbacks: dict[int, str] = field(default_factory=dict)  # id → reason
    appointments: dict[int, dict[str, Any]] = field(default_factory=dict)
    outreach: dict[int, dict[str, Any]] = field(default_factory=dict)
    active_vehicles: int = 0
    held: tuple[datetime, ...] = ()  # starts of the customer's live slot holds
    hold_ids: frozenset[int] = frozenset()  # the same holds' ids (a new offer makes new ones)


def snapshot(session: Session, phone: str) -> Snapshot:
    customer = session.scalars(select(Customer).where(Customer.phone == phone)).first()
    if customer is None:
        return Snapshot()
    cid = customer.id
    appointments = {
        a.id: {name: getattr(a, name) for name in _APPOINTMENT_FIELDS}
        for a in session.scalars(select(Appointment).where(Appointment.customer_id == cid))
    }
    outreach = {
        o.id: {
            "status": o.status, "state": o.state, "outcome": o.outcome, "rating": o.rating,
            "context": json.loads(json.dumps(o.context or {}, default=str)),
        }
        for o in session.scalars(select(Outreach).where(Outreach.customer_id == cid))
    }  # fmt: skip
    queued = session.scalars(
        select(OutboxMessage.id).where(
            OutboxMessage.customer_id == cid, OutboxMessage.status == "queued"
        )
    ).all()
    held = session.execute(
        select(SlotHold.id, SlotHold.starts_at)
        .where(SlotHold.customer_id == cid, SlotHold.status == "held")
        .order_by(SlotHold.starts_at)
    ).all()
    return Snapshot(
        found=True,
        opted_out=customer.opted_out_at is not None,
        queued=len(queued),
        callbacks={
            row.id: row.reason
            for row in session.execute(
                select(CallbackRequest.id, CallbackRequest.reason).where(
                    CallbackRequest.customer_id == cid
                )
            )
        },
        appointments=appointments,
        outreach=outreach,
        active_vehicles=len(
            session.scalars(
                select(Vehicle.id).where(Vehicle.customer_id == cid, Vehicle.active.is_(True))
            ).all()
        ),
        held=tuple(h.starts_at for h in held),
        hold_ids=frozenset(h.id for h in held),
    )


@dataclass
class Effects:
    """What the reply did, in the terms a verdict needs."""

    opted_out: bool = False
    opted_in: bool = False
    left_queued: int = 0  # messages still waiting in the outbox after the reply
    callbacks: tuple[str, ...] = ()  # reasons of the callbacks the reply queued
    booked_at: datetime | None = None  # a new appointment's start
    option: int | None = None  # which offered slot (1-based) it took, if one
    cancelled: bool = False
    moved: bool = False
    confirmed: bool = False
    rating: int | None = None
    declined: bool = False
    because: str = "none"
    noted_on_appointment: bool = False  # notes added (running late, extra work)
    technician: bool = False
    services: bool = False
    mileage: bool = False
    fault: bool = False
    offered: bool = False  # new slots offered, or a new conversation opened
    closed: bool = False  # the conversation was closed (follow-up answered)
    vehicle_sold: bool = False  # the customer's car left every campaign
    answered: bool = False  # the reply got an answer (SMS text or spoken)
    retried: bool = False  # a call asked again (voice: the next step is a re-prompt)
    reported: str | None = None  # the intent the conversation recorded for the message


def reported_intent(session: Session, sid: str) -> str | None:
    """The intent the conversation wrote on the inbound message, when it writes one."""
    kind = session.scalars(
        select(ContactAttempt.kind).where(
            ContactAttempt.provider_sid == sid, ContactAttempt.direction == "in"
        )
    ).first()
    return kind if kind in INTENTS else None


def compare(before: Snapshot, after: Snapshot) -> Effects:
    """The effects of a reply, from the snapshots either side of it."""
    e = Effects()
    e.opted_out = after.opted_out and not before.opted_out
    e.opted_in = before.opted_out and not after.opted_out
    e.left_queued = after.queued
    e.callbacks = tuple(r for i, r in sorted(after.callbacks.items()) if i not in before.callbacks)
    e.vehicle_sold = before.active_vehicles > after.active_vehicles
    offered = _offered(before)
    for aid, now in after.appointments.items():
        was = before.appointments.get(aid)
        if was is None:
            if now["status"] != "cancelled":
                e.booked_at = now["starts_at"]
                e.option = (
                    offered.index(now["starts_at"]) + 1 if now["starts_at"] in offered else None
                )
            continue
        e.cancelled |= was["status"] != "cancelled" and now["status"] == "cancelled"
        e.moved |= now["status"] != "cancelled" and was["starts_at"] != now["starts_at"]
        e.confirmed |= was["confirmed_at"] is None and now["confirmed_at"] is not None
        e.noted_on_appointment |= (now["notes"] or "") != (was["notes"] or "")
        e.technician |= now["designated_technician"] != was["designated_technician"]
        e.services |= now["special_services"] != was["special_services"]
        e.mileage |= now["mileage_reported_km"] != was["mileage_reported_km"]
        e.fault |= (now["faults_reported"] or "") != (was["faults_reported"] or "")
    for oid, now in after.outreach.items():
        was = before.outreach.get(oid, {})
        if not was and now["status"] not in ("opted_out",):
            e.offered = True  # a new conversation (a booking started by the reply)
        if now["rating"] is not None and was.get("rating") is None:
            e.rating = now["rating"]
        if now["status"] == "declined" and was.get("status") != "declined":
            e.declined = True
            e.because = _because(now)
        if was and was.get("status") in ("open", "planned") and now["status"] == "closed":
            e.closed = True
        new_ctx, old_ctx = now["context"], was.get("context", {})
        e.mileage |= _keyed(new_ctx, "mileage") != _keyed(old_ctx, "mileage")
        e.fault |= _keyed(new_ctx, "fault") != _keyed(old_ctx, "fault")
        e.technician |= _keyed(new_ctx, "technician") != _keyed(old_ctx, "technician")
        e.services |= _keyed(new_ctx, "service") != _keyed(old_ctx, "service")
    # Slots offered again hold afresh, even when they are the same times as before.
    e.offered |= bool(after.hold_ids - before.hold_ids)
    if e.vehicle_sold or "vehicle_sold" in e.callbacks:
        e.because = "vehicle_sold"
    return e


def _offered(before: Snapshot) -> list[datetime]:
    """The slots on offer before the reply, in the order the customer saw them."""
    for row in before.outreach.values():
        if row["status"] in ("open", "planned"):
            found = _slots(row["context"])
            if found:
                return [datetime.fromisoformat(s) for s in found]
    return list(before.held)


def _slots(ctx: Any) -> list[str]:
    """The "starts_at" of the first list of slots found anywhere in a JSON context."""
    if isinstance(ctx, dict):
        for value in ctx.values():
            found = _slots(value)
            if found:
                return found
    if isinstance(ctx, list) and ctx and all(isinstance(x, dict) and "starts_at" in x for x in ctx):
        return [str(x["starts_at"]) for x in ctx]
    return []


def _keyed(ctx: Any, word: str) -> str:
    """Every truthy value under a key containing ``word``, as one comparable string."""
    found: list[str] = []
    if isinstance(ctx, dict):
        for key, value in ctx.items():
            if word in str(key).lower() and value not in (None, "", [], {}):
                found.append(json.dumps(value, sort_keys=True, ensure_ascii=False))
            elif isinstance(value, dict | list):
                found.append(_keyed(value, word))
    elif isinstance(ctx, list):
        found.extend(_keyed(v, word) for v in ctx)
    return "|".join(f for f in found if f)


# How a decline's reason reads in the records (the outcome, or a "because" in the context).
_BECAUSE_WORDS = (("vehicle_sold", "sold"), ("serviced_elsewhere", "serviced"), ("later", "later"))


def _because(row: dict[str, Any]) -> str:
    text = f"{row['outcome'] or ''} {_keyed(row['context'], 'because')}".lower()
    return next((code for code, word in _BECAUSE_WORDS if word in text), "none")
