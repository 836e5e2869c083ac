"""The advisors' desk: callback queue, appointment board, campaign results, JSON API, simulator.

The webhooks app factory calls :func:`register`; the desk expects ``app.config["SETTINGS"]`` and
a sessionmaker in ``app.extensions["outreach.sessions"]``.
"""

from __future__ import annotations

from flask import Flask, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect

from desk import api, auth, board, i18n, queue, simulator, stats
from desk.context import close_db

BLUEPRINTS = (auth.bp, queue.bp, board.bp, stats.bp, api.bp, simulator.bp)
# Blueprints with their own request authentication: Twilio signs its webhooks.
CSRF_EXEMPT_BLUEPRINTS = frozenset({"twilio"})


def register(app: Flask) -> None:
    """Add the desk's blueprints, cookie settings, CSRF protection and translations to ``app``."""
    settings = app.config["SETTINGS"]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.secret_key
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
    )
    # A desk tab stays open all day: tie the CSRF token to the session, not to an hour.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    _protect_forms(app)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
    app.teardown_appcontext(close_db)
    app.context_processor(i18n.template_context)
    if not any(rule.rule == "/" for rule in app.url_map.iter_rules()):
        app.add_url_rule("/", "desk_home", _home)


def _protect_forms(app: Flask) -> None:
    # CSRFProtect's own hook exempts blueprints by object; the Twilio blueprint may be
    # registered before or after this call, so exempt it by name in a hook of our own.
    csrf = app.extensions.get("csrf") or CSRFProtect(app)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False

    @app.before_request
    def csrf_protect() -> None:
        if not app.config.get("WTF_CSRF_ENABLED", True):
            return
        if (request.blueprint or "").split(".")[-1] in CSRF_EXEMPT_BLUEPRINTS:
            return
        csrf.protect(apply_exemptions=True)


def _home() -> ResponseReturnValue:
    return redirect(url_for("queue.index"))
