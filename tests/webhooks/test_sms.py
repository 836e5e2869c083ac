"""Inbound SMS: the conversation's reply as TwiML, once per MessageSid, a fallback on failure."""

from __future__ import annotations

from xml.etree import ElementTree

from sqlalchemy import func, select

from outreach.models import CallbackRequest, ContactAttempt, Customer, WebhookEvent
from tests.webhooks.conftest import new_sid


def message_text(response) -> str | None:  # type: ignore[no-untyped-def]
    node = ElementTree.fromstring(response.get_data()).find("Message")  # noqa: S314 - our own answer
    return node.text if node is not None else None


def inbound(db) -> int:  # type: ignore[no-untyped-def]
    query = select(func.count()).where(ContactAttempt.direction == "in")
    return db.scalar(query)  # type: ignore[no-any-return]


class TestInboundSms:
    def test_reply_is_twiml_message(self, twilio, db, customer):
        """The conversation's reply comes back as a TwiML <Message>."""
        response = twilio.sms("明天上午")
        assert response.status_code == 200
        assert response.mimetype == "text/xml"
        assert message_text(response) == "收到：明天上午"
        assert inbound(db) == 1

    def test_replayed_message_has_one_effect_and_same_answer(self, twilio, db, customer):
        """The same MessageSid posted again answers the same and records nothing new."""
        sid = new_sid()
        first = twilio.sms("2", sid=sid)
        second = twilio.sms("2", sid=sid)
        assert first.get_data() == second.get_data()
        assert inbound(db) == 1
        assert db.scalar(select(func.count()).select_from(WebhookEvent)) == 1

    def test_failure_answers_politely_and_queues_callback(self, twilio, db, customer):
        """When the conversation raises, the customer gets an apology and an advisor a callback."""
        response = twilio.sms("boom")
        assert response.status_code == 200
        assert "服务顾问" in (message_text(response) or "")
        assert "Traceback" not in response.get_data(as_text=True)
        callback = db.scalars(select(CallbackRequest)).one()
        assert (callback.customer_id, callback.reason) == (customer.id, "bot_error")
        assert inbound(db) == 0  # the failed effect was rolled back

    def test_failure_from_unknown_number_creates_a_file_to_call_back(self, twilio, db):
        """A stranger whose message broke the bot still lands in the callback queue."""
        response = twilio.sms("boom", sender="+8613800000000")
        assert response.status_code == 200
        customer = db.scalars(select(Customer)).one()
        assert customer.phone == "+8613800000000"
        assert db.scalars(select(CallbackRequest)).one().customer_id == customer.id

    def test_failed_message_replayed_is_not_queued_twice(self, twilio, db, customer):
        """Twilio's retry of a message that broke the bot gets the same apology, once."""
        sid = new_sid()
        twilio.sms("boom", sid=sid)
        twilio.sms("boom", sid=sid)
        assert db.scalar(select(func.count()).select_from(CallbackRequest)) == 1

    def test_empty_reply_is_empty_response(self, twilio, db, customer, app):
        """A reply with no text answers an empty <Response/>."""
        handlers = app.config["HANDLERS"]
        app.config["HANDLERS"] = type(handlers)(
            handle_sms=lambda *a, **k: type("R", (), {"text": None})(),
            voice_turn=handlers.voice_turn,
        )
        response = twilio.sms("ok")
        assert message_text(response) is None
        assert response.status_code == 200
