"""The typed conversation state: JSON round trip, unknown keys refused, one way to close."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from outreach.conversation.state import ContextError, ConversationState, State, close
from outreach.models import Outreach

NOW = datetime(2026, 6, 2, 2, 0, tzinfo=UTC)


def test_round_trip_keeps_every_field_and_foreign_keys() -> None:
    """What is stored is read back the same; the offer's wording other modules keep stays."""
    raw = {
        "slots": [{"starts_at": "2026-06-03T01:00:00+00:00"}], "jobs": ["maintenance"],
        "misses": 1, "technician": "", "faults": ["刹车异响"], "offer_text": "您好…",
    }  # fmt: skip
    state = ConversationState.from_json(raw)
    assert state.technician == "" and state.foreign == {"offer_text": "您好…"}
    assert state.to_json() == raw


def test_fresh_state_stores_nothing() -> None:
    """A new conversation's context is empty JSON."""
    assert ConversationState().to_json() == {}


def test_an_unknown_key_is_refused_with_its_name() -> None:
    """A typo in a context key is an error naming the key, not a silent new field."""
    with pytest.raises(ContextError, match="'slot'"):
        ConversationState.from_json({"slot": []})


def _open() -> Outreach:
    return Outreach(status="open", state=State.OFFERED.value, context={})


def test_close_sets_status_state_time_and_outcome_together() -> None:
    """Closing sets the status, the matching state, when and the outcome in one place."""
    outreach = _open()
    close(outreach, status="declined", outcome="declined by the customer", now=NOW)
    assert (outreach.status, outreach.state, outreach.closed_at, outreach.outcome) == (
        "declined", "declined", NOW, "declined by the customer",
    )  # fmt: skip


def test_a_closed_conversation_keeps_its_first_ending() -> None:
    """Closing twice keeps the first ending (a handoff after a booking does not undo it)."""
    outreach = _open()
    close(outreach, status="booked", outcome="booked appointment 7", now=NOW)
    close(outreach, status="handed_off", outcome="handed to an advisor: complaint", now=NOW)
    assert (outreach.status, outreach.outcome) == ("booked", "booked appointment 7")
