"""Per-request helpers of the web app (the desk's pages and Twilio's webhooks alike): the
database sessions, the clock, the settings, the signed-in user.

The app factory calls :func:`install` once; every view reads the same sessionmaker and clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, current_app, g
from sqlalchemy.orm import Session, sessionmaker

from outreach.models import User
from outreach.settings import Settings

SESSIONS_KEY = "outreach.sessions"
CLOCK_KEY = "outreach.clock"  # tests put a fixed clock here

Clock = Callable[[], datetime]


def install(app: Flask, sessions: sessionmaker[Session], clock: Clock | None = None) -> None:
    """Give ``app`` its one sessionmaker and, for tests, a fixed clock."""
    app.extensions[SESSIONS_KEY] = sessions
    if clock is not None:
        app.extensions[CLOCK_KEY] = clock


def sessions() -> sessionmaker[Session]:
    """The app's sessionmaker: a view that owns its transactions opens its own session."""
    return current_app.extensions[SESSIONS_KEY]


def db() -> Session:
    """This request's session, opened on first use; views commit, teardown closes."""
    if "desk_db" not in g:
        g.desk_db = sessions()()
    return g.desk_db


def close_db(exc: BaseException | None = None) -> None:
    """Close the request's session; anything the view did not commit is rolled back."""
    session: Session | None = g.pop("desk_db", None)
    if session is not None:
        session.close()


def now() -> datetime:
    """The current instant (aware UTC), read at the edge so domain code can take it as input."""
    clock: Clock = current_app.extensions.get(CLOCK_KEY, _utcnow)
    return clock()


def _utcnow() -> datetime:
    return datetime.now(UTC)


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def user() -> User:
    """The signed-in user (the blueprints' before_request guarantees there is one)."""
    return g.user
