"""The verdict rules on their own: which intent a set of effects shows, and the slot checks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from outreach.evaluation.corpus import Reply
from outreach.evaluation.judge import NOTHING, judge, shown_intent
from outreach.evaluation.observe import Effects


def reply(intent: str, state: str = "offer", **slots: object) -> Reply:
    return Reply(text="x", locale="zh-CN", state=state, intent=intent, where="t:1", **slots)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "effects", "shown"),
    [
        ("offer", Effects(opted_out=True, callbacks=("bad_number",)), "wrong_number"),
        ("offer", Effects(callbacks=("complaint", "no_slots")), "complaint"),
        ("offer", Effects(callbacks=("no_slots",), offered=True), "propose_time"),
        ("booked", Effects(offered=True), "reschedule"),
        ("none", Effects(offered=True, reported="fault"), "fault"),
        ("none", Effects(offered=True, reported="thanks"), "book_request"),
        ("none", Effects(offered=True, reported="unknown"), "unknown"),
        ("handoff", Effects(offered=True, reported="propose_time"), "book_request"),
        ("followup", Effects(callbacks=("feedback",), rating=4), "rating"),
        ("followup", Effects(callbacks=("feedback",), reported="question"), "question"),
        ("booked", Effects(noted_on_appointment=True), "running_late"),
        ("offer", Effects(reported="question"), "question"),
        ("offer", Effects(reported="complaint"), NOTHING),
        ("offer", Effects(reported="decline"), NOTHING),
        ("handoff", Effects(reported="decline"), "decline"),
        ("offer", Effects(), "thanks"),
        ("offer", Effects(answered=True), "unknown"),
    ],
)
def test_effects_show_an_intent(state: str, effects: Effects, shown: str) -> None:
    """Effects decide; the reported intent only settles what leaves no trace (or ties)."""
    assert shown_intent(state, "sms", effects) == shown


def test_on_a_call_a_reprompt_is_not_understood() -> None:
    assert shown_intent("offer", "voice", Effects(answered=True, retried=True)) == "unknown"
    assert shown_intent("offer", "voice", Effects(answered=True)) == "question"


def test_an_opt_out_with_messages_still_queued_is_not_honoured() -> None:
    verdict = judge(reply("opt_out"), Effects(opted_out=True, left_queued=1), "")
    assert (verdict.got, verdict.ok, verdict.opt_out_honoured) == ("opt_out", False, False)
    assert verdict.detail == "opted out but 1 queued message(s) not cancelled"


def test_a_decline_needs_its_reason() -> None:
    later = Effects(declined=True, because="later")
    assert judge(reply("decline", because="later"), later, "").ok
    assert not judge(reply("decline", because="vehicle_sold"), later, "").ok


def test_a_rating_needs_its_number() -> None:
    four = Effects(rating=4, closed=True)
    assert judge(reply("rating", "followup", rating=4), four, "").ok
    assert judge(reply("rating", "followup", rating=5), four, "").detail == "rating 4"
    assert not judge(reply("rating", "followup", rating=5), four, "").ok


def test_a_time_asked_for_that_was_on_offer_is_propose_time() -> None:
    """Asking for exactly an offered time books it: the same effect as taking the option."""
    at = datetime(2026, 6, 3, 4, 0, tzinfo=UTC)
    effects = Effects(booked_at=at, option=1, reported="propose_time")
    assert shown_intent("offer", "sms", effects) == "propose_time"
    assert shown_intent("offer", "sms", Effects(booked_at=at, option=1)) == "choose_option"


def test_a_time_asked_for_and_booked_at_once_is_propose_time() -> None:
    at = datetime(2026, 6, 6, 1, 0, tzinfo=UTC)
    verdict = judge(reply("propose_time"), Effects(booked_at=at), "")
    assert (verdict.ok, verdict.detail) == (True, "booked 2026-06-06 01:00Z")


def test_a_complaint_is_queued_only_when_a_person_gets_it() -> None:
    """A "no free slots" callback is the bot's own: it does not put a complaint before a person."""
    assert not judge(reply("complaint"), Effects(callbacks=("no_slots",)), "").complaint_queued
    assert judge(reply("complaint"), Effects(callbacks=("call_me",)), "").complaint_queued
