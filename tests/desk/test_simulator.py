"""The phone simulator walks a voice call: start it, answer each prompt, read what was said."""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape

from sqlalchemy import select

from outreach.accounts import add_user
from outreach.models import Appointment
from outreach.settings import TwilioSettings
from tests.conversation.conftest import plan_outreach
from tests.desk.conftest import Desk, create_test_app
from tests.factories import make_customer

_HIDDEN = re.compile(r'name="(call|step)" value="([^"]+)"')


def _call_fields(page: str) -> dict[str, str]:
    return dict(_HIDDEN.findall(page))


def _follow(desk, response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 302
    return unescape(desk.client.get(response.headers["Location"]).get_data(as_text=True))


class TestVoiceWalkthrough:
    def test_start_shows_the_spoken_offer_and_a_keypad_form(self, desk_client, db):
        """Starting a call shows the offer's <Say> text and a form for the next answer."""
        customer = make_customer(db, name="李雷")
        plan_outreach(db, customer)
        db.commit()
        page = _follow(desk_client, desk_client.post(f"/simulator/{customer.id}/call"))
        assert "按1" in page and "转人工服务请按0" in page
        fields = _call_fields(page)
        assert fields["call"].startswith("CA") and fields["step"] == "choose-1"

    def test_pressing_one_books_and_ends_the_call(self, desk_client, db):
        """Typing 1 at the offer books the first slot, says the confirmation and ends the call."""
        customer = make_customer(db, name="李雷")
        plan_outreach(db, customer)
        db.commit()
        page = _follow(desk_client, desk_client.post(f"/simulator/{customer.id}/call"))
        answered = desk_client.post(
            f"/simulator/{customer.id}/call/answer", {**_call_fields(page), "heard": "1"}
        )
        page = _follow(desk_client, answered)
        assert "随车文件" in page and "通话已结束" in page
        assert "call-start" in page  # a new call can be started
        appt = db.scalars(select(Appointment).where(Appointment.customer_id == customer.id))
        assert appt.one().status == "booked"

    def test_words_are_heard_as_speech(self, desk_client, db):
        """Words typed for a prompt reach the conversation as speech and get the next prompt."""
        customer = make_customer(db, name="李雷")
        plan_outreach(db, customer)
        db.commit()
        page = _follow(desk_client, desk_client.post(f"/simulator/{customer.id}/call"))
        answered = desk_client.post(
            f"/simulator/{customer.id}/call/answer", {**_call_fields(page), "heard": "哈哈哈"}
        )
        page = _follow(desk_client, answered)
        assert "没有听清" in page and _call_fields(page)["step"] == "retry-2"

    def test_a_malformed_call_is_refused(self, desk_client, db):
        """An answer naming no valid call is a 400, and nothing is said."""
        customer = make_customer(db)
        db.commit()
        response = desk_client.post(
            f"/simulator/{customer.id}/call/answer", {"call": "nope", "step": "x", "heard": "1"}
        )
        assert response.status_code == 400

    def test_twilio_gateway_hides_the_simulator(self, settings, committing_engine, db):
        """With a Twilio account configured the simulator's call routes do not exist."""
        live = replace(settings, twilio=TwilioSettings("AC" + "0" * 32, "t", "+15005550006", None))
        desk = Desk(create_test_app(live, committing_engine).test_client())
        add_user(db, "li", "correct horse battery", role="manager")
        db.commit()
        desk.login("li")
        assert desk.client.get("/simulator/").status_code == 404
