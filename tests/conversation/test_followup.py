"""The follow-up after a visit (跟踪回访): a rating, remarks for an advisor, or a new booking."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.conversation import start_followup, trust, voice_turn
from outreach.models import CallbackRequest, Customer, Outreach
from outreach.models.capacity import SlotHold
from outreach.settings import Settings
from tests.conversation.conftest import NOW, Phone, plan_outreach


@pytest.fixture
def asked(session: Session, conv_settings: Settings, customer: Customer) -> Outreach:
    """A follow-up on a visit of 30 May, asked by SMS at NOW."""
    outreach = plan_outreach(session, customer, campaign="post_service_followup")
    outreach.reasons[0].anchor_on = date(2026, 5, 30)
    start_followup(session, conv_settings, outreach, now=NOW, channel="sms")
    session.flush()
    return outreach


def _callbacks(session: Session) -> list[str]:
    return [c.reason for c in session.scalars(select(CallbackRequest))]


def test_the_question_names_the_visit_and_holds_nothing(session: Session, asked: Outreach) -> None:
    """The question asks for 1-5 about that visit; no slot is held for it."""
    text = asked.context["offer_text"]
    assert "5月30日" in text and "1-5" in text and "回T退订" in text
    assert asked.state == "followup" and session.scalars(select(SlotHold)).all() == []


@pytest.mark.parametrize("reply", ["5", "五分", "4分，很满意", "5 stars"])
def test_a_good_rating_is_thanked_and_closes(
    session: Session, phone: Phone, asked: Outreach, reply: str
) -> None:
    """A rating of 3-5 (a digit, a Chinese numeral, with words after it) closes with thanks."""
    answer = phone.text(reply)
    assert answer.kind == "followup_reply" and "感谢您的评价" in (answer.text or "")
    assert asked.status == "closed" and asked.outcome.startswith("rated ")
    assert asked.rating in (4, 5) and _callbacks(session) == []


def test_a_low_rating_goes_to_a_person(session: Session, phone: Phone, asked: Outreach) -> None:
    """1 or 2 out of 5: an apology, and the service manager's team calls back first thing."""
    answer = phone.text("1分，等了太久")
    assert answer.kind == "followup_reply" and answer.handoff
    assert "非常抱歉" in (answer.text or "")
    assert asked.outcome == "rated 1/5: advisor to call" and _callbacks(session) == ["low_rating"]


@pytest.mark.parametrize("reply", ["师傅很专业，就是等得有点久", "5分，但是刹车还有异响"])
def test_remarks_are_passed_to_an_advisor(
    session: Session, phone: Phone, asked: Outreach, reply: str
) -> None:
    """Words that need reading (a remark, a fault after the repair) reach an advisor."""
    answer = phone.text(reply)
    assert answer.kind == "followup_reply" and "已记录" in (answer.text or "")
    assert _callbacks(session) == ["feedback"] and "remarks" in (asked.outcome or "")


def test_a_complaint_is_a_complaint(session: Session, phone: Phone, asked: Outreach) -> None:
    """An angry reply goes to a person as a complaint, as everywhere."""
    assert phone.text("服务太差了").kind == "complaint"
    assert _callbacks(session) == ["complaint"]


def test_asking_to_book_again_offers_slots(phone: Phone, asked: Outreach) -> None:
    """ "再约个保养" after a follow-up is a booking like any other."""
    answer = phone.text("下周六上午再约个保养")
    assert answer.kind == "slot_options" and asked.state == "offered"
    assert len(asked.context["slots"]) == 3


def test_a_call_reads_the_question_and_takes_the_keypad(
    session: Session, conv_settings: Settings, customer: Customer
) -> None:
    """On a call the question asks for 1-5 on the keypad; pressing 4 thanks and hangs up."""
    outreach = plan_outreach(session, customer, campaign="post_service_followup")
    start_followup(session, conv_settings, outreach, now=NOW, channel="voice")
    turn = voice_turn(
        session, conv_settings, call_sid="CA9", to_or_from_phone=customer.phone, digits=None,
        speech=None, step="start", now=NOW,
    )  # fmt: skip
    assert turn.gather and "按1到5" in turn.say
    turn = voice_turn(
        session, conv_settings, call_sid="CA9", to_or_from_phone=customer.phone, digits="4",
        speech=None, step=turn.next_step, now=NOW,
    )  # fmt: skip
    assert turn.hangup and "感谢您的评价" in turn.say and outreach.outcome == "rated 4/5"


def test_a_rating_with_a_complaint_keeps_the_rating_and_queues_the_complaint(
    session: Session, phone: Phone, asked: Outreach, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A middling rating the complaint reader flags: the rating is kept, an apology is sent, and
    the complaint (not a low rating as well) goes to a person."""
    monkeypatch.setattr(trust, "concern", lambda s, state, kind: True)
    answer = phone.text("3分吧")
    assert answer.kind == "followup_reply" and answer.handoff and "非常抱歉" in (answer.text or "")
    assert asked.rating == 3 and asked.outcome == "rated 3/5: advisor to call"
    assert _callbacks(session) == ["complaint"]
