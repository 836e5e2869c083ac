"""The webhooks app on a committing database, fake conversation handlers, a signing client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from outreach.db import make_sessionmaker
from outreach.models import ContactAttempt, Customer
from outreach.sandbox import SANDBOX_ACCOUNT_SID
from outreach.settings import Settings
from webhooks import create_app
from webhooks.handlers import Handlers

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
BASE = "https://hooks.example.com"
PHONE = "+8613912345678"
OUR_NUMBER = "+15005550006"


@dataclass
class Reply:
    text: str | None
    handoff: bool = False


@dataclass
class Turn:
    say: str
    language: str = "cmn-CN"
    voice: str = "Polly.Zhiyu"
    speech_language: str = "cmn-Hans-CN"
    gather: bool = True
    hangup: bool = False
    next_step: str = "offer"


def _customer(session: Session, phone: str) -> Customer:
    return session.scalars(select(Customer).where(Customer.phone == phone)).one()


def fake_handle_sms(session, settings, *, from_phone, body, message_sid, now):  # type: ignore[no-untyped-def]
    """Records the inbound message (the effect tests count) and echoes it."""
    if body == "boom":
        raise RuntimeError("the conversation broke")
    customer = _customer(session, from_phone)
    session.add(
        ContactAttempt(
            customer_id=customer.id, at=now, channel="sms", direction="in", kind="reply",
            body=body, provider_sid=message_sid,
        )
    )  # fmt: skip
    return Reply(f"收到：{body}")


def fake_voice_turn(session, settings, *, call_sid, to_or_from_phone, digits, speech, step, now):  # type: ignore[no-untyped-def]
    customer = _customer(session, to_or_from_phone)
    session.add(
        ContactAttempt(
            customer_id=customer.id, at=now, channel="voice", direction="in", kind=step,
            body=f"{digits}|{speech}", provider_sid=call_sid,
        )
    )  # fmt: skip
    if digits == "9":
        raise RuntimeError("the voice turn broke")
    if digits == "1":
        return Turn("预约成功，再见。", gather=False, hangup=True, next_step="end")
    return Turn("请按1确认。", next_step=f"after-{step}")


FAKE_HANDLERS = Handlers(handle_sms=fake_handle_sms, voice_turn=fake_voice_turn)


def database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def make_app(settings: Settings, engine: Engine, **config: Any) -> Flask:
    settings = replace(settings, database_url=database_url(engine), public_base_url=BASE)
    test_config = {
        "TESTING": True,
        "HANDLERS": FAKE_HANDLERS,
        "CLOCK": lambda: NOW,
        "SECRET_KEY": "webhook-tests-secret-key-not-the-default",  # https BASE needs a real key
        **config,
    }
    return create_app(settings, test_config=test_config)


@pytest.fixture
def app(settings: Settings, committing_engine: Engine) -> Iterator[Flask]:
    app = make_app(settings, committing_engine)
    yield app
    app.extensions["outreach.engine"].dispose()


@pytest.fixture
def db(committing_engine: Engine) -> Iterator[Session]:
    """A session for arranging and checking data; commit to make it visible to requests."""
    with make_sessionmaker(committing_engine)() as s:
        yield s


@pytest.fixture
def customer(db: Session) -> Customer:
    row = Customer(external_id="C1", name="李雷", phone=PHONE, consent=True)
    db.add(row)
    db.commit()
    return row


def new_sid(prefix: str = "SM") -> str:
    return prefix + uuid.uuid4().hex


class TwilioPoster:
    """Posts form requests signed the way Twilio signs them (RequestValidator)."""

    def __init__(self, client: FlaskClient, token: str, account: str = SANDBOX_ACCOUNT_SID) -> None:
        self.client = client
        self.token = token
        self.account = account

    def sign(self, path: str, data: dict[str, str]) -> str:
        return RequestValidator(self.token).compute_signature(f"{BASE}{path}", data)

    def post(self, path: str, data: dict[str, str], *, signature: str | None = None, **kw: Any):  # type: ignore[no-untyped-def]
        data = {"AccountSid": self.account, **data}
        headers = {"X-Twilio-Signature": self.sign(path, data) if signature is None else signature}
        return self.client.post(path, data=data, headers=headers, **kw)

    def sms(self, body: str, *, sid: str | None = None, sender: str = PHONE):  # type: ignore[no-untyped-def]
        data = {"MessageSid": sid or new_sid(), "From": sender, "To": OUR_NUMBER, "Body": body}
        return self.post("/twilio/sms", data)


@pytest.fixture
def twilio(app: Flask, settings: Settings) -> TwilioPoster:
    return TwilioPoster(app.test_client(), settings.sandbox_auth_token)
