"""The one import point for the conversation: the functions the webhook views call.

``create_app(test_config={"HANDLERS": Handlers(...)})`` swaps them in tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from outreach.conversation import call_unanswered, handle_sms, voice_turn


@dataclass(frozen=True)
class Handlers:
    handle_sms: Callable[..., Any]
    voice_turn: Callable[..., Any]
    call_unanswered: Callable[..., Any] | None = None


def conversation_handlers() -> Handlers:
    """The booking conversation's entry points (``outreach.conversation``)."""
    return Handlers(handle_sms=handle_sms, voice_turn=voice_turn, call_unanswered=call_unanswered)
