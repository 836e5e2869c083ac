"""TwiML answers, built with the SDK's MessagingResponse / VoiceResponse (never by hand)."""

from __future__ import annotations

from typing import Any

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from outreach import paths
from outreach.conversation.voice import VOICES


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
        action = paths.url(base_url, paths.VOICE_GATHER, step=turn.next_step)
        gather = response.gather(
            input="dtmf speech",
            language=turn.speech_language,
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
    voice = VOICES.get(locale, VOICES["zh-CN"])
    response = VoiceResponse()
    response.say(text, voice=voice.voice, language=voice.say_language)
    response.hangup()
    return str(response)


def hang_up() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)
