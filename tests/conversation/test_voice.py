"""Voice turns: read the offer, book by keypad, re-prompt once, hand off; unanswered → SMS."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.conversation import call_unanswered, start_offer, voice_turn
from outreach.models import Appointment, CallbackRequest, ContactAttempt, Customer, OutboxMessage
from outreach.settings import Settings
from tests.conversation.conftest import NOW, plan_outreach
from tests.factories import make_customer


def _turn(session: Session, settings: Settings, customer: Customer, step: str, **heard: str):
    return voice_turn(
        session, settings, call_sid="CA1", to_or_from_phone=customer.phone,
        digits=heard.get("digits"), speech=heard.get("speech"), step=step,
        now=NOW + timedelta(minutes=1),
    )  # fmt: skip


class TestVoice:
    def test_start_reads_the_offer_in_mandarin(
        self, session: Session, conv_settings: Settings, customer: Customer
    ) -> None:
        """The opening turn reads the slots as keypad choices with the Mandarin voice."""
        plan_outreach(session, customer)
        turn = _turn(session, conv_settings, customer, "start")
        assert (turn.language, turn.voice, turn.speech_language) == (
            "cmn-CN", "Polly.Zhiyu", "cmn-Hans-CN",
        )  # fmt: skip
        assert turn.gather and not turn.hangup and "按1" in turn.say and "按3" in turn.say

    def test_english_customer_gets_the_english_voice(
        self, session: Session, conv_settings: Settings
    ) -> None:
        """An English-speaking customer hears Polly.Joanna in en-US."""
        customer = make_customer(session, locale="en", name="Ann")
        plan_outreach(session, customer)
        turn = _turn(session, conv_settings, customer, "start")
        assert (turn.language, turn.voice) == ("en-US", "Polly.Joanna")

    def test_keypad_choice_books_and_texts_the_confirmation(
        self, session: Session, conv_settings: Settings, customer: Customer
    ) -> None:
        """Pressing 2 books that slot, says the confirmation, hangs up and queues it by SMS."""
        plan_outreach(session, customer)
        _turn(session, conv_settings, customer, "start")
        turn = _turn(session, conv_settings, customer, "choose-1", digits="2")
        assert turn.hangup and not turn.gather
        appt = session.scalars(select(Appointment).where(Appointment.customer_id == customer.id))
        assert appt.one().status == "booked"
        (queued,) = session.scalars(select(OutboxMessage)).all()
        assert queued.channel == "sms" and "取消预约" in queued.body

    def test_miss_reprompts_once_then_hands_off(
        self, session: Session, conv_settings: Settings, customer: Customer
    ) -> None:
        """A first miss re-prompts; a second hands off to an advisor and ends the call."""
        plan_outreach(session, customer)
        _turn(session, conv_settings, customer, "start")
        again = _turn(session, conv_settings, customer, "choose-1", speech="嗯嗯啊啊")
        assert again.gather and again.next_step == "retry-2"
        end = _turn(session, conv_settings, customer, "retry-2", digits="9")
        assert end.hangup
        (cb,) = session.scalars(select(CallbackRequest)).all()
        assert cb.reason == "voice_not_understood" and cb.customer_id == customer.id

    def test_zero_asks_for_a_person(
        self, session: Session, conv_settings: Settings, customer: Customer
    ) -> None:
        """Keypad 0 queues a callback."""
        plan_outreach(session, customer)
        _turn(session, conv_settings, customer, "start")
        assert _turn(session, conv_settings, customer, "choose-1", digits="0").hangup
        (cb,) = session.scalars(select(CallbackRequest)).all()
        assert cb.reason == "call_me"


class TestUnanswered:
    def test_wrong_number_apologises_hangs_up_and_stops_the_number(
        self, session: Session, conv_settings: Settings, customer: Customer
    ) -> None:
        """ "打错了" on a call: an apology without the customer's name, the call ends, the number
        is blocked and an advisor is asked to fix the file."""
        plan_outreach(session, customer)
        _turn(session, conv_settings, customer, "start")
        turn = _turn(session, conv_settings, customer, "choose-1", speech="你打错了")
        assert turn.hangup and "抱歉打扰" in turn.say and customer.name not in turn.say
        assert (customer.opt_out_source or "").startswith("wrong number: voice")
        (callback,) = session.scalars(select(CallbackRequest)).all()
        assert callback.reason == "bad_number"

    def test_a_sold_car_on_a_call_is_acknowledged(
        self, session: Session, conv_settings: Settings, customer: Customer
    ) -> None:
        """ "车卖了" on a call: the car leaves the campaigns and the goodbye says so."""
        outreach = plan_outreach(session, customer)
        _turn(session, conv_settings, customer, "start")
        turn = _turn(session, conv_settings, customer, "choose-1", speech="车已经卖了")
        assert turn.hangup and "更新您的车辆档案" in turn.say
        assert outreach.vehicle is not None and not outreach.vehicle.active

    def test_no_answer_queues_the_offer_by_sms_once(
        self, session: Session, conv_settings: Settings, customer: Customer
    ) -> None:
        """An unanswered call queues the same offer by SMS, once per call."""
        outreach = plan_outreach(session, customer)
        start_offer(session, conv_settings, outreach, now=NOW, channel="voice")
        for _ in range(2):
            call_unanswered(
                session, conv_settings, outreach, status="no-answer", now=NOW, call_sid="CA9"
            )
        session.flush()
        (queued,) = session.scalars(select(OutboxMessage)).all()
        assert queued.body == outreach.context["offer_text"]
        notes = session.scalars(
            select(ContactAttempt).where(ContactAttempt.status == "queued")
        ).all()
        assert ("offer", "out") in [(n.kind, n.direction) for n in notes]

    def test_answering_machine_counts_as_unanswered(
        self, session: Session, conv_settings: Settings, customer: Customer
    ) -> None:
        """A machine answering is treated like no answer."""
        outreach = plan_outreach(session, customer)
        assert call_unanswered(
            session, conv_settings, outreach, answered_by="machine_end_beep", now=NOW
        )

    def test_human_answer_queues_nothing(
        self, session: Session, conv_settings: Settings, customer: Customer
    ) -> None:
        """A call a person answered queues no SMS."""
        outreach = plan_outreach(session, customer)
        assert not call_unanswered(
            session, conv_settings, outreach, status="completed", answered_by="human", now=NOW
        )


class TestSteps:
    def test_every_turn_of_a_call_names_a_new_step(
        self, session: Session, conv_settings: Settings, customer: Customer
    ) -> None:
        """Each listening turn names a step not used before in the call (answers are per step)."""
        plan_outreach(session, customer)
        start = _turn(session, conv_settings, customer, "start")
        retry = _turn(session, conv_settings, customer, start.next_step, speech="嗯嗯啊啊")
        later = _turn(session, conv_settings, customer, retry.next_step, speech="明天下午三点")
        steps = ["start", start.next_step, retry.next_step]
        assert len(set(steps)) == 3
        assert later.next_step not in steps or later.next_step == "end"
