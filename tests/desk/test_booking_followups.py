"""What a desk booking leaves behind: the customer's written confirmation queued through the
outbox (as after a bot booking), the advisor's note on the board, and the deferred items the
offer named as the appointment's job lines, with their price."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from outreach.conversation.state import write
from outreach.job_lines import price_for, record_job_lines
from outreach.models import (
    Appointment,
    AppointmentJobLine,
    ContactAttempt,
    OutboxMessage,
    Outreach,
    OutreachReason,
)
from tests.desk.conftest import NOW, make_callback
from tests.factories import make_customer, make_item, make_vehicle


def _entry(db, *, consent=True, deferred=()):
    customer = make_customer(db, name="张伟", consent=consent)
    vehicle = make_vehicle(db, customer, plate="沪B77777")
    outreach = Outreach(
        customer_id=customer.id,
        vehicle_id=vehicle.id,
        status="open",
        campaign="deferred_work",
        planned_on=NOW.date(),
    )
    db.add(outreach)
    db.flush()
    for n, description in enumerate(deferred):
        item = make_item(db, vehicle, NOW.date() + timedelta(days=20), description=description)
        db.add(
            OutreachReason(
                outreach_id=outreach.id,
                customer_id=customer.id,
                vehicle_id=vehicle.id,
                deferred_item_id=item.id,
                campaign="deferred_work",
                subject_key=f"deferred_work:item:{item.id}",
                priority=n,
                reason=description,
                facts={"description": description},
                due_on=NOW.date(),
            )
        )
    callback = make_callback(db, customer, outreach_id=outreach.id)
    db.commit()
    return callback, vehicle


def _book(desk_client, callback, vehicle, note=""):
    desk_client.post(f"/queue/{callback.id}/claim")
    return desk_client.post(
        f"/queue/{callback.id}/book",
        {
            "vehicle_id": str(vehicle.id),
            "jobs": "inspection",
            "starts_at": "2025-03-11T09:30",
            "note": note,
        },
    )


def test_booking_queues_the_confirmation(desk_client, db):
    """The customer gets the same written confirmation the bot sends, through the outbox."""
    callback, vehicle = _entry(db)
    _book(desk_client, callback, vehicle)
    db.expire_all()
    appointment = db.scalars(select(Appointment)).one()
    [message] = db.scalars(select(OutboxMessage)).all()
    assert message.channel == "sms" and message.status == "queued"
    assert "预约已确认" in message.body and "沪B77777" in message.body
    assert message.template == "conversation:confirmation"
    logged = db.scalars(select(ContactAttempt).where(ContactAttempt.kind == "confirmation")).one()
    assert logged.status == "queued" and logged.body == message.body
    assert appointment.outreach_id == callback.outreach_id


def test_no_confirmation_without_consent(desk_client, db):
    """A customer who may not be contacted is booked, but sent nothing."""
    callback, vehicle = _entry(db, consent=False)
    _book(desk_client, callback, vehicle)
    db.expire_all()
    assert db.scalars(select(Appointment)).one()
    assert db.scalars(select(OutboxMessage)).all() == []


def test_the_note_is_on_the_board(desk_client, db):
    """The advisor's note is written on the appointment and printed on the board."""
    callback, vehicle = _entry(db)
    _book(desk_client, callback, vehicle, note="客户自带机油")
    db.expire_all()
    assert db.scalars(select(Appointment)).one().notes == "客户自带机油"
    db.rollback()
    board = desk_client.client.get("/board/?day=2025-03-11").get_data(as_text=True)
    assert "客户自带机油" in board


def test_offered_items_become_job_lines(desk_client, db):
    """The deferred items of the offer are on the appointment, priced when a job type does
    the work, "to be quoted" otherwise, and shown on the board."""
    callback, vehicle = _entry(db, deferred=("蓄电池电量偏低，入冬前建议更换", "后刹车片剩余 30%"))
    _book(desk_client, callback, vehicle)
    db.expire_all()
    lines = db.scalars(select(AppointmentJobLine).order_by(AppointmentJobLine.id)).all()
    assert [(line.description, line.price) for line in lines] == [
        ("蓄电池电量偏低，入冬前建议更换", None),
        ("后刹车片剩余 30%", 900.0),
    ]
    db.rollback()
    confirmation = db.scalars(select(OutboxMessage)).one().body
    assert (
        "另需处理：蓄电池电量偏低，入冬前建议更换（到店报价）；后刹车片剩余 30%（¥900）"
        in confirmation
    )
    db.rollback()
    board = desk_client.client.get("/board/?day=2025-03-11").get_data(as_text=True)
    assert "蓄电池电量偏低，入冬前建议更换" in board and "待报价" in board
    assert "后刹车片剩余 30%" in board and "¥900" in board


def test_job_lines_are_written_once(db, settings):
    """Recording the same items twice (a retried booking) adds no second line."""
    customer = make_customer(db)
    vehicle = make_vehicle(db, customer)
    item = make_item(db, vehicle, NOW.date(), description="Front brake pads worn")
    appointment = Appointment(customer_id=customer.id, vehicle_id=vehicle.id, starts_at=NOW)
    db.add(appointment)
    db.flush()
    record_job_lines(db, settings, appointment, [item])
    record_job_lines(db, settings, appointment, [item])
    assert len(db.scalars(select(AppointmentJobLine)).all()) == 1


def test_price_for_reads_the_configured_job(settings):
    """A description names the work in Chinese or English, any case."""
    assert price_for(settings, "更换刹车片") == 900
    assert price_for(settings, "Replace FRONT BRAKE PADS") == 900
    assert price_for(settings, "空调滤芯脏污") == 150
    assert price_for(settings, "雨刮片老化") is None


def test_what_the_customer_told_the_bot_goes_on_the_visit(desk_client, db):
    """Handed off mid-conversation, then booked at the desk: the mileage, the fault in their
    words, the technician and the special services they gave the bot are on the appointment
    (and the board), as when the bot books."""
    callback, vehicle = _entry(db)
    outreach = db.get(Outreach, callback.outreach_id)
    write(
        outreach,
        mileage_km=48_000,
        faults=["刹车有异响"],
        technician="张师傅",
        services="代步车、洗车",
    )
    db.commit()
    _book(desk_client, callback, vehicle)
    db.expire_all()
    appointment = db.scalars(select(Appointment)).one()
    assert appointment.mileage_reported_km == 48_000
    assert appointment.faults_reported == "刹车有异响"
    assert appointment.designated_technician == "张师傅"
    assert appointment.special_services == "代步车、洗车"
    db.rollback()
