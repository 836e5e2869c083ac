"""The reply model: trained on our own corpus, shipped as data, asked only where rules allow."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from outreach.conversation import model
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
