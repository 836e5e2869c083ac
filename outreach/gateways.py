"""The gateway factory: which provider the configuration chose, built from settings.

It lives beside the implementations (not in the interface module ``gateway.py``) so that the
interface imports none of them and no import cycle runs through it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from outreach.db import make_engine, make_sessionmaker
from outreach.gateway import Gateway
from outreach.sandbox import SandboxGateway
from outreach.settings import Settings
from outreach.twilio_gateway import TwilioGateway


def make_gateway(
    settings: Settings, sessions: sessionmaker[Session] | Session | None = None
) -> Gateway:
    """The configured gateway: Twilio when credentials are set, else the recording sandbox.

    ``sessions`` is where the sandbox records (a sessionmaker, or a session whose transaction
    the caller commits); without one, a sessionmaker is made from ``settings.database_url``.
    """
    if settings.twilio is not None:
        return TwilioGateway(settings)
    if sessions is None:
        sessions = make_sessionmaker(make_engine(settings.database_url))
    return SandboxGateway(sessions)
