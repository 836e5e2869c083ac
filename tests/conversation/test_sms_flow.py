"""Whole SMS conversations on the database: offer, choose, book, change, stop, hand off."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach import capacity, outbox
from outreach.conversation import records, start_offer, trust
from outreach.conversation.state import read
from outreach.models import (
    Appointment,
    CallbackRequest,
    ContactAttempt,
    Customer,
    OutboxMessage,
    Outreach,
)
from outreach.models.capacity import SlotHold
from outreach.settings import Settings
from tests.conversation.conftest import NOW, SHANGHAI, Phone, plan_outreach
from tests.factories import make_customer, make_vehicle


def _appointments(session: Session, customer: Customer) -> list[Appointment]:
    return list(session.scalars(select(Appointment).where(Appointment.customer_id == customer.id)))


def _callbacks(session: Session, customer: Customer) -> list[CallbackRequest]:
    return list(
        session.scalars(select(CallbackRequest).where(CallbackRequest.customer_id == customer.id))
    )


class TestOffer:
    def test_offer_names_the_reason_and_three_held_slots(
        self, session: Session, conv_settings: Settings, customer: Customer
    ) -> None:
        """The offer text names why we write and lists three slots, each held for the customer."""
        outreach = plan_outreach(session, customer)
        text = start_offer(session, conv_settings, outreach, now=NOW, channel="sms")
        assert "保养" in text and "1." in text and "3." in text and "回T退订" in text
        assert outreach.status == "open" and outreach.state == "offered"
        held = outreach.context["slots"]
        assert len(held) == 3 and all(s["hold_id"] for s in held)
        assert outreach.context["offer_text"] == text


class TestBooking:
    def test_option_number_books_with_a_full_confirmation(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """Option 2 books that slot; the confirmation has advisor, duration, price, documents."""
        chosen = offered.context["slots"][1]
        reply = phone.text("2")
        (appt,) = _appointments(session, customer)
        assert appt.starts_at == datetime.fromisoformat(chosen["starts_at"])
        assert reply.kind == "confirmation"
        assert chosen["advisor_name"] in reply.text
        assert "1.5小时" in reply.text and "¥680" in reply.text
        assert (
            "随车文件" in reply.text and "指定主修技师" in reply.text and "免费洗车" in reply.text
        )
        assert "取消预约" in reply.text
        assert offered.status == "booked" and appt.outreach_id == offered.id

    def test_booking_releases_the_other_holds(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """Once a slot is booked, the other offered slots are no longer held."""
        phone.text("2")
        held = session.scalars(
            select(SlotHold).where(SlotHold.customer_id == customer.id, SlotHold.status == "held")
        ).all()
        assert held == []

    def test_free_text_time_books_that_time(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """ "明天下午三点" books tomorrow at 15:00 local when it is free."""
        reply = phone.text("明天下午三点")
        (appt,) = _appointments(session, customer)
        local = appt.starts_at.astimezone(SHANGHAI)
        assert (local.date(), local.time()) == ((NOW + timedelta(days=1)).date(), time(15, 0))
        assert reply.kind == "confirmation"

    def test_vague_time_offers_slots_in_that_window(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """ "周六上午可以" offers Saturday-morning slots instead of booking blindly."""
        reply = phone.text("周六上午可以")
        assert reply.kind == "slot_options" and "周六" in reply.text
        for slot in offered.context["slots"]:
            local = datetime.fromisoformat(slot["starts_at"]).astimezone(SHANGHAI)
            assert local.weekday() == 5 and local.hour < 12
        assert _appointments(session, customer) == []

    def test_a_time_we_are_closed_is_told_so_with_the_nearest_slots(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """Sunday (closed) and 8 pm (after hours) are "not open then", not "full"."""
        for body in ("周日上午十点", "明天晚上八点"):
            reply = phone.text(body)
            assert reply.kind == "slot_options", body
            assert "不营业" in reply.text and "约满" not in reply.text, body
        assert len(offered.context["slots"]) == 3 and _appointments(session, customer) == []

    def test_a_day_past_the_horizon_is_told_so(
        self, session: Session, phone: Phone, offered: Outreach
    ) -> None:
        """ "下个月20号" is past the 14 days we book: said so, not "full", with the nearest."""
        reply = phone.text("下个月20号上午")
        assert reply.kind == "slot_options" and "还不能预约" in (reply.text or "")
        assert "约满" not in (reply.text or "") and len(offered.context["slots"]) == 3

    def test_closed_in_english(
        self, session: Session, conv_settings: Settings, offered_en: Outreach
    ) -> None:
        reply = Phone(session, conv_settings, offered_en.customer.phone).text("Sunday 10am")
        assert reply.kind == "slot_options" and "closed at that time" in reply.text

    def test_no_free_time_queues_one_callback_and_keeps_the_conversation(
        self, session: Session, conv_settings: Settings, customer: Customer
    ) -> None:
        """With nothing free in the horizon the customer is told an advisor will arrange a
        time, and one is asked to, once; the customer may still name another date."""
        closed = replace(conv_settings.capacity, opening_hours=dict.fromkeys(range(7)))
        full = replace(conv_settings, capacity=closed)
        phone = Phone(session, full, customer.phone)
        first = phone.text("预约保养")
        second = phone.text("下周二上午")
        assert first.kind == second.kind == "slot_options"
        assert "服务顾问" in first.text
        (callback,) = _callbacks(session, customer)
        assert (callback.reason, callback.status) == ("no_slots", "open")
        outreach = session.get(Outreach, callback.outreach_id)
        assert outreach is not None and outreach.status == "open"

    def test_slot_taken_race_offers_new_slots(
        self, session: Session, conv_settings: Settings, phone: Phone, offered: Outreach,
        customer: Customer,
    ) -> None:  # fmt: skip
        """When the chosen slot was taken after its hold expired, new slots are offered."""
        chosen = offered.context["slots"][1]
        starts = datetime.fromisoformat(chosen["starts_at"])
        phone.now = NOW + timedelta(minutes=45)  # past the 30-minute SMS hold
        capacity.release_expired_holds(session, phone.now)
        for _ in range(conv_settings.capacity.max_arrivals_per_interval):
            other = make_customer(session)
            capacity.book(session, conv_settings, customer_id=other.id, vehicle_id=None,
                          jobs=["maintenance"], starts_at=starts, now=phone.now)  # fmt: skip
        reply = phone.text("2")
        assert reply.kind == "slot_taken"
        assert _appointments(session, customer) == []
        new = offered.context["slots"]
        assert new and all(s["starts_at"] != chosen["starts_at"] for s in new)
        phone.text("2")
        assert len(_appointments(session, customer)) == 1

    def test_duplicate_message_sid_is_handled_once(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """A webhook retry with the same MessageSid books once and answers the same text."""
        first = phone.text("2", sid="SMdup")
        again = phone.text("2", sid="SMdup")
        assert again.duplicate and again.text == first.text
        assert len(_appointments(session, customer)) == 1


class TestChanges:
    def test_reschedule_moves_the_appointment(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """ "改期" offers new times and "1" moves the same appointment there."""
        phone.text("2")
        (appt,) = _appointments(session, customer)
        before = appt.starts_at
        reply = phone.text("改期")
        assert reply.kind == "slot_options"
        reply = phone.text("下周三上午十点")
        assert reply.kind in ("rescheduled", "slot_options")
        if reply.kind == "slot_options":
            reply = phone.text("2")
        assert reply.kind == "rescheduled"
        session.refresh(appt)
        assert appt.status == "booked" and appt.starts_at != before
        assert len(_appointments(session, customer)) == 1

    def test_cancel_appointment_cancels_and_keeps_the_subscription(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """ "取消预约" cancels the appointment; the customer stays subscribed."""
        phone.text("2")
        reply = phone.text("取消预约")
        (appt,) = _appointments(session, customer)
        assert reply.kind == "cancelled" and appt.status == "cancelled"
        assert customer.opted_out_at is None

    def test_bare_cancel_is_an_opt_out_and_keeps_the_appointment(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """A bare CANCEL opts out (as the carrier does); the booked appointment stands."""
        phone.text("2")
        reply = phone.text("CANCEL")
        (appt,) = _appointments(session, customer)
        assert reply.kind == "opt_out_confirmation"
        assert customer.opted_out_at is not None and appt.status == "booked"

    def test_decline_closes_the_outreach(
        self, session: Session, phone: Phone, offered: Outreach
    ) -> None:
        """ "不用了" closes the outreach as declined and answers politely."""
        reply = phone.text("不用了，谢谢")
        assert reply.kind == "declined" and offered.status == "declined"


class TestReasonsForNo:
    def test_serviced_elsewhere_declines_with_the_reason(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """ "Already serviced" names the service but is a no: no slots, the reason on file."""
        reply = phone.text("上个月已经在别的店保养过了")
        assert reply.kind == "declined" and offered.status == "declined"
        assert offered.outcome == "declined: already serviced (elsewhere)"
        assert "感谢告知" in (reply.text or "") and customer.name in (reply.text or "")
        held = session.scalars(select(SlotHold).where(SlotHold.status == "held")).all()
        assert held == [] and _appointments(session, customer) == []
        assert offered.vehicle is not None and offered.vehicle.active

    def test_not_now_closes_for_later(
        self, session: Session, phone: Phone, offered: Outreach
    ) -> None:
        """ "过两天再说" is a no for now: closed (the cooldown brings the next contact), and the
        reply says we will be in touch."""
        reply = phone.text("在出差，过两天再说")
        assert reply.kind == "declined" and offered.outcome == "declined for now: later"
        assert "过段时间再联系" in (reply.text or "")

    def test_sold_car_leaves_the_campaigns(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """ "车卖了" closes the conversation and retires that car from every campaign."""
        reply = phone.text("车已经卖了")
        assert reply.kind == "declined"
        assert offered.outcome == "declined: the vehicle was sold"
        assert offered.vehicle is not None and not offered.vehicle.active
        assert "车辆档案" in (reply.text or "")

    def test_sold_car_without_a_conversation_retires_the_only_car(
        self, session: Session, conv_settings: Settings
    ) -> None:
        """Out of the blue, "I sold the car" retires the customer's only active car; with two
        cars it cannot tell which, so it changes none."""
        one = make_customer(session, locale="en")
        only = make_vehicle(session, one)
        assert Phone(session, conv_settings, one.phone).text("I sold the car").kind == "declined"
        assert not only.active
        two = make_customer(session, locale="en")
        cars = [make_vehicle(session, two), make_vehicle(session, two)]
        reply = Phone(session, conv_settings, two.phone).text("sold my car last month")
        assert reply.kind == "declined" and "updated our records" in (reply.text or "")
        assert all(car.active for car in cars)

    def test_sold_car_with_a_booking_goes_to_an_advisor(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """A booked customer who sold the car: a person sorts out the appointment."""
        phone.text("2")
        reply = phone.text("车卖了")
        assert reply.kind == "handoff" and reply.handoff
        assert [c.reason for c in _callbacks(session, customer)] == ["vehicle_sold"]
        (appt,) = _appointments(session, customer)
        assert appt.status == "booked"

    def test_wrong_number_stops_the_number_and_asks_an_advisor(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """Whoever answered is not the customer: nothing more goes to the number, the queued
        messages are dropped, an advisor is asked to fix the file, and the reply never names
        the customer to a stranger."""
        reply = phone.text("你们打错了，我不认识这个人")
        assert reply.kind == "wrong_number" and reply.handoff
        assert customer.name not in (reply.text or "")
        assert customer.opted_out_at is not None
        assert (customer.opt_out_source or "").startswith("wrong number: sms")
        assert [c.reason for c in _callbacks(session, customer)] == ["bad_number"]
        assert offered.status == "opted_out"
        held = session.scalars(select(SlotHold).where(SlotHold.status == "held")).all()
        assert held == []
        assert phone.text("2").text is None  # opted out: nothing is sent any more


class TestAfterAHandOff:
    def test_replies_while_a_person_is_to_call_do_not_start_over(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """Handed to an advisor, a "1" meant for the old offer, a fault or a question is for the
        advisor (kept in the transcript), not a new "what do you need?"; "OK" and "thanks" get
        no answer; asking to book starts a booking again."""
        assert phone.text("打电话给我").kind == "handoff"
        pending = phone.text("第一个和第二个都行")
        assert pending.kind == "handoff_pending" and "服务顾问" in (pending.text or "")
        assert phone.text("刹车有点软").kind == "handoff_pending"
        assert phone.text("好的").text is None
        assert phone.text("谢谢").text is None
        assert len(_callbacks(session, customer)) == 1
        assert phone.text("预约保养").kind == "slot_options"

    def test_what_they_add_while_waiting_is_kept_for_the_advisor(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """A courtesy car, a technician, the mileage or a fault said while a person is to call
        goes on the conversation the advisor books from, and on the queue line."""
        assert phone.text("打电话给我").kind == "handoff"
        assert phone.text("到时候要个代步车，还是找上次那个王师傅").kind == "handoff_pending"
        assert phone.text("对了现在跑了四万八公里").kind == "handoff_pending"
        state = read(offered)
        assert state.services == "代步车" and state.technician == "上次那个王师傅"
        assert state.mileage_km == 48_000
        [callback] = _callbacks(session, customer)
        assert callback.reason == "call_me" and "代步车" in callback.detail

    def test_booking_settles_what_the_bot_asked_a_person_for(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """After two misses the customer books by text after all: the "not understood"
        callback is settled as booked; a call they asked for would have stayed open."""
        phone.text("哈哈")
        assert phone.text("嘿嘿嘿").kind == "handoff"
        assert phone.text("预约保养").kind == "slot_options"
        assert phone.text("1").kind == "confirmation"
        (callback,) = _callbacks(session, customer)
        session.refresh(callback)
        assert (callback.reason, callback.status, callback.outcome) == (
            "not_understood", "done", "booked",
        )  # fmt: skip

    def test_a_call_asked_for_stays_open_after_booking(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """ "打电话给我", then a booking by text: the customer still wants that call."""
        phone.text("打电话给我")
        phone.text("预约保养")
        assert phone.text("1").kind == "confirmation"
        (callback,) = _callbacks(session, customer)
        session.refresh(callback)
        assert callback.status == "open"

    def test_once_the_advisor_is_done_a_text_starts_a_booking(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """A closed callback no longer holds replies back."""
        phone.text("人工")
        (callback,) = _callbacks(session, customer)
        callback.status = "done"
        session.flush()
        assert phone.text("你好").kind == "ask_need"


class TestExtraWork:
    def test_more_work_on_a_booked_visit_is_noted_for_an_advisor(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """A booked customer asking for more work gets it on the appointment and an advisor to
        confirm it, not a second offer beside the booking; the same need again changes nothing."""
        phone.text("2")
        reply = phone.text("我想加一个四轮定位")
        (appt,) = _appointments(session, customer)
        assert reply.kind == "extra_work_noted" and "服务顾问会与您确认" in (reply.text or "")
        assert "我想加一个四轮定位" in (appt.notes or "")
        assert [c.reason for c in _callbacks(session, customer)] == ["extra_work"]
        assert session.scalars(select(Outreach).where(Outreach.status == "open")).all() == []
        assert phone.text("预约保养").kind == "already_booked"


class TestRunningLate:
    def test_late_is_noted_on_the_appointment(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """ "堵车，晚点到" from a booked customer goes on the appointment's notes (the board)."""
        phone.text("2")
        reply = phone.text("堵车了，可能晚二十分钟到")
        (appt,) = _appointments(session, customer)
        assert reply.kind == "late_noted" and "路上注意安全" in (reply.text or "")
        assert "晚二十分钟到" in (appt.notes or "") and appt.status == "booked"


class TestFollowUpTimes:
    def test_a_time_alone_keeps_the_day_just_asked_for(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """After "明天上午不行，下午可以", "下午三点半" is tomorrow at 15:30, not today."""
        tomorrow = (NOW.astimezone(SHANGHAI) + timedelta(days=1)).date()
        phone.text("明天上午不行，下午可以")
        reply = phone.text("下午三点半")
        (appt,) = _appointments(session, customer)
        local = appt.starts_at.astimezone(SHANGHAI)
        assert reply.kind == "confirmation"
        assert (local.date(), local.time()) == (tomorrow, time(15, 30))

    def test_a_time_alone_without_a_day_asked_is_the_nearest(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """With no day asked for before, a bare time is the nearest day's (today's, here)."""
        reply = phone.text("下午三点半")
        (appt,) = _appointments(session, customer)
        assert reply.kind == "confirmation"
        assert appt.starts_at.astimezone(SHANGHAI).date() == NOW.astimezone(SHANGHAI).date()


class TestQuestions:
    def test_price_of_the_service_is_answered_not_rebooked(
        self, session: Session, phone: Phone, offered: Outreach
    ) -> None:
        """ "保养多少钱" names the service but asks the price: the estimate, with the same slots."""
        before = [s["starts_at"] for s in offered.context["slots"]]
        reply = phone.text("保养多少钱")
        assert reply.kind == "answer" and "¥680" in (reply.text or "")
        assert [s["starts_at"] for s in offered.context["slots"]] == before

    def test_anything_earlier_offers_the_first_free_times(
        self, session: Session, phone: Phone, offered: Outreach
    ) -> None:
        """ "有没有更早的" is answered with the first free times, in order, not sent to a person."""
        reply = phone.text("有没有更早的？")
        starts = [s["starts_at"] for s in offered.context["slots"]]
        assert reply.kind == "slot_options" and not reply.handoff
        assert starts == sorted(starts) and len(starts) == 3

    def test_opening_hours(self, session: Session, phone: Phone, offered: Outreach) -> None:
        """ "几点开门" answers the week's arrival hours from the configuration."""
        reply = phone.text("你们几点开门？")
        assert reply.kind == "answer"
        assert "周一至周五 08:30-17:30" in (reply.text or "") and "周日休息" in (reply.text or "")

    def test_thanks_gets_no_answer(self, session: Session, phone: Phone, offered: Outreach) -> None:
        """A bare thank-you is not a miss and costs no message."""
        assert phone.text("谢谢！").text is None
        assert offered.context.get("misses", 0) == 0 and offered.status == "open"


class TestFacts:
    def test_mileage_and_fault_are_recorded_on_the_appointment(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """Mileage and faults told before booking end up on the appointment."""
        assert phone.text("现在跑了3万2").kind == "noted"
        assert phone.text("刹车有点软").kind == "noted"
        phone.text("2")
        (appt,) = _appointments(session, customer)
        assert appt.mileage_reported_km == 32000
        assert "刹车有点软" in (appt.faults_reported or "")

    def test_fault_after_booking_is_added(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """A fault described after booking is added to the appointment."""
        phone.text("2")
        assert phone.text("最近底盘有异响").kind == "noted"
        (appt,) = _appointments(session, customer)
        assert "异响" in (appt.faults_reported or "")


class TestPeople:
    def test_clarify_once_then_hand_off(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """The first miss gets one clarifying question; the second goes to the callback queue."""
        assert phone.text("哈哈").kind == "clarify"
        reply = phone.text("嘿嘿嘿")
        assert reply.kind == "handoff" and reply.handoff
        (cb,) = _callbacks(session, customer)
        assert cb.reason == "not_understood" and "哈哈" in (cb.detail or "")
        assert offered.status == "handed_off"

    def test_complaint_outranks_call_me(
        self, session: Session, conv_settings: Settings, phone: Phone, offered: Outreach,
        customer: Customer,
    ) -> None:  # fmt: skip
        """A complaint is queued more urgently than a plain "call me"."""
        assert phone.text("我要投诉，上次服务太差").handoff
        other = make_customer(session)
        plan_outreach(session, other)
        Phone(session, conv_settings, other.phone).text("call me")
        (complaint,) = _callbacks(session, customer)
        (call_me,) = _callbacks(session, other)
        assert complaint.reason == "complaint" and call_me.reason == "call_me"
        assert complaint.priority < call_me.priority

    def test_a_call_no_longer_needed_is_called_off_but_a_complaint_stays(
        self, session: Session, conv_settings: Settings, phone: Phone, offered: Outreach,
        customer: Customer,
    ) -> None:  # fmt: skip
        """ "不用打了，已经在楼下修理厂搞定了" while waiting: the advisor is spared the call
        (closed as declined, with the customer's words); a complaint still reaches a person."""
        phone.text("哈哈")
        phone.text("嘿嘿嘿")  # two misses: an advisor is to call
        (waiting,) = _callbacks(session, customer)
        assert waiting.status == "open"
        assert phone.text("不用打了，已经在楼下修理厂搞定了").kind == "declined"
        session.refresh(waiting)
        assert (waiting.status, waiting.outcome) == ("done", "declined")
        assert waiting.outcome_note == "the customer: 不用打了，已经在楼下修理厂搞定了"
        other = make_customer(session)
        plan_outreach(session, other)
        theirs = Phone(session, conv_settings, other.phone)
        theirs.text("上次修完还是响，你们到底行不行")
        theirs.text("算了不用回电了")
        (complaint,) = _callbacks(session, other)
        assert (complaint.reason, complaint.status) == ("complaint", "open")

    def test_a_question_with_no_call_wanted_is_answered(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """ "做个大保养要多少钱 不用打电话给我": the price, by text; no person asked for."""
        reply = phone.text("做个大保养要多少钱 不用打电话给我")
        assert reply.kind == "answer" and not reply.handoff
        assert _callbacks(session, customer) == []


class TestOptOut:
    def test_stop_opts_out_once_and_second_stop_is_silent(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """STOP opts out, closes the outreach and frees the holds; a second STOP answers nothing."""
        reply = phone.text("STOP")
        assert reply.kind == "opt_out_confirmation" and reply.text
        assert customer.opted_out_at is not None and offered.status == "opted_out"
        held = session.scalars(
            select(SlotHold).where(SlotHold.customer_id == customer.id, SlotHold.status == "held")
        ).all()
        assert held == []
        assert phone.text("STOP").text is None

    def test_opted_out_customer_gets_no_reply(
        self, session: Session, phone: Phone, offered: Outreach
    ) -> None:
        """After an opt-out, ordinary replies are recorded but not answered."""
        phone.text("退订")
        assert phone.text("2").text is None

    def test_start_resubscribes(self, session: Session, phone: Phone, customer: Customer) -> None:
        """START after an opt-out re-subscribes the customer."""
        phone.text("STOP")
        reply = phone.text("START")
        assert reply.kind == "opt_in_confirmation" and customer.opted_out_at is None

    def test_help_answers_the_contact_line(self, phone: Phone, conv_settings: Settings) -> None:
        """HELP answers with the dealership's phone number."""
        reply = phone.text("HELP")
        assert reply.kind == "help" and "5555 0100" in reply.text


class TestInbound:
    def test_unknown_number_books_maintenance(
        self, session: Session, conv_settings: Settings
    ) -> None:
        """An unknown number asking for maintenance gets slots and can book one."""
        caller = Phone(session, conv_settings, "+8613900001111")
        reply = caller.text("预约保养")
        assert reply.kind == "slot_options"
        customer = session.scalars(select(Customer).where(Customer.phone == caller.phone)).one()
        assert customer.external_id == "IN-8613900001111" and customer.consent
        assert caller.text("2").kind == "confirmation"
        (appt,) = _appointments(session, customer)
        assert appt.source == "inbound" and appt.jobs[0].job_code == "maintenance"

    @pytest.mark.parametrize(
        ("text", "says"),
        [
            ("你们周日营业吗", "周日休息"),
            ("营业时间是几点到几点", "08:30-17:30"),
            ("保养一次大概多少钱", "¥"),
            ("换个机油要多久", "小时"),
            ("what are your hours on sunday", "closed"),
            ("how much is a basic service", "CNY"),
        ],
    )
    def test_a_question_first_is_answered_and_opens_nothing(
        self, session: Session, conv_settings: Settings, text: str, says: str
    ) -> None:
        """A customer who asks before booking gets the answer, not "what do you need?" or slots;
        no conversation is opened and nothing is held until they ask to book."""
        caller = Phone(session, conv_settings, "+8613900002222")
        reply = caller.text(text)
        assert reply.kind == "answer" and says in (reply.text or ""), reply.text
        assert session.scalars(select(Outreach)).all() == []
        assert caller.text("预约保养").kind == "slot_options"

    def test_need_is_asked_when_not_said(self, session: Session, conv_settings: Settings) -> None:
        """ "I need an appointment" is asked what it is for; "5" (detailing) gets slots."""
        caller = Phone(session, conv_settings, "+12025550123")
        reply = caller.text("I need an appointment")
        assert reply.kind == "ask_need" and "detailing" in reply.text.lower()
        reply = caller.text("5")
        assert reply.kind == "slot_options"
        caller.text("2")
        customer = session.scalars(select(Customer).where(Customer.phone == caller.phone)).one()
        (appt,) = _appointments(session, customer)
        assert customer.locale == "en" and appt.jobs[0].job_code == "detailing"

    def test_every_message_is_in_the_audit_trail(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        """Inbound and outbound messages are recorded as contact attempts."""
        phone.text("2")
        rows = session.scalars(
            select(ContactAttempt).where(ContactAttempt.customer_id == customer.id)
        ).all()
        assert [(r.direction, r.kind) for r in rows] == [
            ("in", "choose_option"),
            ("out", "confirmation"),
        ]
        assert session.scalars(select(OutboxMessage)).all() == []


class TestQueuedMessages:
    def _queue(
        self, session: Session, settings: Settings, customer: Customer, key: str, outreach_id: int
    ) -> OutboxMessage:
        return outbox.enqueue(
            session, settings, customer=customer, channel="sms", body="reminder",
            idempotency_key=key, now=NOW, outreach_id=outreach_id,
        )  # fmt: skip

    def test_a_reply_cancels_what_the_conversation_had_queued(
        self,
        session: Session,
        conv_settings: Settings,
        phone: Phone,
        offered: Outreach,
        customer: Customer,
    ) -> None:
        """An escalation queued for the conversation is moot once the customer answers; a
        message queued for another conversation stays queued."""
        other = Outreach(
            customer_id=customer.id, campaign="seasonal", planned_on=NOW.date(), status="closed"
        )
        session.add(other)
        session.flush()
        mine = self._queue(session, conv_settings, customer, "escalation:1", offered.id)
        kept = self._queue(session, conv_settings, customer, "other:1", other.id)
        assert records.situation(session, customer.phone, NOW, sid="SMx", channel="sms").queued
        phone.text("这周有什么时间")
        session.refresh(mine)
        session.refresh(kept)
        assert (mine.status, mine.last_error) == ("cancelled", "the customer replied")
        assert kept.status == "queued"

    def test_nothing_queued_is_reported_as_nothing(
        self, session: Session, offered: Outreach, customer: Customer
    ) -> None:
        found = records.situation(session, customer.phone, NOW, sid="SMx", channel="sms")
        assert found.outreach is not None and not found.queued


class TestAuditTrail:
    def test_an_answer_outside_a_conversation_is_filed_under_the_latest_one(
        self, session: Session, phone: Phone, customer: Customer
    ) -> None:
        """HELP after the conversations ended: the answer's line names the latest of them."""
        for n, campaign in enumerate(["seasonal", "maintenance_interval"]):
            session.add(
                Outreach(
                    customer_id=customer.id, campaign=campaign, planned_on=NOW.date(),
                    status="closed", created_at=NOW + timedelta(minutes=n),
                )
            )  # fmt: skip
        session.flush()
        latest = session.scalars(select(Outreach).where(Outreach.campaign == campaign)).one()
        reply = phone.text("HELP")
        answer = session.scalars(
            select(ContactAttempt).where(ContactAttempt.direction == "out")
        ).one()
        assert reply.kind == "help" and answer.outreach_id == latest.id


class TestConfirmationLanguage:
    def test_an_english_confirmation_names_the_jobs_in_english(
        self, session, conv_settings, offered_en
    ):
        """Job names come from the configured job types in the customer's language."""
        phone = Phone(session, conv_settings, offered_en.customer.phone)
        reply = phone.text("2")
        assert reply.kind == "confirmation"
        english = conv_settings.capacity.job_types["maintenance"].description["en"]
        chinese = conv_settings.capacity.job_types["maintenance"].description["zh-CN"]
        assert english in reply.text
        assert chinese not in reply.text


class TestOfferNotYetSent:
    def _queued_offer(self, session: Session, settings: Settings, customer: Customer) -> Outreach:
        outreach = plan_outreach(session, customer)
        start_offer(session, settings, outreach, now=NOW, channel="sms")
        outbox.enqueue(
            session, settings, customer=customer, channel="sms", body="offer",
            idempotency_key=f"offer:{outreach.id}", now=NOW, outreach_id=outreach.id,
        )  # fmt: skip
        session.flush()
        return outreach

    def test_a_1_to_an_offer_still_queued_books_nothing(
        self, session: Session, conv_settings: Settings, customer: Customer, phone: Phone
    ) -> None:
        """The offer waits for the customer's window: a "1" they send meanwhile cannot mean
        its first time (they have not seen it), so nothing is booked; they are shown the times,
        and the queued offer is not sent after that."""
        outreach = self._queued_offer(session, conv_settings, customer)
        reply = phone.text("1")
        assert _appointments(session, customer) == []
        assert "1." in (reply.text or "") and reply.kind != "confirmation"
        queued = session.scalars(
            select(OutboxMessage).where(OutboxMessage.outreach_id == outreach.id)
        ).one()
        assert queued.status == "cancelled"

    def test_once_the_offer_went_out_a_1_books(
        self, session: Session, conv_settings: Settings, customer: Customer, phone: Phone
    ) -> None:
        outreach = self._queued_offer(session, conv_settings, customer)
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.outreach_id == outreach.id)
        ).one()
        row.status = "sent"
        session.flush()
        assert phone.text("1").kind == "confirmation"


class TestAComplaintBesideARequest:
    """A reply the complaint reader flags (``Intent.concern``) is handled as it asks, and a
    person gets the complaint too: nothing the customer asked for is lost."""

    @pytest.fixture(autouse=True)
    def _flagged(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(trust, "concern", lambda s, state, kind: True)

    def test_a_pick_is_booked_and_the_complaint_queued(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        answer = phone.text("选2吧")
        assert answer.kind == "confirmation"
        assert len(_appointments(session, customer)) == 1
        reasons = [c.reason for c in session.scalars(select(CallbackRequest))]
        assert reasons == ["complaint"]

    def test_an_opted_out_customer_s_complaint_still_reaches_a_person(
        self, session: Session, phone: Phone, offered: Outreach, customer: Customer
    ) -> None:
        customer.opted_out_at = NOW
        assert phone.text("选2吧").text is None  # nothing is sent to them
        assert _appointments(session, customer) == []
        reasons = [c.reason for c in session.scalars(select(CallbackRequest))]
        assert reasons == ["complaint"]
