"""Control characters in a signed request are removed at the boundary, never fatal (#13)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import Engine, select

from outreach.control_chars import CONTROL
from outreach.models import ContactAttempt, Customer
from tests.webhooks.conftest import PHONE, TwilioPoster, make_app
from webhooks.handlers import conversation_handlers

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture
def real_app(settings, committing_engine: Engine) -> Iterator[Flask]:
    """The app with the real conversation behind /twilio/sms."""
    app = make_app(settings, committing_engine, HANDLERS=conversation_handlers())
    yield app
    app.extensions["outreach.engine"].dispose()


@pytest.fixture
def real_twilio(real_app: Flask, settings) -> TwilioPoster:
    return TwilioPoster(real_app.test_client(), settings.sandbox_auth_token)


@pytest.mark.parametrize("committing_engine", BACKENDS, indirect=True)
@pytest.mark.parametrize(
    "body", ["STOP\x00", "\x00STOP", "ST\x07OP\x1b", "退订\x00\x7f", "STOP\x85"]
)
def test_stop_with_control_characters_opts_out(real_twilio, db, customer, body):
    """ "STOP\\x00" failed on PostgreSQL (NUL in text) and the opt-out was lost: the control
    characters are removed before the conversation sees the text, and the opt-out is kept."""
    response = real_twilio.sms(body)
    assert response.status_code == 200
    db.expire_all()
    assert db.get(Customer, customer.id).opted_out_at is not None  # type: ignore[union-attr]
    stored = db.scalars(select(ContactAttempt.body).where(ContactAttempt.direction == "in")).all()
    assert stored and not any(CONTROL.search(text or "") for text in stored)


@pytest.mark.parametrize("committing_engine", BACKENDS, indirect=True)
def test_control_characters_in_other_fields_are_not_fatal(twilio, db, customer):
    """A NUL in any field (here the To number and an extra field) neither crashes nor is stored."""
    data = {
        "MessageSid": "SM" + "a" * 32,
        "From": PHONE,
        "To": "+1500\x005550006",
        "Body": "好\x00的",
        "Extra\x00": "\x00",
    }
    assert twilio.post("/twilio/sms", data).status_code == 200
    bodies = db.scalars(select(ContactAttempt.body)).all()
    assert bodies == ["好的"]


def test_tabs_and_line_breaks_are_kept(twilio, db, customer):
    """Ordinary whitespace is text, not a control character to remove."""
    assert twilio.sms("周三\n上午\t10点\r\n").status_code == 200
    assert db.scalars(select(ContactAttempt.body)).all() == ["周三\n上午\t10点\r\n"]
