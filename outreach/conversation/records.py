"""Finding who wrote and which conversation they are in; writing the audit trail and callbacks."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, Update, bindparam, insert, inspect, select, update
from sqlalchemy.orm import ColumnProperty, Session, aliased

from outreach import callbacks, handled_once
from outreach.conversation.state import close
from outreach.db import one_of
from outreach.models import (
    APPOINTMENT_ACTIVE,
    OUTREACH_OPEN,
    Appointment,
    CallbackRequest,
    ContactAttempt,
    Customer,
    OutboxMessage,
    Outreach,
)

CALLBACK_WAITING = ("open", "claimed")  # an advisor has yet to call the customer back
ATTEMPTS = cast(Table, ContactAttempt.__table__)  # Core statements on the table itself
OUTREACH = cast(Table, Outreach.__table__)


def find_customer(session: Session, phone: str) -> Customer | None:
    """The customer with this E.164 number; the most recently created when several share it."""
    return session.scalars(
        select(Customer)
        .where(Customer.phone == phone)
        .order_by(Customer.created_at.desc(), Customer.id.desc())
        .limit(1)
    ).first()


@dataclass(frozen=True)
class Situation:
    """Who wrote, their open conversation, their next appointment, and an earlier copy."""

    customer: Customer | None
    outreach: Outreach | None
    appointment: Appointment | None
    earlier: ContactAttempt | None  # the inbound message already recorded under this sid
    queued: bool = False  # the open conversation has messages waiting in the outbox
    went_out: bool = False  # ... and one of its messages has left (sent or being sent)
    latest_outreach_id: int | None = None  # their latest conversation, open or not
    awaiting_person: bool = False  # an advisor has yet to call them back (open callback)


def situation(session: Session, phone: str, now: datetime, *, sid: str, channel: str) -> Situation:
    """:func:`find_customer`, :func:`open_outreach`, :func:`next_appointment`,
    :func:`seen_before`, :func:`latest_outreach`, whether the conversation has queued
    messages and whether an advisor is to call them back, in one round trip (every inbound
    reply needs them all)."""
    params = {"phone": phone, "now": now, "sid": sid, "channel": channel}
    row = session.execute(_situation_query(), params).first()
    if row is None:
        return Situation(None, None, None, seen_before(session, sid, channel))
    customer, outreach, appointment, earlier_id, has_queued, went_out, latest_id, waiting = row
    earlier = session.get(ContactAttempt, earlier_id) if earlier_id is not None else None
    return Situation(
        customer,
        outreach,
        appointment,
        earlier,
        bool(has_queued),
        bool(went_out),
        latest_id,
        bool(waiting),
    )


@functools.cache
def _situation_query() -> Select[Any]:
    # Built once: every inbound message runs it, and building it costs more than running it.
    seen = (
        select(ContactAttempt.id)
        .where(
            ContactAttempt.provider_sid == bindparam("sid"),
            ContactAttempt.direction == "in",
            ContactAttempt.channel == bindparam("channel"),
        )
        .limit(1)
        .scalar_subquery()
    )
    upcoming = (
        select(Appointment.id)
        .where(
            Appointment.customer_id == Customer.id,
            one_of(Appointment.status, APPOINTMENT_ACTIVE),
            Appointment.starts_at >= bindparam("now"),
        )
        .order_by(Appointment.starts_at)
        .limit(1)
        .correlate(Customer)
        .scalar_subquery()
    )
    queued = (
        select(OutboxMessage.id)
        .where(OutboxMessage.outreach_id == Outreach.id, OutboxMessage.status == "queued")
        .correlate(Outreach)
        .exists()
    )
    went_out = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.outreach_id == Outreach.id,
            one_of(OutboxMessage.status, ("sending", "sent")),
        )
        .correlate(Outreach)
        .exists()
    )
    any_outreach = aliased(Outreach)
    latest = (
        select(any_outreach.id)
        .where(any_outreach.customer_id == Customer.id)
        .order_by(any_outreach.created_at.desc(), any_outreach.id.desc())
        .limit(1)
        .correlate(Customer)
        .scalar_subquery()
    )
    waiting = (
        select(CallbackRequest.id)
        .where(
            CallbackRequest.customer_id == Customer.id,
            one_of(CallbackRequest.status, CALLBACK_WAITING),
        )
        .correlate(Customer)
        .exists()
    )
    return (
        select(Customer, Outreach, Appointment, seen, queued, went_out, latest, waiting)
        .select_from(Customer)
        .outerjoin(
            Outreach,
            (Outreach.customer_id == Customer.id) & one_of(Outreach.status, OUTREACH_OPEN),
        )  # at most one open conversation per customer (a unique index)
        .outerjoin(  # by customer first: the planner walks their rows, not every appointment
            Appointment, (Appointment.customer_id == Customer.id) & (Appointment.id == upcoming)
        )
        .where(Customer.phone == bindparam("phone"))
        .order_by(Customer.created_at.desc(), Customer.id.desc())
        .limit(1)
    )


def provisional_customer(session: Session, phone: str, *, locale: str, now: datetime) -> Customer:
    """A customer record for an unknown number that wrote to us first.

    Consent is recorded as implied by their own request (``consent_source`` says so): it covers
    answering them and the messages about the booking they ask for.
    """
    digits = re.sub(r"\D", "", phone)
    customer = Customer(
        external_id=f"IN-{digits}",
        name="",
        phone=phone,
        locale=locale,
        consent=True,
        consent_at=now,
        consent_source="inbound request (implied)",
        created_at=now,
        updated_at=now,
        vehicles=[],  # a new record has none: spare the lazy load when a conversation opens
    )
    session.add(customer)
    session.flush()
    return customer


def open_outreach(session: Session, customer_id: int) -> Outreach | None:
    """The customer's open conversation (at most one, by a unique index)."""
    return session.scalars(
        select(Outreach).where(
            Outreach.customer_id == customer_id, one_of(Outreach.status, OUTREACH_OPEN)
        )
    ).first()


def next_appointment(session: Session, customer_id: int, now: datetime) -> Appointment | None:
    """The customer's next active appointment, however it was booked."""
    return session.scalars(
        select(Appointment)
        .where(
            Appointment.customer_id == customer_id,
            one_of(Appointment.status, APPOINTMENT_ACTIVE),
            Appointment.starts_at >= now,
        )
        .order_by(Appointment.starts_at)
        .limit(1)
    ).first()


def latest_outreach(session: Session, customer_id: int) -> Outreach | None:
    return session.scalars(
        select(Outreach)
        .where(Outreach.customer_id == customer_id)
        .order_by(Outreach.created_at.desc(), Outreach.id.desc())
        .limit(1)
    ).first()


def record(
    session: Session,
    customer: Customer,
    outreach: Outreach | int | None,
    *,
    direction: str,
    channel: str,
    kind: str,
    body: str | None,
    now: datetime,
    status: str | None = None,
    sid: str | None = None,
) -> ContactAttempt:
    """Add one line to the audit trail; ``outreach`` is the conversation or its id."""
    oid = outreach.id if isinstance(outreach, Outreach) else outreach
    attempt = ContactAttempt(
        **_line(customer, oid, direction, channel, kind, body, now, status, sid)
    )
    session.add(attempt)
    return attempt


def _line(
    customer: Customer,
    outreach_id: int | None,
    direction: str,
    channel: str,
    kind: str,
    body: str | None,
    now: datetime,
    status: str | None,
    sid: str | None,
) -> dict[str, Any]:
    """One audit-trail row's columns, as :func:`record` and :func:`write` both store it."""
    return {
        "customer_id": customer.id,
        "outreach_id": outreach_id,
        "at": now,
        "channel": channel,
        "direction": direction,
        "kind": kind[:40],
        "body": body,
        "status": status,
        "provider_sid": sid,
    }


def write(
    session: Session,
    customer: Customer,
    outreach: Outreach | int | None,
    *,
    direction: str,
    channel: str,
    kind: str,
    body: str | None,
    now: datetime,
    status: str | None = None,
    sid: str | None = None,
    last: bool = False,
) -> None:
    """:func:`record`, written with one INSERT and no object kept in the session (every reply
    writes two lines: the ORM's unit of work costs more than the insert).  ``last``: nothing
    in this transaction reads the line after it; when the entry point ends the transaction
    with the handled-once row (``handled_once.answer_last``), the line goes in with that row."""
    if isinstance(outreach, Outreach):
        if outreach.id is None:
            session.flush()
        outreach = outreach.id
    row = _line(customer, outreach, direction, channel, kind, body, now, status, sid)
    row["error_code"] = None
    if last and handled_once.written_last(
        session, _WRITE_LAST, {f"line_{c}": v for c, v in row.items()}
    ):
        return
    # the table's own INSERT (built once): one execute, not the ORM's bulk path
    session.execute(_WRITE, row)


_WRITE = insert(ATTEMPTS).inline()  # no RETURNING of the new id: nobody reads it
_WRITE_LAST = _WRITE.values(  # the same, its parameters named apart for handled_once
    {c.name: bindparam(f"line_{c.name}") for c in ATTEMPTS.c if c.name != "id"}
)


@functools.cache
def _update_last(columns: tuple[str, ...]) -> Update:
    """The conversation's UPDATE of ``columns``, its parameters named apart for
    ``handled_once`` (one per set of columns a reply changes: a handful)."""
    return (
        update(OUTREACH)
        .where(OUTREACH.c.id == bindparam("outreach_row_id"))
        .values({c: bindparam(f"outreach_row_{c}") for c in columns})
    )


def save(session: Session, outreach: Outreach | None, *, last: bool = False) -> None:
    """Flush the reply's changes.  When the conversation is the only object changed (a reply
    that goes on with it changes its state and context and nothing else held by the ORM), its
    changed columns are written with one UPDATE of the table, without the unit of work, which
    costs more than the statement; anything else is flushed as usual.  ``last``: nothing in
    this transaction reads or changes the conversation's row after this; when the entry point
    ends the transaction with the handled-once row (``handled_once.answer_last``), that UPDATE
    goes in with it."""
    if outreach is None or session.new or session.deleted:
        session.flush()
        return
    dirty = session.dirty
    if not dirty:
        return
    state = inspect(outreach)
    if len(dirty) != 1 or outreach not in dirty or not state.persistent:
        session.flush()
        return
    values: dict[str, Any] = {}
    for key in state.committed_state:
        prop = state.mapper.get_property(key)
        if not isinstance(prop, ColumnProperty):
            session.flush()  # a relationship changed: the unit of work orders that
            return
        added = state.attrs[key].history.added
        if added:
            values[prop.columns[0].name] = added[0]
    if values and last:
        params = {f"outreach_row_{c}": v for c, v in values.items()}
        params["outreach_row_id"] = outreach.id
        if handled_once.written_last(session, _update_last(tuple(values)), params):
            values = {}
    if values:
        with session.no_autoflush:
            session.execute(
                update(OUTREACH).where(OUTREACH.c.id == bindparam("outreach_id")).values(values),
                {"outreach_id": outreach.id},
            )
    # As a flush leaves it: its values are now those stored, nothing left to write.
    state._commit_all(state.dict, session.identity_map)


def seen_before(session: Session, sid: str, channel: str) -> ContactAttempt | None:
    """The inbound message already recorded under this provider id (a webhook retry)."""
    return session.scalars(
        select(ContactAttempt).where(
            ContactAttempt.provider_sid == sid,
            ContactAttempt.direction == "in",
            ContactAttempt.channel == channel,
        )
    ).first()


def reply_to(session: Session, inbound: ContactAttempt) -> ContactAttempt | None:
    """What we answered to ``inbound`` (the next outbound message to that customer)."""
    return session.scalars(
        select(ContactAttempt)
        .where(
            ContactAttempt.customer_id == inbound.customer_id,
            ContactAttempt.direction == "out",
            ContactAttempt.id > inbound.id,
        )
        .order_by(ContactAttempt.id)
        .limit(1)
    ).first()


def queue_callback(
    session: Session,
    customer: Customer,
    outreach: Outreach | None,
    *,
    reason: str,
    now: datetime,
) -> CallbackRequest:
    """Queue the customer for an advisor with the transcript; the conversation goes on."""
    return callbacks.queue_callback(
        session, customer=customer, reason=reason, now=now, outreach=outreach
    )


def hand_off(
    session: Session,
    customer: Customer,
    outreach: Outreach | None,
    *,
    reason: str,
    now: datetime,
) -> CallbackRequest:
    """Queue the customer for an advisor with the transcript; the conversation is handed off."""
    request = queue_callback(session, customer, outreach, reason=reason, now=now)
    close(outreach, status="handed_off", outcome=f"handed to an advisor: {reason}", now=now)
    return request
