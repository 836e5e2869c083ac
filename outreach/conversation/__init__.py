"""The booking conversation: understand a reply, move the outreach along, answer.

Entry points (each takes the session and ``now`` and never commits): :func:`handle_sms`,
:func:`start_offer`, :func:`voice_turn`, :func:`call_unanswered`, :func:`queue_sms`.
"""

from outreach.conversation.engine import Reply, handle_sms, queue_sms, start_offer
from outreach.conversation.understand import Intent, understand
from outreach.conversation.voice import VoiceTurn, call_unanswered, voice_turn

__all__ = [
    "Intent",
    "Reply",
    "VoiceTurn",
    "call_unanswered",
    "handle_sms",
    "queue_sms",
    "start_offer",
    "understand",
    "voice_turn",
]
