"""The reply model: trained on our own corpus, shipped as data, asked only where rules allow."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from outreach.conversation import model, reading, trust
from outreach.conversation.understand import understand
from outreach.evaluation.corpus import load

CORPUS = sorted(Path(__file__).resolve().parents[1].joinpath("data", "replies").glob("*.jsonl"))
NOW = datetime(2026, 6, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_the_shipped_model_is_the_corpus_s() -> None:
    """`outreach eval train tests/data/replies/*.jsonl` writes exactly the shipped model: a
    corpus change without a retrain fails here."""
    trained = model.train((r.text, r.state, r.intent) for r in load(CORPUS))
    shipped = json.loads(model.PATH.read_text(encoding="utf-8"))
    assert json.loads(json.dumps(trained, ensure_ascii=False)) == shipped


def _tiny(monkeypatch: pytest.MonkeyPatch, examples: list[tuple[str, str, str]]) -> None:
    trained = model.Model(model.train(examples * 3))
    monkeypatch.setattr(model, "shipped", lambda: trained)


def test_the_model_speaks_only_where_no_binding_rule_holds(monkeypatch: pytest.MonkeyPatch):
    """Where no rule holds the model names the intent and says why; a complaint's rule is never
    overruled, however sure the model is."""
    _tiny(
        monkeypatch,
        [("喇叭哑了", "offer", "fault"), ("雨刮器坏了", "offer", "fault"),
         ("投诉你们", "offer", "question"), ("好的", "offer", "confirm")],
    )  # fmt: skip
    intent = understand("喇叭哑了", now_local=NOW, options=3, state="offer")
    assert (intent.kind, intent.rule) == ("fault", "model")
    assert intent.guess is not None and intent.guess.confidence >= 0.9
    assert all(len(f) > 1 for f in intent.guess.because)  # grams and words, not letters
    complaint = understand("投诉你们", now_local=NOW, options=3, state="offer")
    assert (complaint.kind, complaint.rule) == ("complaint", "complaint")


def test_an_option_refused_is_never_read_as_a_pick(monkeypatch: pytest.MonkeyPatch):
    """ "第二个不行": the model may think it a pick; the rule that reads the refusal decides."""
    _tiny(monkeypatch, [("第二个不行", "offer", "choose_option")])
    intent = understand("第二个不行", now_local=NOW, options=3, state="offer")
    assert intent.kind == "reschedule"


def test_the_model_never_cancels_nor_opts_back_in(monkeypatch: pytest.MonkeyPatch):
    """Cancelling a visit and starting messages again take the customer's own words."""
    _tiny(monkeypatch, [("呜啦啦", "booked", "cancel_appointment"), ("嘿嘿嘿", "none", "opt_in")])
    assert understand("呜啦啦", now_local=NOW, state="booked").kind == "unknown"
    assert understand("嘿嘿嘿", now_local=NOW, state="none").kind == "unknown"


def test_a_pick_named_by_its_day_alone_books_that_option(monkeypatch: pytest.MonkeyPatch):
    """ "Today please.": no pointer word, no booking word and no time to the minute, but the
    model reads a pick, and the day singles out the first option."""
    _tiny(monkeypatch, [("today please.", "offer", "choose_option")])
    offered = (
        datetime(2026, 6, 3, 12, 0, tzinfo=NOW.tzinfo),
        datetime(2026, 6, 4, 8, 30, tzinfo=NOW.tzinfo),
        datetime(2026, 6, 4, 12, 0, tzinfo=NOW.tzinfo),
    )
    intent = understand("Today please.", now_local=NOW, options=3, state="offer", offered=offered)
    assert (intent.kind, intent.option, intent.overruled) == ("choose_option", 1, "time")


def test_a_time_to_the_minute_of_one_offered_slot_books_it_without_the_model() -> None:
    """ "Thursday noon. Book it.": only the third option starts then; the rule reads it."""
    offered = (
        datetime(2026, 6, 3, 12, 0, tzinfo=NOW.tzinfo),
        datetime(2026, 6, 4, 8, 30, tzinfo=NOW.tzinfo),
        datetime(2026, 6, 4, 12, 0, tzinfo=NOW.tzinfo),
    )
    intent = understand(
        "Thursday noon. Book it.", now_local=NOW, options=3, state="offer", offered=offered
    )
    assert (intent.kind, intent.option, intent.rule) == ("choose_option", 3, "option")


def test_features_mark_the_state_and_the_ends() -> None:
    grams = model.features("好的", "offer")
    assert "@offer" in grams and "^好" in grams and "的$" in grams and "@offer|好的" in grams


def test_one_against_rest_keeps_the_counts_of_one_intent_and_adds_up_the_others() -> None:
    """The complaint reader is the same counts as the whole model, read as two classes."""
    whole = model.Model(
        model.train(
            [("太差了", "none", "complaint"), ("差评", "none", "complaint"),
             ("好的", "none", "confirm"), ("好的谢谢", "none", "thanks")] * 2
        )
    )  # fmt: skip
    two = whole.one_against_rest("complaint")
    assert two.classes == {"complaint": 4, "rest": 4}
    assert two.features["好的"] == {"rest": 4} and two.features["差"] == {"complaint": 4}
    assert two.guess("太差", "none").kind == "complaint"
    assert two.guess("好的", "none").kind == "rest"


class _Fixed:
    """A reader that always says the same."""

    def __init__(self, kind: str, confidence: float) -> None:
        self.said = model.Guess(kind, confidence, ())

    def guess(self, norm: str, state: str) -> model.Guess:
        return self.said


def _readers(monkeypatch: pytest.MonkeyPatch, complaint: float, whole: tuple[str, float]) -> None:
    reader = _Fixed("complaint", complaint) if complaint >= 0.5 else _Fixed("rest", 1 - complaint)
    monkeypatch.setattr(model, "complaints", lambda: reader)
    monkeypatch.setattr(model, "shipped", lambda: _Fixed(*whole))


@pytest.mark.parametrize(
    ("complaint", "whole", "kind", "flagged"),
    [
        (0.8, ("choose_option", 0.6), "choose_option", True),
        (0.8, ("complaint", 0.95), "choose_option", True),
        (0.6, ("choose_option", 0.6), "choose_option", True),  # just sure enough
        (0.59, ("choose_option", 0.6), "choose_option", False),  # not sure enough
        (0.8, ("rating", 0.95), "choose_option", False),  # the whole model sure of another
        (0.99, ("complaint", 0.99), "opt_out", False),  # an opt-out is never called back
        (0.99, ("complaint", 0.99), "call_me", False),  # already with a person
        (0.99, ("complaint", 0.99), "complaint", False),
    ],
)
def test_the_complaint_reader_flags_only_where_it_may(
    monkeypatch: pytest.MonkeyPatch, complaint: float, whole: tuple[str, float], kind: str,
    flagged: bool,
) -> None:  # fmt: skip
    _readers(monkeypatch, complaint, whole)
    slots = reading.read("选2吧 洗得跟没洗一样", NOW)
    assert trust.concern(slots, "offer", kind) is flagged


def test_a_good_rating_with_a_remark_is_no_complaint(monkeypatch: pytest.MonkeyPatch) -> None:
    """From 4 up a follow-up's remark is read as a remark; below it the complaint is flagged."""
    _readers(monkeypatch, 0.99, ("rating", 0.6))
    assert not trust.concern(reading.read("4分 洗得跟没洗一样", NOW), "followup", "rating")
    assert trust.concern(reading.read("3分 洗得跟没洗一样", NOW), "followup", "rating")


def test_a_flagged_reply_keeps_its_pick_and_one_that_asks_nothing_is_a_complaint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ "选2吧，不过上次洗得跟没洗一样": option 2, and a person reads the complaint; words
    that ask nothing else are the complaint alone."""
    monkeypatch.setattr(trust, "concern", lambda s, state, kind: True)
    monkeypatch.setattr(trust, "guess", lambda s, state, rule, kind: None)
    offered = [
        NOW.replace(hour=12),
        NOW.replace(day=4, hour=8, minute=30),
        NOW.replace(day=4, hour=12),
    ]
    picked = understand("选2吧", now_local=NOW, options=3, offered=offered)
    assert (picked.kind, picked.option, picked.concern) == ("choose_option", 2, True)
    alone = understand("呜哩哇啦", now_local=NOW, state="handoff")
    assert (alone.kind, alone.rule, alone.concern) == ("complaint", "concern", False)
