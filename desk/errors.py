"""The web app's error boundary: a known failure is a page in the reader's language saying what
to do, never Werkzeug's English "500 Internal Server Error" or a traceback.

A database that cannot be reached (down, restarting, a wrong URL) answers 503 with a
``Retry-After``; the next request after it is back works again, as every request opens its own
session.  Anything else unexpected is logged and answered with a localised 500 page.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from desk.i18n import t
from outreach.db import DatabaseUnavailable, is_disconnect

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 60


def register(app: Flask) -> None:
    """Install the handlers on the whole app (the desk's pages and Twilio's webhooks)."""
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(DatabaseUnavailable, _database_down)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(InternalServerError, _internal_error)
    app.register_error_handler(HTTPException, _http_error)


# A refused request on a desk page (a stale form's CSRF token, a page that does not exist …):
# the same status, told in the reader's language.
HTTP_MESSAGES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "bad_request"}


def _http_error(exc: HTTPException) -> Response | HTTPException:
    if request.blueprint in ("twilio", "api") or exc.code is None or exc.code >= 500:
        return exc
    key = HTTP_MESSAGES.get(exc.code, "bad_request")
    return _page(t(f"{key}_title"), t(f"{key}_body"), exc.code)


def _page(title: str, body: str, status: int) -> Response:
    # Twilio and API clients read the status; a person reads the page.
    if request.blueprint in ("twilio", "api"):
        response = Response(f"{title}\n", status=status, mimetype="text/plain")
    else:
        response = Response(
            render_template("desk/error.html", title=title, body=body), status=status
        )
    return response


def _database_down(exc: OperationalError | DatabaseUnavailable) -> Response:
    orig = getattr(exc, "orig", None)
    log.error("database unreachable: %s", orig if orig is not None else exc)
    response = _page(t("db_down_title"), t("db_down_body"), 503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _database_error(exc: DBAPIError) -> Response:
    if is_disconnect(exc):
        return _database_down(OperationalError(exc.statement, exc.params, exc))
    return _internal_error(exc)


def _internal_error(exc: BaseException) -> Response:
    original = getattr(exc, "original_exception", None) or exc
    log.error("unexpected error on %s %s", request.method, request.path, exc_info=original)
    return _page(t("error_title"), t("error_body"), 500)
