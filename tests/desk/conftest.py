"""A small app factory wired like the webhooks app, a fixed clock, and a signed-in client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import desk
from outreach.accounts import add_user
from outreach.db import make_sessionmaker
from outreach.settings import Settings
from tests.factories import make_advisor

# Monday 10 March 2025, 10:00 in Shanghai.
NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def create_test_app(settings: Settings, engine: Engine | None = None) -> Flask:
    """The settings/session wiring of ``webhooks.create_app``, with only the desk registered."""
    app = Flask("desk_test")
    app.config.update(
        SETTINGS=settings, TESTING=True, SECRET_KEY="test-secret-key-for-the-desk-tests"
    )
    if engine is not None:
        app.extensions["outreach.sessions"] = make_sessionmaker(engine)
    app.extensions["outreach.clock"] = lambda: NOW
    desk.register(app)
    return app


@pytest.fixture
def app(settings: Settings, committing_engine: Engine) -> Flask:
    return create_test_app(settings, committing_engine)


@pytest.fixture
def db(committing_engine: Engine) -> Iterator[Session]:
    """A session for arranging and checking data; commit to make it visible to requests."""
    with make_sessionmaker(committing_engine)() as s:
        yield s


@pytest.fixture
def advisor_user(db: Session):
    advisor = make_advisor(db, code="WF", name="王芳")
    user = add_user(db, "wang", PASSWORD, role="advisor", advisor_code=advisor.code)
    db.commit()
    return user


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Desk:
    """Sign in and post forms with their CSRF token, as a browser would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def token(self, path: str = "/login") -> str:
        match = _CSRF.search(self.client.get(path).get_data(as_text=True))
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, username: str = "wang", password: str = PASSWORD):
        return self.client.post(
            "/login", data={"username": username, "password": password, "csrf_token": self.token()}
        )

    def post(self, path: str, data: dict[str, str] | None = None, **kwargs):
        return self.client.post(path, data={**(data or {}), "csrf_token": self.token()}, **kwargs)


@pytest.fixture
def desk_client(client: FlaskClient, advisor_user) -> Desk:
    """A client signed in as advisor ``wang``."""
    d = Desk(client)
    assert d.login().status_code == 302
    return d


def make_callback(db: Session, customer, **overrides):
    """An open callback-queue entry for ``customer``, created an hour before NOW."""
    from datetime import timedelta

    from outreach.models import CallbackRequest

    values = {
        "customer_id": customer.id,
        "reason": "call_me",
        "priority": 50,
        "detail": "客户想周六上午来",
        "created_at": NOW - timedelta(hours=1),
    }
    values.update(overrides)
    callback = CallbackRequest(**values)
    db.add(callback)
    db.flush()
    return callback
