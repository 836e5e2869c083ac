"""TwiML answers, built with the SDK's MessagingResponse / VoiceResponse (never by hand)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

GATHER_PATH = "/twilio/voice/gather"
# The Polly voice for each language: a wrong voice/language pair makes <Say> fail.
VOICES = {"zh-CN": ("cmn-CN", "Polly.Zhiyu"), "en": ("en-US", "Polly.Joanna")}


def sms(text: str | None) -> str:
    """A reply message, or an empty response when there is nothing to say."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)


def voice(turn: Any, base_url: str) -> str:
    """One voice turn: say the text, then gather keypad and speech, or hang up."""
    response = VoiceResponse()
    say = {"voice": turn.voice, "language": turn.language}
    if turn.gather:
        action = f"{base_url}{GATHER_PATH}?{urlencode({'step': turn.next_step})}"
        gather = response.gather(
            input="dtmf speech",
            language=turn.language,
            action=action,
            method="POST",
            action_on_empty_result=True,
        )
        gather.say(turn.say, **say)
    else:
        response.say(turn.say, **say)
    if turn.hangup or not turn.gather:
        response.hangup()
    return str(response)


def voice_fallback(text: str, locale: str) -> str:
    """Apologise on the call and hang up."""
    language, polly = VOICES.get(locale, VOICES["zh-CN"])
    response = VoiceResponse()
    response.say(text, voice=polly, language=language)
    response.hangup()
    return str(response)


def hang_up() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)
