"""The phone simulator walks a voice call: start it, answer each prompt, read what was said."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from html import unescape

from sqlalchemy import select

from outreach.accounts import add_user
from outreach.models import Appointment, ContactAttempt
from outreach.settings import TwilioSettings
from tests.conversation.conftest import plan_outreach
from tests.desk.conftest import NOW, Desk, create_test_app
from tests.factories import make_customer, make_vehicle

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


def _section(page: str, element_id: str) -> str:
    found = re.search(rf'<(ol|ul) [^>]*id="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    return found.group(2) if found else ""


class TestFindingACustomer:
    def test_the_id_the_demo_prints_finds_the_customer(self, desk_client, db):
        """The demo prints the DMS customer id (C000123): searching it finds that customer."""
        customer = make_customer(db, name="韩梅梅", external_id="C004217")
        make_customer(db, name="李雷")
        db.commit()
        page = unescape(desk_client.client.get("/simulator/?q=c004217").get_data(as_text=True))
        picks = re.findall(r'href="/simulator/(\d+)"', page)
        assert picks == [str(customer.id)]

    def test_a_plate_or_phone_tail_finds_the_customer(self, desk_client, db):
        customer = make_customer(db, name="韩梅梅", phone="+8613912345678")
        make_vehicle(db, customer, plate="沪C12345")
        db.commit()
        for q in ("沪C123", "5678", "５６７８", "139 1234-5678", "沪C 12345"):
            page = desk_client.client.get(f"/simulator/?q={q}").get_data(as_text=True)
            assert f'href="/simulator/{customer.id}"' in page, q

    def test_nothing_matched_is_said(self, desk_client, db):
        make_customer(db, name="李雷")
        db.commit()
        page = unescape(desk_client.client.get("/simulator/?q=C999999").get_data(as_text=True))
        assert "没有找到匹配的客户" in page and "C999999" in page

    def test_customers_of_the_same_name_are_told_apart(self, desk_client, db):
        """Two 张伟: the list shows each one's phone tail and plate."""
        first = make_customer(db, name="张伟", phone="+8613900001111")
        second = make_customer(db, name="张伟", phone="+8613900002222")
        make_vehicle(db, first, plate="沪A11111")
        make_vehicle(db, second, plate="苏E22222")
        db.commit()
        page = desk_client.client.get("/simulator/?q=张伟").get_data(as_text=True)
        assert "…1111 · 沪A11111" in page and "…2222 · 苏E22222" in page


class TestThread:
    def test_notes_and_call_prompts_are_not_sms_bubbles(self, desk_client, db):
        """The SMS thread holds only texts; the call's prompts and the advisors' notes are
        listed apart."""
        customer = make_customer(db, name="李雷")
        db.flush()
        for n, (channel, direction, body) in enumerate(
            (
                ("sms", "out", "短信邀约"),
                ("voice", "out", "语音提示请按1"),
                ("desk", "note", "顾问：已回电"),
                ("sms", "in", "好的"),
            )
        ):
            db.add(
                ContactAttempt(
                    customer_id=customer.id,
                    at=NOW - timedelta(minutes=10 - n),
                    channel=channel,
                    direction=direction,
                    kind="x",
                    body=body,
                )
            )
        db.commit()
        page = desk_client.client.get(f"/simulator/{customer.id}").get_data(as_text=True)
        thread = _section(page, "sms-thread")
        assert "短信邀约" in thread and "好的" in thread
        assert "语音提示请按1" not in thread and "顾问：已回电" not in thread
        assert "语音提示请按1" in _section(page, "call-log")
        assert "顾问：已回电" in _section(page, "notes")

    def test_after_sending_the_page_opens_on_the_reply(self, desk_client, db):
        """Sending lands on the thread's latest message (the bot's reply)."""
        customer = make_customer(db, name="李雷")
        plan_outreach(db, customer)
        db.commit()
        response = desk_client.post(f"/simulator/{customer.id}/sms", {"body": "你好"})
        assert response.headers["Location"].endswith("#latest")
        page = desk_client.client.get(response.headers["Location"]).get_data(as_text=True)
        last = re.findall(r'<li class="msg (\w+)"( id="latest")?', page)[-1]
        assert last == ("out", ' id="latest"')
