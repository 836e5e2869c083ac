"""The booking conversation: understand a reply, move the outreach along, answer.

Entry points (each takes the session and ``now`` and never commits): :func:`handle_sms`,
:func:`start_offer`, :func:`start_followup`, :func:`voice_turn`, :func:`call_unanswered`,
:func:`queue_sms`; the scheduler runs :func:`close_stale`.
"""

from outreach.conversation.engine import (
    Reply,
    handle_sms,
    is_followup,
    queue_sms,
    start_followup,
    start_offer,
)
from outreach.conversation.stale import close_stale
from outreach.conversation.understand import Intent, understand
from outreach.conversation.voice import VoiceTurn, call_unanswered, voice_turn

__all__ = [
    "Intent",
    "Reply",
    "VoiceTurn",
    "call_unanswered",
    "close_stale",
    "handle_sms",
    "is_followup",
    "queue_sms",
    "start_followup",
    "start_offer",
    "understand",
    "voice_turn",
]
