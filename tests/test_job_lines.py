"""The bot's booking writes the offer's deferred items as the appointment's job lines, and the
confirmation names them with their price (or says the price is given at the visit)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from outreach.conversation import start_offer
from outreach.models import Appointment, AppointmentJobLine, OutreachReason
from tests.conversation.conftest import NOW, Phone, plan_outreach
from tests.factories import make_customer, make_item


def _deferred_offer(session, settings, locale="zh-CN"):
    customer = make_customer(
        session, name="李雷" if locale == "zh-CN" else "Ann Lee", locale=locale
    )
    outreach = plan_outreach(session, customer)  # routine service, and the two items below
    battery, pads = (
        ("蓄电池电量偏低，入冬前建议更换", "后刹车片剩余 30%，建议两个月内更换")
        if locale == "zh-CN"
        else ("Battery weak, replace before winter", "Rear brake pads at 30%")
    )
    for description in (battery, pads):
        item = make_item(session, outreach.vehicle, date(2026, 7, 1), description=description)
        outreach.reasons.append(
            OutreachReason(
                customer_id=customer.id,
                vehicle_id=outreach.vehicle_id,
                deferred_item_id=item.id,
                campaign="deferred_work",
                subject_key=f"deferred_work:item:{item.id}",
                due_on=date(2026, 7, 1),
                reason=description,
                facts={"description": description, "severity": "medium", "due_by": "2026-07-01"},
            )
        )
    session.flush()
    start_offer(session, settings, outreach, now=NOW, channel="sms")
    session.flush()
    return customer, outreach


def test_a_bot_booking_writes_the_offer_s_items(session, settings):
    """Replying 1 to an offer naming the battery and the brake pads books both as job lines."""
    customer, _ = _deferred_offer(session, settings)
    reply = Phone(session, settings, customer.phone).text("1")
    assert reply.kind == "confirmation"
    appointment = session.scalars(select(Appointment)).one()
    assert [(j.description, j.price) for j in appointment.job_lines] == [
        ("蓄电池电量偏低，入冬前建议更换", None),
        ("后刹车片剩余 30%，建议两个月内更换", 900.0),
    ]
    assert "另需处理：蓄电池电量偏低，入冬前建议更换（到店报价）" in reply.text
    assert "后刹车片剩余 30%，建议两个月内更换（¥900）" in reply.text


def test_the_english_confirmation_names_them(session, settings):
    customer, _ = _deferred_offer(session, settings, locale="en")
    reply = Phone(session, settings, customer.phone).text("1")
    assert "Also to do: Battery weak, replace before winter (price at the visit)" in reply.text
    assert "Rear brake pads at 30% (CNY 900)" in reply.text


def test_a_maintenance_offer_has_no_job_lines(session, settings):
    """An offer that named no deferred item leaves the confirmation as it was."""
    customer = make_customer(session, name="韩梅梅")
    outreach = plan_outreach(session, customer)
    start_offer(session, settings, outreach, now=NOW, channel="sms")
    reply = Phone(session, settings, customer.phone).text("1")
    assert reply.kind == "confirmation" and "另需处理" not in reply.text
    assert session.scalars(select(AppointmentJobLine)).all() == []
