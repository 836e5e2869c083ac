"""Bad input gets a clear 4xx and nothing is written."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.webhooks.conftest import PHONE, new_sid
from tests.webhooks.test_security import nothing_written


class TestBadInput:
    @pytest.mark.parametrize("missing", ["From", "Body", "MessageSid"])
    def test_missing_field_is_400_naming_it(self, twilio, db, customer, missing):
        """An inbound SMS without From, Body or MessageSid is refused with the field's name."""
        data = {"MessageSid": new_sid(), "From": PHONE, "To": "+15005550006", "Body": "1"}
        del data[missing]
        response = twilio.post("/twilio/sms", data)
        assert response.status_code == 400
        assert missing in response.get_data(as_text=True)
        assert nothing_written(db)

    @pytest.mark.parametrize("number", ["12345", "not a number", "+86"])
    def test_unparseable_number_is_400(self, twilio, db, customer, number):
        """A From that is not a phone number is refused."""
        response = twilio.sms("1", sender=number)
        assert response.status_code == 400
        assert "From" in response.get_data(as_text=True)
        assert nothing_written(db)

    def test_oversized_body_is_413(self, twilio, db, customer):
        """A request over MAX_CONTENT_LENGTH is refused before anything is read."""
        response = twilio.sms("x" * 70_000)
        assert response.status_code == 413
        assert nothing_written(db)

    def test_invalid_utf8_is_400(self, twilio, db, customer):
        """Percent-encoded bytes that are not UTF-8 are refused, not replaced."""
        fields = {"AccountSid": twilio.account, "MessageSid": new_sid(), "From": PHONE}
        raw = "&".join(f"{k}={quote(v)}" for k, v in fields.items()) + "&Body=%FF%FE"
        response = twilio.client.post(
            "/twilio/sms",
            data=raw,
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": "irrelevant"},
        )
        assert response.status_code == 400
        assert "UTF-8" in response.get_data(as_text=True)
        assert nothing_written(db)

    def test_json_is_415(self, twilio, db, customer):
        """Twilio posts forms; anything else is refused."""
        response = twilio.client.post("/twilio/sms", json={"Body": "1"})
        assert response.status_code == 415

    def test_gather_without_step_is_400(self, twilio, db, customer):
        """The gather action needs the step it answers."""
        data = {"CallSid": new_sid("CA"), "From": PHONE, "To": "+15005550006", "Digits": "1"}
        assert twilio.post("/twilio/voice/gather", data).status_code == 400
        assert nothing_written(db)

    def test_malformed_sid_is_400(self, twilio, db, customer):
        """A MessageSid that is not a Twilio SID is refused."""
        assert twilio.sms("1", sid="SM123").status_code == 400
