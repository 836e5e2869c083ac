"""``outreach eval replies`` end to end: a wrong outcome is a miss, the gates set the exit code.

The replies used here are ones any version of the understanding reads the same way (a bare
option number, STOP, an explicit complaint keyword); the labels are what the tests vary.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from outreach.cli import main
from outreach.cli.evaluation import playing
from outreach.evaluation.corpus import parse_line
from outreach.evaluation.judge import Verdict
from outreach.evaluation.play import Player
from outreach.evaluation.report import Scores
from outreach.settings import DEFAULT_CONFIG


def line(text: str, state: str, intent: str, **extra: object) -> str:
    return json.dumps(
        {"text": text, "locale": "zh-CN", "state": state, "intent": intent, **extra},
        ensure_ascii=False,
    )


@pytest.fixture(scope="module")
def player() -> Iterator[Player]:
    with playing(DEFAULT_CONFIG) as p:
        yield p


def play(player: Player, raw: str) -> Verdict:
    return player.play(parse_line(raw, "t.jsonl:1"))


class TestVerdicts:
    def test_an_option_booked_is_choose_option_with_that_option(self, player: Player) -> None:
        """ "2" to an open offer books the second slot: right when labelled option 2."""
        verdict = play(player, line("2", "offer", "choose_option", option=2))
        assert (verdict.ok, verdict.got, verdict.detail) == (True, "choose_option", "option 2")

    def test_a_wrong_option_is_a_miss(self, player: Player) -> None:
        """The label says option 3, the appointment is at option 1: a miss naming option 1."""
        verdict = play(player, line("1", "offer", "choose_option", option=3))
        assert not verdict.ok
        assert verdict.detail == "option 1"

    def test_an_outcome_of_another_intent_is_a_miss(self, player: Player) -> None:
        """STOP labelled as a choice: the customer was opted out, so the verdict is opt_out."""
        verdict = play(player, line("STOP", "offer", "choose_option", option=1))
        assert (verdict.ok, verdict.got) == (False, "opt_out")

    def test_an_opt_out_is_honoured_with_the_queue_emptied(self, player: Player) -> None:
        """STOP opts out and cancels the message that was waiting in the outbox."""
        verdict = play(player, line("退订", "booked", "opt_out"))
        assert verdict.ok and verdict.opt_out_honoured
        assert verdict.detail == "opted out, nothing left queued"

    def test_a_complaint_reaches_the_advisors_queue(self, player: Player) -> None:
        verdict = play(player, line("我要投诉", "offer", "complaint"))
        assert (verdict.ok, verdict.got, verdict.complaint_queued) == (True, "complaint", True)

    def test_each_reply_starts_from_the_same_clean_database(self, player: Player) -> None:
        """Two customers taking option 1 in turn both get the same first slot: the first
        booking was rolled away before the second reply was played."""
        first = play(player, line("1", "offer", "choose_option", option=1))
        second = play(player, line("1", "offer", "choose_option", option=1))
        assert first.ok and second.ok
        assert first.answer == second.answer

    def test_a_voice_answer_goes_through_the_voice_webhook(self, player: Player) -> None:
        """Keypad 2 on a call books the second slot, and the call says so."""
        verdict = play(player, line("2", "offer", "choose_option", option=2, channel="voice"))
        assert (verdict.ok, verdict.detail) == (True, "option 2")
        assert verdict.answer

    def test_an_unknown_number_texting_stop_is_opted_out(self, player: Player) -> None:
        verdict = play(player, line("STOP", "none", "opt_out", caller="unknown"))
        assert verdict.ok


def scores_of(player: Player, *lines: str, min_accuracy: float = 98) -> Scores:
    replies = [parse_line(raw, f"t.jsonl:{n}") for n, raw in enumerate(lines, start=1)]
    return Scores(player.play_all(replies), min_accuracy)


class TestScores:
    def test_an_opt_out_not_honoured_fails_whatever_the_accuracy(self, player: Player) -> None:
        """A "2" labelled opt-out books instead: the run fails even with no minimum accuracy."""
        scores = scores_of(player, line("2", "offer", "opt_out"), min_accuracy=0)
        assert scores.failures() == ["1 of 1 opt-outs not honoured"]

    def test_a_complaint_not_queued_fails_the_run(self, player: Player) -> None:
        scores = scores_of(player, line("1", "offer", "complaint"), min_accuracy=0)
        assert scores.failures() == ["1 of 1 complaints not queued for a person"]

    def test_the_report_lists_every_miss_with_file_and_line(self, player: Player) -> None:
        scores = scores_of(
            player,
            line("1", "offer", "choose_option", option=1),
            line("3", "offer", "choose_option", option=2),
        )
        assert (scores.total, scores.right, scores.accuracy) == (2, 1, 50.0)
        text = scores.as_text()
        assert "t.jsonl:2 [offer/zh-CN/sms] '3': expected choose_option (option 2)" in text
        assert "got choose_option (option 3)" in text
        assert "accuracy 50.0% is below 98%" in text
        assert "t.jsonl                    2      1     50.0%" in text
        report = scores.as_json()
        assert report["misses"][0]["where"] == "t.jsonl:2"
        assert report["per_file"] == {"t.jsonl": {"replies": 2, "right": 1}}


class TestCommand:
    def write(self, tmp_path: Path, *lines: str) -> Path:
        path = tmp_path / "replies.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def test_all_right_exits_0_and_prints_the_accuracy(self, tmp_path: Path) -> None:
        path = self.write(
            tmp_path,
            line("1", "offer", "choose_option", option=1),
            line("STOP", "offer", "opt_out"),
        )
        result = CliRunner().invoke(main, ["eval", "replies", str(path), "--min-accuracy", "100"])
        assert result.exit_code == 0, result.output
        assert "accuracy: 100.0% (2/2)" in result.output

    def test_below_the_minimum_exits_1(self, tmp_path: Path) -> None:
        path = self.write(tmp_path, line("1", "offer", "choose_option", option=2))
        result = CliRunner().invoke(main, ["eval", "replies", str(path), "--json"])
        assert result.exit_code == 1
        report = json.loads(result.output)
        assert (report["accuracy"], report["passed"]) == (0.0, False)
        assert report["confusion"] == []  # the intent was right, the option was not
        assert report["misses"][0]["detail"] == "option 1"

    def test_a_malformed_line_is_one_error_naming_file_and_line(self, tmp_path: Path) -> None:
        path = self.write(
            tmp_path, line("1", "offer", "choose_option", option=1), '{"text": "2", "locale": "en"'
        )
        result = CliRunner().invoke(main, ["eval", "replies", str(path)])
        assert result.exit_code == 1
        assert result.output.strip() == "Error: replies.jsonl:2: not JSON (Expecting ',' delimiter)"

    def test_a_missing_file_is_named(self, tmp_path: Path) -> None:
        result = CliRunner().invoke(main, ["eval", "replies", str(tmp_path / "nope.jsonl")])
        assert result.exit_code == 1
        assert "nope.jsonl: cannot read" in result.output
