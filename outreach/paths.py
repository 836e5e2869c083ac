"""The webhook paths Twilio calls, defined once for the senders and the Flask routes.

The outbox and the Twilio gateway build callback URLs from these (``PUBLIC_BASE_URL`` +
path); the webhook blueprint routes exactly these paths, so a URL we hand Twilio is always
one the app serves (``tests/outbox/test_paths.py`` posts to each).
"""

from __future__ import annotations

from urllib.parse import urlencode

PREFIX = "/twilio"
SMS = f"{PREFIX}/sms"  # inbound SMS
VOICE = f"{PREFIX}/voice"  # a call was answered (inbound, or our outbound call)
VOICE_GATHER = f"{PREFIX}/voice/gather"  # the keypad/speech result of a <Gather>
MESSAGE_STATUS = f"{PREFIX}/message-status"  # StatusCallback of every message
CALL_STATUS = f"{PREFIX}/call-status"  # StatusCallback of every call

# The query field of an outbound call's answer URL naming the outbox row that placed it.
OUTBOX_FIELD = "outbox"


def route(path: str) -> str:
    """``path`` relative to the ``/twilio`` blueprint prefix."""
    return path.removeprefix(PREFIX)


def url(base_url: str, path: str, **query: object) -> str:
    """The public URL of ``path`` (Twilio signs exactly this, query string included)."""
    tail = f"?{urlencode(query)}" if query else ""
    return f"{base_url.rstrip('/')}{path}{tail}"
