"""The scene a labelled reply is played in: a scratch database and one customer in a state.

The database is made once per run with the migrations; each kind of scene is set up once and
saved (SQLite's backup API), and every reply starts from its scene's saved copy, so no reply
sees what an earlier one booked, held or queued.  The customer is put in the reply's state
with the product's own entry points: the opening offer and the follow-up question are the
conversation's (``start_offer``, ``start_followup``), a booking is the workshop's
(``capacity.book``), a hand-off is a callback in the advisors' queue
(``callbacks.queue_callback``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from outreach import callbacks, capacity, consent, outbox
from outreach.campaigns import maintenance_interval, post_service_followup
from outreach.conversation import start_followup, start_offer
from outreach.db import make_engine, make_sessionmaker
from outreach.evaluation.corpus import Reply
from outreach.migrate import upgrade
from outreach.models import Customer, Outreach, OutreachReason, Vehicle, Visit
from outreach.preferences import SlotPreference
from outreach.settings import Settings

PHONE = "+8613912345678"  # the customer of every scene (the database is reset in between)
WARM_PHONE = "+8613900000000"  # a customer who only warms the workshop's calendar up
MARKER_KEY = "evaluation:queued-before-the-reply"  # an unrelated message waiting in the outbox
# Replies are played at one fixed instant, a working Wednesday morning in the dealership's zone.
PLAYED_ON = date(2026, 6, 3)
PLAYED_AT = time(10, 0)
# A booking is for the next day, and the day-before reminder ("1 to confirm") has gone out.
REMINDED_BEFORE = timedelta(hours=2)


class StageError(RuntimeError):
    """The scene could not be set up (the product refused it): not a verdict on the reply."""


def played_at(settings: Settings) -> datetime:
    """The instant every reply is played at (10:00 on a working Wednesday, dealership time)."""
    return datetime.combine(PLAYED_ON, PLAYED_AT, tzinfo=settings.tz)


@dataclass
class Scene:
    """What was set up for one reply: the customer (None: an unknown number) and their ids."""

    phone: str
    customer_id: int | None
    outreach_id: int | None = None
    appointment_id: int | None = None


class Scratch:
    """A scratch SQLite database with the migrations applied, and saved copies of it to go
    back to (SQLite's backup API: page by page, so the open connection pools stay valid)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "replies.db"
        self.url = f"sqlite:///{self.path}"
        self.engine: Engine = make_engine(self.url)
        upgrade(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        self._saved: dict[Hashable, sqlite3.Connection] = {}

    def save(self, name: Hashable) -> None:
        """Keep the database as it is now under ``name``."""
        copy = self._saved.get(name) or sqlite3.connect(":memory:")
        with sqlite3.connect(self.path) as live:
            live.backup(copy)
        self._saved[name] = copy

    def has(self, name: Hashable) -> bool:
        return name in self._saved

    def restore(self, name: Hashable) -> None:
        """Put the copy saved under ``name`` back."""
        live = sqlite3.connect(self.path)
        try:
            self._saved[name].backup(live)
        finally:
            live.close()

    def close(self) -> None:
        self.engine.dispose()
        for copy in self._saved.values():
            copy.close()


def scene_key(reply: Reply) -> tuple[str, str, str, str, bool]:
    """What the scene of ``reply`` depends on: replies with the same key share one set-up."""
    return (reply.state, reply.locale, reply.channel, reply.caller, reply.intent == "opt_in")


def warm_up(session: Session, settings: Settings, now: datetime) -> None:
    """Offer every job once at ``now`` and give the holds back, so the workshop's capacity
    rows for the coming days exist in the saved copy (each reply would create them again)."""
    customer = Customer(external_id="EVAL-WARM", name="", phone=WARM_PHONE, consent=False)
    session.add(customer)
    session.flush()
    tomorrow = SlotPreference(on=now.astimezone(settings.tz).date() + timedelta(days=1))
    for job in settings.capacity.job_types:
        for preference in (None, tomorrow):
            capacity.offer_slots(
                session, settings, jobs=[job], preference=preference, now=now,
                customer_id=customer.id, hold_for="sms",
            )  # fmt: skip
    capacity.release_customer_holds(session, customer.id)


def set_up(session: Session, settings: Settings, reply: Reply, now: datetime) -> Scene:
    """Put a customer in ``reply.state`` (an unknown caller: nobody) and return the scene."""
    if reply.caller == "unknown":
        return Scene(PHONE, None)
    customer = _customer(session, reply.locale, now)
    vehicle = _vehicle(session, customer)
    scene = Scene(PHONE, customer.id)
    if reply.intent == "opt_in":
        # START comes from someone who once said STOP: they are on the opt-out list.
        consent.opt_out(session, customer, source="sms: STOP", now=now - timedelta(days=30))
    else:
        _queue_marker(session, settings, customer, now)
    if reply.state == "offer":
        outreach = _planned(session, customer, vehicle, maintenance_interval.NAME, now)
        start_offer(session, settings, outreach, now=now, channel=reply.channel)
        scene.outreach_id = outreach.id
    elif reply.state == "followup":
        outreach = _planned(session, customer, vehicle, post_service_followup.NAME, now)
        start_followup(session, settings, outreach, now=now, channel=reply.channel)
        scene.outreach_id = outreach.id
    elif reply.state == "booked":
        scene.outreach_id, scene.appointment_id = _booked(session, settings, customer, vehicle, now)
    elif reply.state == "handoff":
        scene.outreach_id = _handed_off(session, settings, customer, vehicle, now)
    session.flush()
    return scene


def _customer(session: Session, locale: str, now: datetime) -> Customer:
    customer = Customer(
        external_id="EVAL-1",
        name="李雷" if locale == "zh-CN" else "Ann Lee",
        phone=PHONE,
        locale=locale,
        timezone="Asia/Shanghai",
        preferred_channel="sms",
        consent=True,
        consent_at=now - timedelta(days=400),
        consent_source="evaluation",
        created_at=now - timedelta(days=400),
    )
    session.add(customer)
    session.flush()
    return customer


def _vehicle(session: Session, customer: Customer) -> Vehicle:
    vehicle = Vehicle(
        external_id="EVAL-V1",
        customer_id=customer.id,
        vin="LSVAU2180N2000001",
        plate="沪A12345",
        model="Volkswagen Lavida",
        model_year=2021,
    )
    session.add(vehicle)
    session.flush()
    return vehicle


def _queue_marker(session: Session, settings: Settings, customer: Customer, now: datetime) -> None:
    """A message of another campaign waiting to be sent: an opt-out must cancel it."""
    outbox.enqueue(
        session, settings, customer=customer, channel="sms", body="（评估）排队中的消息",
        idempotency_key=MARKER_KEY, now=now, template="evaluation:marker",
        not_before=now + timedelta(days=1),
    )  # fmt: skip


def _planned(
    session: Session, customer: Customer, vehicle: Vehicle, campaign: str, now: datetime
) -> Outreach:
    today = now.date()
    visited = today - timedelta(days=3)
    if campaign == post_service_followup.NAME:
        session.add(
            Visit(external_id="EVAL-S1", vehicle_id=vehicle.id, visited_on=visited,
                  odometer_km=38_000, type="maintenance")
        )  # fmt: skip
    outreach = Outreach(
        customer_id=customer.id,
        vehicle_id=vehicle.id,
        status="planned",
        channel="sms",
        campaign=campaign,
        planned_on=today,
        context={},
        created_at=now,
    )
    outreach.reasons = [
        OutreachReason(
            customer_id=customer.id,
            vehicle_id=vehicle.id,
            campaign=campaign,
            subject_key=f"{campaign}:vehicle:{vehicle.id}",
            anchor_on=visited,
            due_on=today + timedelta(days=7),
            reason="evaluation",
            facts={"due_on": (today + timedelta(days=7)).isoformat(), "due_by": "time"},
        )
    ]
    session.add(outreach)
    session.flush()
    return outreach


def _booked(
    session: Session, settings: Settings, customer: Customer, vehicle: Vehicle, now: datetime
) -> tuple[int, int]:
    """A maintenance visit booked for tomorrow, its day-before reminder sent."""
    tomorrow = now.astimezone(settings.tz).date() + timedelta(days=1)
    jobs = ["maintenance"] if "maintenance" in settings.capacity.job_types else None
    jobs = jobs or [next(iter(settings.capacity.job_types))]
    found = capacity.offer_slots(
        session, settings, jobs=jobs, preference=SlotPreference(on=tomorrow), now=now, limit=1
    ) or capacity.offer_slots(session, settings, jobs=jobs, now=now, limit=1)
    if not found:
        raise StageError("the example workshop has no free slot to book a visit in")
    outreach = _planned(session, customer, vehicle, maintenance_interval.NAME, now)
    appointment = capacity.book(
        session, settings, customer_id=customer.id, vehicle_id=vehicle.id, jobs=jobs,
        starts_at=found[0].starts_at, now=now, source="bot",
        outreach_id=outreach.id,
    )  # fmt: skip
    appointment.reminded_at = now - REMINDED_BEFORE
    outreach.status = "booked"
    outreach.state = "booked"
    outreach.opened_at = now - timedelta(days=3)
    outreach.closed_at = outreach.opened_at
    outreach.outcome = f"booked appointment {appointment.id}"
    return outreach.id, appointment.id


def _handed_off(
    session: Session, settings: Settings, customer: Customer, vehicle: Vehicle, now: datetime
) -> int:
    """An offer the bot could not settle, handed to an advisor who has not called back yet."""
    outreach = _planned(session, customer, vehicle, maintenance_interval.NAME, now)
    start_offer(session, settings, outreach, now=now - timedelta(hours=1), channel="sms")
    capacity.release_customer_holds(session, customer.id)
    outreach.status = "handed_off"
    outreach.state = "handed_off"
    outreach.closed_at = now - timedelta(minutes=50)
    outreach.outcome = "handed to an advisor: not_understood"
    callbacks.queue_callback(
        session, customer=customer, reason="not_understood", now=now - timedelta(minutes=50),
        outreach=outreach, detail="not understood twice",
    )  # fmt: skip
    return outreach.id
