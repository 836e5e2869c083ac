"""The voice webhooks: <Say> inside <Gather input="dtmf speech">, once per CallSid + step."""

from __future__ import annotations

from xml.etree import ElementTree

from sqlalchemy import func, select

from outreach.models import CallbackRequest, ContactAttempt
from tests.webhooks.conftest import BASE, OUR_NUMBER, PHONE, new_sid


def twiml(response):  # type: ignore[no-untyped-def]
    return ElementTree.fromstring(response.get_data())  # noqa: S314 - our own answer


def call(sid: str, **extra: str) -> dict[str, str]:
    return {"CallSid": sid, "From": PHONE, "To": OUR_NUMBER, "Direction": "inbound", **extra}


class TestVoice:
    def test_answer_gathers_keypad_and_speech(self, twilio, customer):
        """The first turn says the prompt inside a Gather whose action names the next step."""
        root = twiml(twilio.post("/twilio/voice", call(new_sid("CA"))))
        gather = root.find("Gather")
        assert gather is not None
        assert gather.get("input") == "dtmf speech"
        assert gather.get("language") == "cmn-Hans-CN"
        assert gather.get("actionOnEmptyResult") == "true"
        assert gather.get("action") == f"{BASE}/twilio/voice/gather?step=after-start"
        say = gather.find("Say")
        assert say is not None and say.get("voice") == "Polly.Zhiyu" and say.text == "请按1确认。"

    def test_outbound_call_passes_the_customer_number(self, twilio, db, customer):
        """On our outbound call the customer is To, not From."""
        data = call(new_sid("CA"), From=OUR_NUMBER, To=PHONE, Direction="outbound-api")
        assert twilio.post("/twilio/voice?outbox=7", data).status_code == 200
        assert db.scalars(select(ContactAttempt)).one().customer_id == customer.id

    def test_gather_result_reaches_the_step(self, twilio, db, customer):
        """Digits and speech from the Gather reach the conversation with the step."""
        sid = new_sid("CA")
        response = twilio.post("/twilio/voice/gather?step=offer", call(sid, Digits="1"))
        root = twiml(response)
        assert root.find("Say").text == "预约成功，再见。"  # type: ignore[union-attr]
        assert root.find("Hangup") is not None
        attempt = db.scalars(select(ContactAttempt)).one()
        assert (attempt.kind, attempt.body) == ("offer", "1|None")

    def test_replayed_step_has_one_effect(self, twilio, db, customer):
        """The same CallSid and step twice is handled once, with the same TwiML."""
        sid = new_sid("CA")
        first = twilio.post("/twilio/voice/gather?step=offer", call(sid, SpeechResult="明天"))
        second = twilio.post("/twilio/voice/gather?step=offer", call(sid, SpeechResult="明天"))
        assert first.get_data() == second.get_data()
        assert db.scalar(select(func.count()).select_from(ContactAttempt)) == 1

    def test_machine_answer_hangs_up(self, twilio, db, customer):
        """A call answered by a machine hangs up without starting the conversation."""
        data = call(new_sid("CA"), AnsweredBy="machine_end_beep")
        root = twiml(twilio.post("/twilio/voice", data))
        assert root.find("Hangup") is not None and root.find("Gather") is None
        assert db.scalar(select(func.count()).select_from(ContactAttempt)) == 0

    def test_failure_apologises_and_queues_callback(self, twilio, db, customer):
        """A failing turn says a polite message, hangs up and queues the customer."""
        root = twiml(
            twilio.post("/twilio/voice/gather?step=offer", call(new_sid("CA"), Digits="9"))
        )
        say = root.find("Say")
        assert say is not None and "服务顾问" in (say.text or "")
        assert root.find("Hangup") is not None
        assert db.scalars(select(CallbackRequest)).one().customer_id == customer.id
