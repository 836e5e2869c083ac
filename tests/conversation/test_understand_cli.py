"""``outreach understand``: the normalised text, the slots, the intent and the deciding rule."""

from __future__ import annotations

import json

from click.testing import CliRunner

from outreach.cli import App, main


def _run(*args: str) -> dict:
    result = CliRunner().invoke(main, ["understand", *args], obj=App({}))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_prints_the_option_and_the_rule() -> None:
    """A number among fillers, with slots on offer, is that option; the rule says so."""
    out = _run("行吧，那就2", "--state", "offer")
    assert (out["intent"], out["option"], out["rule"]) == ("choose_option", 2, "option")
    assert out["normalised"] == "行吧,那就2"


def test_state_changes_the_reading() -> None:
    """The same "1" confirms a booked visit and rates a visit after it."""
    assert _run("1", "--state", "booked")["intent"] == "confirm"
    assert _run("1", "--state", "followup")["rating"] == 1


def test_traditional_characters_and_control_characters_are_cleaned() -> None:
    """Traditional characters read as simplified; a NUL byte does not hide a STOP."""
    assert _run("預約保養")["normalised"] == "预约保养"
    assert _run("STOP\x00", "--state", "offer")["intent"] == "opt_out"


def test_bad_now_is_a_clear_error() -> None:
    """A --now that is not a date says so."""
    result = CliRunner().invoke(main, ["understand", "2", "--now", "tomorrow"], obj=App({}))
    assert result.exit_code != 0 and "--now" in result.output
