"""TwilioGateway against Twilio's REST API stubbed with ``responses``, each request spec-checked."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from outreach.gateway import GatewayError
from outreach.gateways import make_gateway
from outreach.settings import Settings, TwilioSettings
from outreach.twilio_gateway import TwilioGateway
from tests.twilio_openapi import SpecViolation, validate_all, validate_call

ACCOUNT = "AC" + "1" * 32
TOKEN = "test-auth-token"
ROOT = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}"
MESSAGES = f"{ROOT}/Messages.json"
CALLS = f"{ROOT}/Calls.json"
TO = "+14155550123"
SENDER = "+15005550006"


def twilio_settings(settings: Settings, **changes: object) -> Settings:
    config = TwilioSettings(ACCOUNT, TOKEN, SENDER, None, **changes)  # type: ignore[arg-type]
    return replace(settings, twilio=config, public_base_url="https://hooks.example.com")


def message_json(sid: str = "SM" + "a" * 32, body: str = "hello", **extra: object) -> dict:
    return {"sid": sid, "status": "queued", "to": TO, "body": body, **extra}


@pytest.fixture
def api():
    """Twilio's API stubbed; every request made is validated against the spec afterwards."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
        validate_all(mock.calls)


@pytest.fixture
def gateway(settings: Settings) -> TwilioGateway:
    return TwilioGateway(twilio_settings(settings))


def form(call) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    return parse_qs(call.request.body)


class TestSendSms:
    def test_sends_to_from_body_callback_and_validity(self, api, gateway):
        """A message carries To, From, Body, the status callback and a short validity period."""
        api.post(MESSAGES, json=message_json(), status=201)
        result = gateway.send_sms(TO, "hello", status_callback=None, validity_seconds=600)
        sent = form(api.calls[0])
        assert result.sid == "SM" + "a" * 32
        assert sent["To"] == [TO]
        assert sent["From"] == [SENDER]
        assert sent["Body"] == ["hello"]
        assert sent["StatusCallback"] == ["https://hooks.example.com/twilio/message-status"]
        assert sent["ValidityPeriod"] == ["600"]

    def test_explicit_status_callback_wins(self, api, gateway):
        """The caller's status callback URL is used as given."""
        api.post(MESSAGES, json=message_json(), status=201)
        gateway.send_sms(TO, "hi", status_callback="https://x.example.com/cb", validity_seconds=60)
        assert form(api.calls[0])["StatusCallback"] == ["https://x.example.com/cb"]

    def test_messaging_service_replaces_from(self, api, settings):
        """With a Messaging Service SID the message names the service and no From."""
        service = "MG" + "2" * 32
        config = TwilioSettings(ACCOUNT, TOKEN, None, service)
        gw = TwilioGateway(replace(settings, twilio=config))
        api.post(MESSAGES, json=message_json(), status=201)
        gw.send_sms(TO, "hi", status_callback=None, validity_seconds=None)
        sent = form(api.calls[0])
        assert sent["MessagingServiceSid"] == [service]
        assert "From" not in sent
        assert sent["ValidityPeriod"] == [str(settings.sending.validity_seconds)]

    def test_authenticates_as_the_account(self, api, gateway):
        """Requests use HTTP basic auth with the account SID and auth token."""
        api.post(MESSAGES, json=message_json(), status=201)
        gateway.send_sms(TO, "hi", status_callback=None, validity_seconds=60)
        assert api.calls[0].request.headers["Authorization"].startswith("Basic ")


class TestPlaceCall:
    def test_call_has_answer_url_callbacks_and_machine_detection(self, api, gateway):
        """A call fetches TwiML from the answer URL, reports status, and detects machines."""
        api.post(CALLS, json={"sid": "CA" + "b" * 32, "status": "queued"}, status=201)
        result = gateway.place_call(
            TO, answer_url="https://hooks.example.com/twilio/voice", status_callback=None
        )
        sent = form(api.calls[0])
        assert result.sid == "CA" + "b" * 32
        assert sent["Url"] == ["https://hooks.example.com/twilio/voice"]
        assert sent["StatusCallback"] == ["https://hooks.example.com/twilio/call-status"]
        assert sent["MachineDetection"] == ["Enable"]
        assert "completed" in sent["StatusCallbackEvent"]


class TestErrors:
    @pytest.mark.parametrize(
        ("status", "code", "kind"),
        [
            (400, 21610, "opted_out"),
            (400, 21211, "bad_number"),
            (400, 21614, "bad_number"),
            (429, 20429, "retryable"),
            (500, 20500, "ambiguous"),
            (503, 20503, "ambiguous"),
            (400, 21606, "failed"),
            (401, 20003, "failed"),
        ],
    )
    def test_error_codes_map_to_kinds(self, api, gateway, status, code, kind):
        """Twilio's error code (not its message text) decides what the sender does next."""
        api.post(MESSAGES, json={"code": code, "message": "x", "status": status}, status=status)
        with pytest.raises(GatewayError) as caught:
            gateway.send_sms(TO, "hi", status_callback=None, validity_seconds=60)
        assert (caught.value.kind, caught.value.code) == (kind, code)

    def test_timeout_is_ambiguous(self, api, gateway):
        """A timeout may have sent the message, so it is ambiguous, not retryable."""
        api.post(MESSAGES, body=requests.ReadTimeout("slow"))
        with pytest.raises(GatewayError) as caught:
            gateway.send_sms(TO, "hi", status_callback=None, validity_seconds=60)
        assert caught.value.kind == "ambiguous"


class TestFindSent:
    def test_finds_the_message_with_the_same_body(self, api, gateway):
        """The look-up lists messages to the number since the day and matches the body."""
        since = datetime(2025, 3, 10, 2, 0, 30, tzinfo=UTC)
        api.get(
            MESSAGES,
            json={
                "messages": [
                    message_json(
                        "SM" + "c" * 32, "other", date_created="Mon, 10 Mar 2025 02:00:40 +0000"
                    ),
                    message_json(
                        "SM" + "d" * 32, "hello", date_created="Mon, 10 Mar 2025 02:00:31 +0000"
                    ),
                ],
                "next_page_uri": None,
            },
        )
        found = gateway.find_sent(TO, "hello", since)
        assert found is not None and found.sid == "SM" + "d" * 32
        query = parse_qs(urlsplit(api.calls[0].request.url).query)
        assert query["To"] == [TO]
        assert query["DateSent>"] == ["2025-03-10T00:00:00Z"]

    def test_older_message_is_not_taken_for_this_send(self, api, gateway):
        """A message with the same body created before ``since`` is not this send."""
        since = datetime(2025, 3, 10, 2, 0, 30, tzinfo=UTC)
        old = message_json(date_created="Mon, 10 Mar 2025 01:00:00 +0000")
        api.get(MESSAGES, json={"messages": [old], "next_page_uri": None})
        assert gateway.find_sent(TO, "hello", since) is None


class TestClient:
    def test_client_is_built_at_first_use_with_a_timeout(self, api, settings):
        """No client exists until a send; then its HTTP client has the configured timeout."""
        gw = TwilioGateway(twilio_settings(settings, http_timeout_seconds=4.5))
        assert gw._client is None
        api.post(MESSAGES, json=message_json(), status=201)
        gw.send_sms(TO, "hi", status_callback=None, validity_seconds=60)
        assert gw.client.http_client.timeout == 4.5

    def test_api_base_url_override_sends_elsewhere(self, api, settings):
        """TWILIO_API_BASE_URL points every request at a Twilio-compatible server."""
        gw = TwilioGateway(twilio_settings(settings, api_base_url="http://twilio.test:8080/"))
        url = f"http://twilio.test:8080/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
        api.post(url, json=message_json(), status=201)
        gw.send_sms(TO, "hi", status_callback=None, validity_seconds=60)
        assert api.calls[0].request.url == url
        api.calls.reset()  # the spec's server is api.twilio.com; this one is checked above

    def test_factory_picks_twilio_with_credentials(self, settings):
        """make_gateway returns the Twilio gateway when credentials are configured."""
        assert make_gateway(twilio_settings(settings)).name == "twilio"


class TestSpecCheck:
    def test_message_without_to_fails_validation(self, api):
        """A create-message request with no To is refused by the spec check."""
        api.post(MESSAGES, json=message_json(), status=201)
        requests.post(
            MESSAGES, data={"Body": "hi", "From": SENDER}, auth=(ACCOUNT, TOKEN), timeout=5
        )
        with pytest.raises(SpecViolation, match="To"):
            validate_call(api.calls[0].request)
        api.calls.reset()

    def test_unknown_parameter_fails_validation(self, api):
        """A misspelt parameter that Twilio would ignore is refused by the spec check."""
        api.post(MESSAGES, json=message_json(), status=201)
        data = {"To": TO, "Body": "hi", "From": SENDER, "ValidityPeriods": "60"}
        requests.post(MESSAGES, data=data, auth=(ACCOUNT, TOKEN), timeout=5)
        with pytest.raises(SpecViolation, match="ValidityPeriods"):
            validate_call(api.calls[0].request)
        api.calls.reset()

    def test_request_without_credentials_fails_validation(self, api):
        """A request without basic auth is refused by the spec's security requirement."""
        api.post(MESSAGES, json=message_json(), status=201)
        requests.post(MESSAGES, data={"To": TO, "Body": "hi", "From": SENDER}, timeout=5)
        with pytest.raises(SpecViolation):
            validate_call(api.calls[0].request)
        api.calls.reset()
