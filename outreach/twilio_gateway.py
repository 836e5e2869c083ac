"""The Twilio gateway: the only module that talks to Twilio's REST API.

The SDK ``Client`` is built on first use from settings (never at import), with an HTTP timeout
(the SDK's default is none) and, when ``TWILIO_API_BASE_URL`` is set, an HTTP client that sends
every request to that Twilio-compatible server instead — Twilio's documented way to reach a
mock or staging server is a custom HTTP client, since the SDK's host names are fixed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from outreach import paths
from outreach.gateway import GatewayError, SendResult
from outreach.settings import Settings, TwilioSettings

log = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]

# Twilio error codes by what to do about them (https://www.twilio.com/docs/api/errors).
OPTED_OUT_CODES = frozenset({21610})  # the recipient replied STOP to this sender
BAD_NUMBER_CODES = frozenset({21211, 21614})  # invalid "To"; not a mobile number
RETRYABLE_CODES = frozenset({20429})  # too many requests: not processed, back off


class RewritingHttpClient(TwilioHttpClient):
    """A TwilioHttpClient that sends ``https://api.twilio.com/…`` requests to ``base_url``."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def make_client(config: TwilioSettings) -> Client:
    """An SDK client for ``config``: a timeout always, another API host when configured."""
    timeout = config.http_timeout_seconds
    if config.api_base_url:
        http: TwilioHttpClient = RewritingHttpClient(config.api_base_url, timeout=timeout)
    else:
        http = TwilioHttpClient(timeout=timeout)
    return Client(config.account_sid, config.auth_token, http_client=http)


def error_kind(exc: TwilioRestException) -> str:
    """What a refused request means for the sender (see :class:`GatewayError`)."""
    code, status = exc.code, exc.status
    if code in OPTED_OUT_CODES:
        return "opted_out"
    if code in BAD_NUMBER_CODES:
        return "bad_number"
    if status == 429 or code in RETRYABLE_CODES:
        return "retryable"
    if status >= 500:
        # Twilio may have created the message before failing to answer: look it up first.
        return "ambiguous"
    return "failed"


class TwilioGateway:
    """Send SMS and place calls through Twilio; errors become :class:`GatewayError` kinds."""

    name = "twilio"

    def __init__(self, settings: Settings) -> None:
        if settings.twilio is None:
            raise ValueError("TwilioGateway needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        self.settings = settings
        self.config = settings.twilio
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = make_client(self.config)
        return self._client

    def _sender(self) -> dict[str, str]:
        if self.config.messaging_service_sid:
            return {"messaging_service_sid": self.config.messaging_service_sid}
        if not self.config.from_number:
            raise GatewayError("failed", "set TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID")
        return {"from_": self.config.from_number}

    def _call(self, what: str, to: str, create: Any) -> SendResult:
        try:
            resource = create()
        except TwilioRestException as exc:
            kind = error_kind(exc)
            log.warning("twilio %s to …%s refused: %s %s", what, to[-4:], exc.status, exc.code)
            raise GatewayError(kind, f"{exc.status} {exc.code}: {exc.msg}", code=exc.code) from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            # The request may have reached Twilio: the caller looks it up before a resend.
            raise GatewayError("ambiguous", f"{type(exc).__name__}: {exc}") from exc
        return SendResult(sid=resource.sid, status=str(resource.status))

    def send_sms(
        self, to: str, body: str, *, status_callback: str | None, validity_seconds: int | None
    ) -> SendResult:
        """Create a message with a status callback and a short validity period."""
        base = self.settings.public_base_url
        validity = validity_seconds or self.settings.sending.validity_seconds
        return self._call(
            "sms",
            to,
            lambda: self.client.messages.create(
                to=to,
                body=body,
                status_callback=status_callback or paths.url(base, paths.MESSAGE_STATUS),
                validity_period=min(validity, 36_000),
                **self._sender(),
            ),
        )

    def place_call(self, to: str, *, answer_url: str, status_callback: str | None) -> SendResult:
        """Place a call that fetches TwiML from ``answer_url``, with machine detection."""
        base = self.settings.public_base_url
        sender = self.config.from_number
        if not sender:
            raise GatewayError("failed", "calls need TWILIO_FROM (a Messaging Service cannot call)")
        return self._call(
            "call",
            to,
            lambda: self.client.calls.create(
                to=to,
                from_=sender,
                url=answer_url,
                method="POST",
                status_callback=status_callback or paths.url(base, paths.CALL_STATUS),
                status_callback_method="POST",
                status_callback_event=CALL_EVENTS,
                machine_detection=self.config.machine_detection,
            ),
        )

    def find_sent(self, to: str, body: str, since: datetime) -> SendResult | None:
        """A message to ``to`` with ``body`` created at or after ``since``, if Twilio has one."""
        # DateSent> filters by day, and date_created has whole seconds.
        floor = since.replace(microsecond=0) - timedelta(seconds=1)
        day = since.replace(hour=0, minute=0, second=0, microsecond=0)
        try:
            messages = self.client.messages.list(to=to, date_sent_after=day, limit=200)
        except TwilioRestException as exc:
            raise GatewayError(error_kind(exc), f"look-up: {exc.status} {exc.code}") from exc
        for message in messages:
            created = message.date_created
            if message.body == body and (created is None or created >= floor):
                return SendResult(sid=str(message.sid), status=str(message.status))
        return None
