"""Every Twilio route refuses unsigned, forged and foreign requests, and writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from outreach.models import ContactAttempt, WebhookEvent
from tests.webhooks.conftest import PHONE, TwilioPoster, new_sid

ROUTES = [
    "/twilio/sms",
    "/twilio/voice",
    "/twilio/voice/gather?step=offer",
    "/twilio/message-status",
    "/twilio/call-status",
]


def nothing_written(db) -> bool:  # type: ignore[no-untyped-def]
    events = db.scalar(select(func.count()).select_from(WebhookEvent))
    attempts = db.scalar(select(func.count()).select_from(ContactAttempt))
    return events == 0 and attempts == 0


class TestSignature:
    @pytest.mark.parametrize("path", ROUTES)
    def test_unsigned_request_is_refused(self, twilio, db, customer, path):
        """A request with no X-Twilio-Signature gets 403 on every route."""
        data = {"AccountSid": twilio.account, "MessageSid": new_sid(), "From": PHONE, "Body": "1"}
        assert twilio.client.post(path, data=data).status_code == 403
        assert nothing_written(db)

    @pytest.mark.parametrize("path", ROUTES)
    def test_forged_signature_is_refused(self, twilio, db, customer, path):
        """A request signed with another token gets 403 and changes nothing."""
        forger = TwilioPoster(twilio.client, "not-the-token")
        data = {"MessageSid": new_sid(), "CallSid": new_sid("CA"), "From": PHONE, "Body": "1"}
        assert forger.post(path, data).status_code == 403
        assert nothing_written(db)

    def test_tampered_body_is_refused(self, twilio, db, customer):
        """A signature computed over other field values does not pass."""
        data = {"MessageSid": new_sid(), "From": PHONE, "To": "+15005550006", "Body": "2"}
        signature = twilio.sign("/twilio/sms", {"AccountSid": twilio.account, **data})
        data["Body"] = "STOP"
        response = twilio.post("/twilio/sms", data, signature=signature)
        assert response.status_code == 403
        assert nothing_written(db)

    def test_signature_for_another_path_is_refused(self, twilio, db, customer):
        """A signature for /twilio/sms does not open /twilio/message-status."""
        data = {"AccountSid": twilio.account, "MessageSid": new_sid(), "MessageStatus": "failed"}
        signature = twilio.sign("/twilio/sms", data)
        assert twilio.post("/twilio/message-status", data, signature=signature).status_code == 403

    def test_signature_uses_public_base_url_not_host(self, twilio, customer):
        """Behind a proxy the Host header differs; the public base URL still validates."""
        data = {"MessageSid": new_sid(), "From": PHONE, "To": "+15005550006", "Body": "hi"}
        response = twilio.post("/twilio/sms", data, base_url="http://10.0.0.5:8000")
        assert response.status_code == 200

    def test_log_names_the_reason_without_secrets(self, twilio, customer, caplog, settings):
        """A refusal is logged with its reason, never the token or the full number."""
        forger = TwilioPoster(twilio.client, "not-the-token")
        forger.post("/twilio/sms", {"MessageSid": new_sid(), "From": PHONE, "Body": "x"})
        text = caplog.text
        assert "signature does not match" in text
        assert PHONE not in text and settings.sandbox_auth_token not in text
        assert PHONE[-4:] in text


class TestAccount:
    def test_other_account_is_refused(self, twilio, db, customer):
        """A correctly signed request for another AccountSid gets 403."""
        other = TwilioPoster(twilio.client, twilio.token, account="AC" + "9" * 32)
        assert other.sms("1").status_code == 403
        assert nothing_written(db)

    def test_missing_account_is_refused(self, twilio, db, customer):
        """A signed request with no AccountSid gets 403."""
        data = {"MessageSid": new_sid(), "From": PHONE, "Body": "1"}
        signature = twilio.sign("/twilio/sms", data)
        response = twilio.client.post(
            "/twilio/sms", data=data, headers={"X-Twilio-Signature": signature}
        )
        assert response.status_code == 403
