"""A pooled connection the database server dropped costs one retry, never a customer's answer.

The engine pings a pooled connection only when it sat idle for a while (see
``outreach.db.make_engine``); these tests kill the server side of a pooled connection and check
that the next request still gets the bot's own answer, with its effect recorded once, and that
a connection dropped while idle is replaced before use.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, create_engine, event, func, select, text

import outreach.db
from outreach.capacity import book, run_with_retries
from outreach.db import make_engine, make_sessionmaker
from outreach.models import Appointment, CallbackRequest, ContactAttempt, WebhookEvent
from tests.capacity.conftest import NOW, capacity_settings, local
from tests.webhooks.conftest import TwilioPoster, make_app
from tests.webhooks.test_sms import message_text

pytestmark = pytest.mark.postgres


def kill_pooled_connection(engine: Engine, killer: Engine) -> None:
    """Terminate, on the server, the one connection ``engine`` keeps in its pool."""
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert engine.pool.checkedin() == 1  # type: ignore[attr-defined]
    with killer.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()


@pytest.mark.parametrize("committing_engine", ["postgresql"], indirect=True)
def test_sms_after_the_server_dropped_the_connection_gets_the_real_answer(
    settings, committing_engine, db, customer
):
    app = make_app(settings, committing_engine)
    engine = app.extensions["outreach.engine"]
    try:
        twilio = TwilioPoster(app.test_client(), settings.sandbox_auth_token)
        assert twilio.sms("第一条").status_code == 200
        kill_pooled_connection(engine, committing_engine)
        response = twilio.sms("明天上午")
    finally:
        engine.dispose()
    assert response.status_code == 200
    assert message_text(response) == "收到：明天上午"
    assert db.scalar(select(func.count()).select_from(CallbackRequest)) == 0
    assert db.scalar(select(func.count()).where(ContactAttempt.direction == "in")) == 2
    assert db.scalar(select(func.count()).select_from(WebhookEvent)) == 2


@pytest.mark.parametrize("committing_engine", ["postgresql"], indirect=True)
def test_booking_after_the_server_dropped_the_connection_is_retried(
    settings, committing_engine, db, customer
):
    engine = create_engine(committing_engine.url, pool_size=1, max_overflow=0)
    sessions = make_sessionmaker(engine)
    try:
        with engine.connect() as conn:  # open the pool's one connection
            conn.execute(text("SELECT 1"))
        kill_pooled_connection(engine, committing_engine)
        appointment_id = run_with_retries(
            sessions,
            lambda s: book(
                s, capacity_settings(settings), customer_id=customer.id, vehicle_id=None,
                jobs=["small"], starts_at=local("2026-06-01", "10:00"), now=NOW,
            ).id,
        )  # fmt: skip
    finally:
        engine.dispose()
    assert db.get(Appointment, appointment_id).status == "booked"


@pytest.mark.parametrize("committing_engine", ["postgresql"], indirect=True)
def test_a_connection_dropped_while_idle_is_replaced_before_use(committing_engine, monkeypatch):
    url = committing_engine.url.render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    opened: list[object] = []
    event.listen(engine, "connect", lambda dbapi_connection, _: opened.append(dbapi_connection))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        monkeypatch.setattr(outreach.db, "PING_AFTER_IDLE_S", 0.0)  # every checkout is "idle"
        kill_pooled_connection(engine, committing_engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
    assert len(opened) == 2  # the dead one was replaced at checkout, not found by the query


@pytest.mark.parametrize("committing_engine", ["postgresql"], indirect=True)
def test_a_connection_back_in_the_pool_a_moment_ago_is_not_pinged(committing_engine, monkeypatch):
    url = committing_engine.url.render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    pings: list[object] = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or ping(c))
    try:
        for _ in range(3):
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        assert pings == []  # a busy process pays no round trip per checkout
        monkeypatch.setattr(outreach.db, "PING_AFTER_IDLE_S", -1.0)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert len(pings) == 1
    finally:
        engine.dispose()
