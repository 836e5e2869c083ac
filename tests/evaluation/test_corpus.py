"""The labelled-reply corpus and its file format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outreach.evaluation.corpus import INTENTS, STATES, CorpusError, load, parse_line

CORPUS = sorted((Path(__file__).parents[1] / "data" / "replies").glob("*.jsonl"))


class TestShippedCorpus:
    def test_every_line_is_well_formed(self) -> None:
        """Every corpus line parses: known intent, state and locale, slots in range."""
        replies = load(CORPUS)
        assert len(replies) >= 650

    def test_every_state_and_intent_is_covered(self) -> None:
        """The corpus has replies in every conversation state and for every intent."""
        replies = load(CORPUS)
        assert {r.state for r in replies} == set(STATES)
        assert {r.intent for r in replies} == INTENTS

    def test_no_reply_is_labelled_twice(self) -> None:
        """A text appears once per state, locale, channel and caller: no two labels contradict."""
        keys = [(r.text, r.state, r.locale, r.channel, r.caller) for r in load(CORPUS)]
        assert len(keys) == len(set(keys))


class TestLineFormat:
    def test_a_choice_carries_its_option(self) -> None:
        """A well-formed choice keeps its option, its locale and the default SMS channel."""
        reply = parse_line(
            '{"text": "行吧，那就2", "locale": "zh-CN", "state": "offer", '
            '"intent": "choose_option", "option": 2}',
            "x.jsonl:1",
        )
        assert (reply.option, reply.locale, reply.channel) == (2, "zh-CN", "sms")

    @pytest.mark.parametrize(
        ("line", "says"),
        [
            ("{not json", "x.jsonl:3: not JSON"),
            ('["a list"]', "expected a JSON object"),
            ('{"text": "2", "locale": "zh-TW", "state": "offer", "intent": "confirm"}', "locale"),
            ('{"text": "2", "locale": "en", "state": "offered", "intent": "confirm"}', "state"),
            ('{"text": "2", "locale": "en", "state": "offer", "intent": "pick"}', "intent"),
            ('{"text": " ", "locale": "en", "state": "offer", "intent": "confirm"}', "'text'"),
            ('{"text": "4", "locale": "en", "state": "offer", "intent": "choose_option"}', "needs"),
            (
                '{"text": "4", "locale": "en", "state": "offer", "intent": "choose_option",'
                ' "option": 4}',
                "option must be a whole number 1..3",
            ),
            (
                '{"text": "six", "locale": "en", "state": "followup", "intent": "rating",'
                ' "rating": 6}',
                "rating must be a whole number 1..5",
            ),
            (
                '{"text": "no", "locale": "en", "state": "offer", "intent": "decline",'
                ' "because": "busy"}',
                "because must be one of",
            ),
            ('{"text": "no", "locale": "en", "state": "offer", "intent": "decline"}', "because"),
            (
                '{"text": "hi", "locale": "en", "state": "offer", "intent": "thanks", "option": 1}',
                "belongs to intent 'choose_option'",
            ),
            (
                '{"text": "hi", "locale": "en", "state": "offer", "intent": "thanks",'
                ' "channel": "fax"}',
                "channel",
            ),
            (
                '{"text": "hi", "locale": "en", "state": "offer", "intent": "thanks",'
                ' "caller": "unknown"}',
                "state must be 'none'",
            ),
            ('{"text": "hi", "locale": "en", "state": "none", "intent": "thanks", "x": 1}', "'x'"),
        ],
    )
    def test_a_malformed_line_names_file_line_and_fault(self, line: str, says: str) -> None:
        """A malformed line is refused with the file, the line and what is wrong."""
        with pytest.raises(CorpusError, match=r"x\.jsonl:3") as caught:
            parse_line(line, "x.jsonl:3")
        assert says in str(caught.value)

    def test_a_file_with_a_bom_and_blank_lines_loads(self, tmp_path: Path) -> None:
        """A corpus saved with a BOM and blank lines loads, numbering lines as an editor does."""
        path = tmp_path / "a.jsonl"
        path.write_text(
            '\ufeff{"text": "STOP", "locale": "en", "state": "none", "intent": "opt_out"}\n\n'
            '{"text": "T", "locale": "zh-CN", "state": "none", "intent": "opt_out"}\n',
            encoding="utf-8",
        )
        replies = load([path])
        assert [r.where for r in replies] == ["a.jsonl:1", "a.jsonl:3"]


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 8),
    st.text(max_size=12),
    st.sampled_from([*STATES, *sorted(INTENTS), "zh-CN", "en", "sms", "voice", "later"]),
    st.lists(st.integers(), max_size=2),
)
_keys = st.sampled_from(
    ["text", "locale", "state", "intent", "channel", "caller", "option", "because", "rating",
     "note", "x"]
)  # fmt: skip


# The machine is shared: a slow first draw is load, not a slow strategy.
_LOADED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


class TestAnyLine:
    @_LOADED
    @given(st.dictionaries(_keys, _values, max_size=9))
    def test_any_object_is_a_reply_or_one_error_naming_the_line(self, raw: dict) -> None:
        """Whatever the keys and values, a line loads or fails with a CorpusError naming it."""
        try:
            reply = parse_line(json.dumps(raw, ensure_ascii=False), "h.jsonl:7")
        except CorpusError as exc:
            assert str(exc).startswith("h.jsonl:7: ")
            assert "\n" not in str(exc)
        else:
            assert reply.intent in INTENTS and reply.state in STATES
            assert (reply.option is not None) == (reply.intent == "choose_option")

    @_LOADED
    @given(st.text(max_size=40))
    def test_any_text_is_a_reply_or_one_error_naming_the_line(self, line: str) -> None:
        try:
            parse_line(line, "h.jsonl:8")
        except CorpusError as exc:
            assert str(exc).startswith("h.jsonl:8: ")
