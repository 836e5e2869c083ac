"""Sign-in, sign-out, the language switch, and the guard every other desk blueprint uses."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from desk.context import db, now
from desk.i18n import LANGUAGES, t
from outreach.accounts import SignInLocked, authenticate, user_for_token
from outreach.models import User

bp = Blueprint(
    "auth",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/desk-static",
)

DESK_BLUEPRINTS = frozenset({"auth", "queue", "board", "stats", "api", "simulator"})


@bp.before_app_request
def load_user() -> None:
    """Put the signed-in user (session cookie, or a bearer token on /api) on ``g.user``."""
    g.user = None
    if request.blueprint not in DESK_BLUEPRINTS:
        return  # Twilio webhooks and the rest of the app never touch desk accounts
    header = request.headers.get("Authorization", "")
    if request.blueprint == "api" and header.startswith("Bearer "):
        g.user = user_for_token(db(), header.removeprefix("Bearer ").strip(), now=now())
        return
    user_id = session.get("user_id")
    if user_id is not None:
        found = db().get(User, user_id)
        g.user = found if found is not None and found.active else None


def require_user() -> ResponseReturnValue | None:
    """A blueprint ``before_request``: anonymous pages go to sign-in, the API answers 401."""
    if g.get("user") is not None:
        return None
    if request.blueprint == "api":
        response = jsonify(error="authentication required")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="outreach"'
        return response
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the queue (no open redirect, no bad header).

    Browsers drop tabs and line breaks from a URL and read ``\\`` as ``/``, so ``/\t/evil.example``
    would leave the site: any control, space or backslash character refuses the target outright.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not any(c.isspace() or ord(c) < 32 or c in "\\\x7f" for c in target)
    ):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("queue.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Show the sign-in form; on a good password start a fresh session."""
    if request.method == "POST":
        try:
            user = authenticate(
                db(),
                request.form.get("username", ""),
                request.form.get("password", ""),
                address=request.remote_addr or "",
                now=now(),
            )
        except SignInLocked:
            flash(t("sign_in_locked"), "error")
            return render_template("auth/login.html"), 429
        db().commit()  # the failure count, or its reset
        if user is None:
            flash(t("bad_login"), "error")
            return render_template("auth/login.html"), 401
        lang = session.get("lang")
        session.clear()  # a new session on sign-in: nothing from before carries over
        session["user_id"] = user.id
        if lang:
            session["lang"] = lang
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html")


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """End the session."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(t("signed_out"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>")
def set_language(code: str) -> ResponseReturnValue:
    """Switch the desk's language and go back to the page the switch was on."""
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")))
