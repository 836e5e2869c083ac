"""A whole call through the webhooks with the real conversation: answer, press 1, booked."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from outreach.models import Appointment, Customer
from outreach.settings import Settings
from tests.conversation.conftest import plan_outreach
from tests.factories import make_customer
from tests.webhooks.conftest import OUR_NUMBER, TwilioPoster, make_app, new_sid
from webhooks.handlers import conversation_handlers


@pytest.fixture
def real_app(settings: Settings, committing_engine: Engine) -> Iterator[Flask]:
    app = make_app(settings, committing_engine, HANDLERS=conversation_handlers())
    yield app
    app.extensions["outreach.engine"].dispose()


@pytest.fixture
def caller(db: Session) -> Customer:
    """A Chinese-speaking customer with a planned maintenance outreach."""
    customer = make_customer(db, name="李雷", locale="zh-CN")
    plan_outreach(db, customer)
    db.commit()
    return customer


class Call:
    """The customer's side of one call: answer, then reply to each Gather."""

    def __init__(self, twilio: TwilioPoster, customer: Customer) -> None:
        self.twilio = twilio
        self.sid = new_sid("CA")
        self.form = {"CallSid": self.sid, "From": OUR_NUMBER, "To": customer.phone,
                     "Direction": "outbound-api"}  # fmt: skip

    def answer(self) -> ElementTree.Element:
        return self._twiml(self.twilio.post("/twilio/voice", self.form))

    def press(self, root: ElementTree.Element, digits: str) -> ElementTree.Element:
        gather = root.find("Gather")
        assert gather is not None, "the call stopped listening"
        url = urlsplit(gather.get("action", ""))
        return self._twiml(
            self.twilio.post(f"{url.path}?{url.query}", {**self.form, "Digits": digits})
        )

    @staticmethod
    def _twiml(response) -> ElementTree.Element:  # type: ignore[no-untyped-def]
        assert response.status_code == 200
        return ElementTree.fromstring(response.get_data())  # noqa: S314 - our own answer


def said(root: ElementTree.Element) -> str:
    return " ".join(s.text or "" for s in root.iter("Say"))


class TestCallEndToEnd:
    def test_pressing_one_books_the_first_slot(self, real_app, settings, db, caller):
        """Answering the call and pressing 1 books the first slot and says the confirmation."""
        call = Call(TwilioPoster(real_app.test_client(), settings.sandbox_auth_token), caller)
        offer = call.answer()
        assert "按1" in said(offer)
        booked = call.press(offer, "1")
        assert said(booked) != said(offer)
        assert "预约" in said(booked) and booked.find("Hangup") is not None
        appt = db.scalars(select(Appointment).where(Appointment.customer_id == caller.id)).one()
        assert appt.status == "booked"

    def test_each_turn_of_a_call_gets_its_own_answer(self, real_app, settings, db, caller):
        """A second listening turn in the same call is answered afresh, not replayed."""
        call = Call(TwilioPoster(real_app.test_client(), settings.sandbox_auth_token), caller)
        offer = call.answer()
        retry = call.press(offer, "9")  # nine is no option: one re-prompt
        assert "没有听清" in said(retry)
        booked = call.press(retry, "1")
        assert "没有听清" not in said(booked)
        assert db.scalars(select(Appointment)).one().customer_id == caller.id
