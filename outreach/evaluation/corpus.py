"""The labelled-reply file format: one JSON object per line, checked before anything is played.

A line reads ``{"text": "行吧，那就2", "locale": "zh-CN", "state": "offer", "intent":
"choose_option", "option": 2}``; the README's "Evaluating the understanding" describes every key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# The contract of issue 12: the intents the understanding names, the states a conversation is in.
INTENTS = frozenset(
    {
        "choose_option", "propose_time", "confirm", "decline", "opt_out", "opt_in", "help",
        "call_me", "complaint", "reschedule", "cancel_appointment", "question", "mileage",
        "fault", "wrong_number", "thanks", "running_late", "book_request", "technician",
        "special_service", "rating", "add_work", "other_need", "unknown",
    }
)  # fmt: skip
STATES = ("none", "offer", "booked", "followup", "handoff")
LOCALES = ("zh-CN", "en")
CHANNELS = ("sms", "voice")
CALLERS = ("known", "unknown")
BECAUSE = ("none", "later", "serviced_elsewhere", "vehicle_sold")
_KEYS = {"text", "locale", "state", "intent", "channel", "caller", "option", "because", "rating"}
_KEYS_NOTE = _KEYS | {"note"}


class CorpusError(ValueError):
    """A line of a corpus file that is not a well-formed labelled reply (names file and line)."""


@dataclass(frozen=True)
class Reply:
    """One labelled reply: what the customer wrote, where, and what a good advisor says it meant."""

    text: str
    locale: str
    state: str
    intent: str
    where: str  # "file.jsonl:12", for reports
    channel: str = "sms"
    caller: str = "known"
    option: int | None = None
    because: str | None = None
    rating: int | None = None
    note: str | None = None


def parse_line(line: str, where: str) -> Reply:
    """One corpus line as a :class:`Reply`, or a :class:`CorpusError` saying what is wrong."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{where}: not JSON ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: expected a JSON object")
    unknown = sorted(set(raw) - _KEYS_NOTE)
    if unknown:
        raise CorpusError(f"{where}: unknown key {unknown[0]!r}")
    for key in ("text", "locale", "state", "intent"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise CorpusError(f"{where}: {key!r} must be a non-empty string")
    _one_of(raw, "locale", LOCALES, where)
    _one_of(raw, "state", STATES, where)
    _one_of(raw, "intent", sorted(INTENTS), where)
    _one_of(raw, "channel", CHANNELS, where, optional=True)
    _one_of(raw, "caller", CALLERS, where, optional=True)
    if raw.get("caller", "known") == "unknown" and raw["state"] != "none":
        raise CorpusError(f"{where}: an unknown caller has no conversation: state must be 'none'")
    intent = raw["intent"]
    option = _whole(raw, "option", 1, 3, where, owner="choose_option")
    rating = _whole(raw, "rating", 1, 5, where, owner="rating")
    _belongs(raw, "because", "decline", where)
    if intent == "decline":
        _one_of(raw, "because", BECAUSE, where)
    note = raw.get("note")
    if note is not None and not isinstance(note, str):
        raise CorpusError(f"{where}: 'note' must be a string")
    return Reply(
        text=raw["text"],
        locale=raw["locale"],
        state=raw["state"],
        intent=intent,
        where=where,
        channel=raw.get("channel", "sms"),
        caller=raw.get("caller", "known"),
        option=option,
        because=raw.get("because"),
        rating=rating,
        note=note,
    )


def load(paths: Iterable[Path]) -> list[Reply]:
    """Every reply of the files, in order; the first malformed line stops with a CorpusError."""
    replies: list[Reply] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CorpusError(f"{path}: cannot read ({exc})") from None
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                replies.append(parse_line(line, f"{path.name}:{number}"))
    return replies


def _one_of(
    raw: dict, key: str, allowed: Iterable[str], where: str, optional: bool = False
) -> None:
    if optional and key not in raw:
        return
    allowed = tuple(allowed)
    if raw.get(key) not in allowed:
        got = raw.get(key)
        raise CorpusError(f"{where}: {key} must be one of {', '.join(allowed)}, got {got!r}")


def _belongs(raw: dict, key: str, owner: str, where: str) -> None:
    """A slot is given with its own intent and only with it (a decline's because, a rating ...)."""
    if raw["intent"] == owner and key not in raw:
        raise CorpusError(f"{where}: intent {owner!r} needs {key!r}")
    if raw["intent"] != owner and key in raw:
        raise CorpusError(f"{where}: {key!r} belongs to intent {owner!r}, not {raw['intent']!r}")


def _whole(raw: dict, key: str, low: int, high: int, where: str, *, owner: str) -> int | None:
    _belongs(raw, key, owner, where)
    if key not in raw:
        return None
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CorpusError(f"{where}: {key} must be a whole number {low}..{high}, got {value!r}")
    return value
