"""The advisors' desk: callback queue, appointment board, campaign results, JSON API, simulator.

The webhooks app factory calls :func:`register`; the desk expects ``app.config["SETTINGS"]`` and
a sessionmaker in ``app.extensions["outreach.sessions"]``.
"""

from __future__ import annotations

from flask import Flask, Response, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect

from desk import api, auth, board, errors, i18n, queue, simulator, stats
from desk.context import close_db
from outreach.settings import ConfigError, Settings

BLUEPRINTS = (auth.bp, queue.bp, board.bp, stats.bp, api.bp, simulator.bp)
# Blueprints with their own request authentication: Twilio signs its webhooks.
CSRF_EXEMPT_BLUEPRINTS = frozenset({"twilio", "providers"})  # signed or path-secret pushes


# Scripts and styles come only from /desk-static: an injected <script> or onclick= does not run.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
MIN_SECRET_KEY_LENGTH = 24


def register(app: Flask) -> None:
    """Add the desk's blueprints, cookie settings, CSRF protection and translations to ``app``."""
    settings = app.config["SETTINGS"]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.secret_key
    _check_secret_key(settings, str(app.config["SECRET_KEY"]))
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
    app.after_request(_security_headers)
    app.context_processor(i18n.template_context)
    errors.register(app)
    if not any(rule.rule == "/" for rule in app.url_map.iter_rules()):
        app.add_url_rule("/", "desk_home", _home)


def _check_secret_key(settings: Settings, key: str) -> None:
    """Refuse to serve the public development key (or a short one) where anyone can reach us.

    Session cookies are signed with the key; with the default one anyone could forge a signed-in
    advisor.  Twilio credentials or an https base URL mean the app is reachable from outside.
    """
    public = settings.twilio is not None or settings.public_base_url.startswith("https://")
    if public and (key == Settings.secret_key or len(key) < MIN_SECRET_KEY_LENGTH):
        raise ConfigError(
            "OUTREACH_SECRET_KEY must be set to a long random value (at least "
            f"{MIN_SECRET_KEY_LENGTH} characters, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`) "
            "before the desk is served with Twilio credentials or an https PUBLIC_BASE_URL"
        )


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


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
