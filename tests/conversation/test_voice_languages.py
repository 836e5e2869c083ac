"""Every voice turn, in every language, speaks and listens with a pair from the one table."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy.orm import Session

from outreach.conversation import voice_turn
from outreach.conversation.voice import VOICES, VoiceTurn
from outreach.settings import LOCALES, Settings
from tests.conversation.conftest import NOW, plan_outreach
from tests.factories import make_customer
from webhooks import twiml

# Replies that walk a call through offer, re-prompt, noted facts, booking and goodbye.
_WALKS = {
    "book": [("digits", "1")],
    "retry then book": [("speech", "嗯嗯"), ("digits", "2")],
    "mileage then book": [("speech", "35000公里"), ("digits", "1")],
    "a person": [("digits", "0")],
    "no thanks": [("speech", "不用了")],
    "twice missed": [("speech", "嗯嗯"), ("speech", "啊啊")],
}


def _walk(session: Session, settings: Settings, locale: str, replies) -> list[VoiceTurn]:  # type: ignore[no-untyped-def]
    customer = make_customer(session, locale=locale, name="Ann")
    plan_outreach(session, customer)
    turns = []
    step, at = "start", NOW
    for kind, value in [(None, None), *replies]:
        at += timedelta(minutes=1)
        heard = {"digits": None, "speech": None, **({kind: value} if kind else {})}
        turn = voice_turn(
            session, settings, call_sid="CA" + "0" * 32, to_or_from_phone=customer.phone,
            step=step, now=at, **heard,
        )  # fmt: skip
        turns.append(turn)
        if not turn.gather:
            break
        step = turn.next_step
    return turns


@pytest.mark.parametrize("walk", sorted(_WALKS))
@pytest.mark.parametrize("locale", LOCALES)
def test_every_turn_uses_a_voice_pair_from_the_table(
    session: Session, conv_settings: Settings, locale: str, walk: str
) -> None:
    """Say language, Polly voice and Gather language of every turn are the locale's table row."""
    expected = VOICES["zh-CN" if locale.startswith("zh") else "en"]
    for turn in _walk(session, conv_settings, locale, _WALKS[walk]):
        assert (turn.language, turn.voice, turn.speech_language) == (
            expected.say_language, expected.voice, expected.speech_language,
        )  # fmt: skip
        root = ElementTree.fromstring(twiml.voice(turn, "https://hooks.example.com"))  # noqa: S314 - our own TwiML
        for say in root.iter("Say"):
            assert (say.get("language"), say.get("voice")) == (turn.language, turn.voice)
            assert say.text
        for gather in root.iter("Gather"):
            assert gather.get("language") == turn.speech_language


def test_the_table_pairs_zhiyu_with_mandarin() -> None:
    """Polly.Zhiyu says cmn-CN; Mandarin speech is recognised as cmn-Hans-CN."""
    zh = VOICES["zh-CN"]
    assert (zh.voice, zh.say_language, zh.speech_language) == (
        "Polly.Zhiyu",
        "cmn-CN",
        "cmn-Hans-CN",
    )


def test_the_fallback_apology_uses_the_table() -> None:
    """The apology said when a turn fails uses the same voice/language pair."""
    for locale, row in VOICES.items():
        say = ElementTree.fromstring(twiml.voice_fallback("…", locale)).find("Say")  # noqa: S314 - our own TwiML
        assert say is not None and (say.get("voice"), say.get("language")) == (
            row.voice, row.say_language,
        )  # fmt: skip
