"""Per-request helpers: the database session, the clock, the settings, the signed-in user."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import current_app, g
from sqlalchemy.orm import Session, sessionmaker

from outreach.models import User
from outreach.settings import Settings

SESSIONS_KEY = "outreach.sessions"
CLOCK_KEY = "outreach.clock"  # tests put a fixed clock here


def db() -> Session:
    """This request's session, opened on first use; views commit, teardown closes."""
    if "desk_db" not in g:
        factory: sessionmaker[Session] = current_app.extensions[SESSIONS_KEY]
        g.desk_db = factory()
    return g.desk_db


def close_db(exc: BaseException | None = None) -> None:
    """Close the request's session; anything the view did not commit is rolled back."""
    session: Session | None = g.pop("desk_db", None)
    if session is not None:
        session.close()


def now() -> datetime:
    """The current instant (aware UTC), read at the edge so domain code can take it as input."""
    clock: Callable[[], datetime] = current_app.extensions.get(CLOCK_KEY, _utcnow)
    return clock()


def _utcnow() -> datetime:
    return datetime.now(UTC)


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def user() -> User:
    """The signed-in user (the blueprints' before_request guarantees there is one)."""
    return g.user
