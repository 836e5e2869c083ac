"""The URLs the outbox hands Twilio are routes the webhook app serves, signed as Twilio signs."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from outreach import paths
from outreach.db import make_sessionmaker, transaction
from outreach.gateway import SendResult
from outreach.outbox import claim_batch, enqueue, send
from tests.webhooks.conftest import BASE, NOW, OUR_NUMBER, PHONE, new_sid


class CapturingGateway:
    """Keeps the URLs of every send; answers like Twilio's create."""

    name = "capture"

    def __init__(self) -> None:
        self.urls: dict[str, str] = {}

    def send_sms(self, to, body, *, status_callback, validity_seconds):  # type: ignore[no-untyped-def]
        self.urls["sms_status"] = status_callback
        return SendResult(new_sid("SM"), "queued")

    def place_call(self, to, *, answer_url, status_callback):  # type: ignore[no-untyped-def]
        self.urls["answer"] = answer_url
        self.urls["call_status"] = status_callback
        return SendResult(new_sid("CA"), "queued")

    def find_sent(self, to, body, since):  # type: ignore[no-untyped-def]
        return None


@pytest.fixture
def sent_urls(settings, committing_engine, customer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Queue and send one SMS and one call through the outbox; the URLs they carried."""
    settings = replace(settings, public_base_url=BASE)
    sessions = make_sessionmaker(committing_engine)
    gateway = CapturingGateway()
    with transaction(sessions) as session:
        for channel in ("sms", "voice"):
            enqueue(
                session, settings, customer=session.merge(customer), channel=channel,
                body="offer", idempotency_key=f"urls:{channel}", now=NOW, holidays=(),
            )  # fmt: skip
    always_open = replace(
        settings, contact_window=replace(settings.contact_window, weekends=True, holidays=True)
    )
    with transaction(sessions) as session:
        claims = claim_batch(session, always_open, worker="t", now=NOW, holidays=())
    assert {c.channel for c in claims} == {"sms", "voice"}
    for claim in claims:
        assert send(gateway, claim, settings).kind == "sent"
    return gateway.urls


def local(url: str) -> str:
    """The path and query the app sees for a public URL under BASE."""
    assert url.startswith(BASE + "/"), url
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class TestOutboxUrls:
    def test_urls_are_the_issue_paths(self, sent_urls):
        """SMS and call callbacks go to /twilio/message-status and /twilio/call-status."""
        assert urlsplit(sent_urls["sms_status"]).path == paths.MESSAGE_STATUS
        assert urlsplit(sent_urls["call_status"]).path == paths.CALL_STATUS
        assert urlsplit(sent_urls["answer"]).path == paths.VOICE

    def test_answer_url_names_the_outbox_row(self, sent_urls):
        """An outbound call's answer URL carries the outbox row id in its query string."""
        assert urlsplit(sent_urls["answer"]).query.startswith(f"{paths.OUTBOX_FIELD}=")

    def test_message_status_callback_is_served(self, twilio, sent_urls):
        """A signed status callback posted to the SMS's StatusCallback URL is accepted."""
        data = {"MessageSid": new_sid("SM"), "MessageStatus": "delivered"}
        assert twilio.post(local(sent_urls["sms_status"]), data).status_code == 204

    def test_call_status_callback_is_served(self, twilio, sent_urls):
        """A signed status callback posted to the call's StatusCallback URL is accepted."""
        data = {"CallSid": new_sid("CA"), "CallStatus": "completed"}
        assert twilio.post(local(sent_urls["call_status"]), data).status_code == 204

    def test_answer_url_is_served_with_its_query_in_the_signature(self, twilio, sent_urls):
        """The answered call's request, signed over the URL with ?outbox=, gets TwiML."""
        data = {"CallSid": new_sid("CA"), "From": OUR_NUMBER, "To": PHONE,
                "Direction": "outbound-api"}  # fmt: skip
        response = twilio.post(local(sent_urls["answer"]), data)
        assert response.status_code == 200
        assert b"<Response>" in response.data

    @pytest.mark.parametrize(
        "path", ["/twilio/sms/status", "/twilio/voice/outbound", "/twilio/voice/status"]
    )
    def test_old_alias_paths_are_gone(self, twilio, path):
        """The outbox's former paths are not routes any more."""
        data = {"MessageSid": new_sid("SM"), "MessageStatus": "sent"}
        assert twilio.post(path, data).status_code == 404

    def test_malformed_outbox_id_is_400(self, twilio, customer):
        """An answer URL whose outbox field is not a number is refused."""
        data = {"CallSid": new_sid("CA"), "From": OUR_NUMBER, "To": PHONE,
                "Direction": "outbound-api"}  # fmt: skip
        assert twilio.post("/twilio/voice?outbox=x1", data).status_code == 400
