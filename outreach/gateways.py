"""The gateway factory: which provider the configuration chose, built from settings.

It lives beside the implementations (not in the interface module ``gateway.py``) so that the
interface imports none of them and no import cycle runs through it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from outreach.aliyun_sms import AliyunGateway
from outreach.db import make_engine, make_sessionmaker
from outreach.gateway import Gateway
from outreach.sandbox import SandboxGateway
from outreach.settings import ConfigError, Settings
from outreach.twilio_gateway import TwilioGateway


def make_gateway(
    settings: Settings, sessions: sessionmaker[Session] | Session | None = None
) -> Gateway:
    """The configured gateway: ``[gateway] sms``, else Twilio when credentials are set, else
    the recording sandbox.

    With Aliyun for SMS, calls go to Twilio (``[gateway] voice = "twilio"`` with its
    credentials) or are refused with the reason (``voice = "off"``).  ``sessions`` is where the
    sandbox records (a sessionmaker, or a session whose transaction the caller commits);
    without one, a sessionmaker is made from ``settings.database_url``.
    """
    choice = settings.gateway
    if choice == "aliyun":
        twilio_voice = settings.gateway_choice.voice == "twilio" and settings.twilio is not None
        return AliyunGateway(settings, voice=TwilioGateway(settings) if twilio_voice else None)
    if choice == "twilio":
        if settings.twilio is None:
            raise ConfigError(
                '[gateway] sms = "twilio" needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN'
            )
        return TwilioGateway(settings)
    if sessions is None:
        sessions = make_sessionmaker(make_engine(settings.database_url))
    return SandboxGateway(sessions)


def check_gateway(settings: Settings) -> None:
    """Refuse at start-up, with a :class:`ConfigError` naming what and why, a gateway that
    could not send: for Aliyun, every registered script must read as a template."""
    if settings.gateway == "aliyun":
        AliyunGateway(settings)
    elif settings.gateway == "twilio" and settings.twilio is None:
        raise ConfigError('[gateway] sms = "twilio" needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN')
