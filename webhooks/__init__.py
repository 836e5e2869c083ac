"""The web app: Twilio's webhooks (``/twilio/…``) and the advisors' desk.

Production: ``gunicorn -w 4 -b 127.0.0.1:8000 'webhooks:create_app()'`` behind a TLS proxy, with
``PUBLIC_BASE_URL`` set to the address Twilio calls (signatures are checked against it).
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

import desk
from desk.context import install
from outreach.db import make_engine, make_sessionmaker
from outreach.gateways import check_gateway
from outreach.settings import Settings, load_settings
from webhooks import providers, twilio
from webhooks.handlers import conversation_handlers

# Twilio's requests are a few kilobytes (an SMS body is at most 1600 characters).
MAX_CONTENT_LENGTH = 64 * 1024
ENGINE_KEY = "outreach.engine"


def create_app(
    settings: Settings | None = None, *, test_config: dict[str, Any] | None = None
) -> Flask:
    """Build the app from ``settings`` (default: the environment, via ``load_settings``).

    ``test_config`` may set Flask config keys and ``HANDLERS`` (the conversation entry points)
    or ``CLOCK`` (a callable returning the current instant).  Signature checks cannot be
    switched off.
    """
    settings = settings or load_settings(os.environ)
    check_gateway(settings)  # e.g. a registered SMS template that cannot be sent
    app = Flask(__name__)
    app.config.update(
        SETTINGS=settings, MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH, SECRET_KEY=settings.secret_key
    )
    config = dict(test_config or {})
    clock = config.pop("CLOCK", None)
    app.config.update(config)
    if app.config.get("HANDLERS") is None:
        app.config["HANDLERS"] = conversation_handlers()
    # One engine and sessionmaker per process; each request opens its own session.
    engine = make_engine(settings.database_url)
    app.extensions[ENGINE_KEY] = engine
    install(app, make_sessionmaker(engine), clock)
    app.register_blueprint(twilio.bp)
    app.register_blueprint(providers.bp)
    desk.register(app)
    return app
