"""The telephony gateway interface: what the product asks of an SMS/voice provider.

Implementations: ``SandboxGateway`` (records, sends nothing; the default without credentials),
``TwilioGateway`` (the only module that talks to Twilio's REST API) and ``AliyunGateway``
(mainland China: +86 SMS as registered templates, calls handed to Twilio or refused);
``gateways.py`` builds the configured one (``[gateway] sms``).  Whatever the provider, the
outbox hands it the text to send: a template provider reads that text back as one of the
dealership's registered templates and sends code + variables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class SendResult:
    sid: str  # the provider's id of the message or call
    status: str  # the provider's status at creation ("queued", "accepted", …)


class GatewayError(Exception):
    """A send the provider refused or that failed; ``kind`` says what to do about it.

    kind: "opted_out" (the recipient unsubscribed at the carrier: opt them out),
    "bad_number" (hand to an advisor), "retryable" (back off and try again; the send did
    not happen), "ambiguous" (it may have happened: look it up before any resend),
    "failed" (give up and record the code).
    """

    def __init__(self, kind: str, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code


class Gateway(Protocol):
    name: str

    def send_sms(
        self, to: str, body: str, *, status_callback: str | None, validity_seconds: int | None
    ) -> SendResult: ...

    def place_call(
        self, to: str, *, answer_url: str, status_callback: str | None
    ) -> SendResult: ...

    def find_sent(self, to: str, body: str, since: datetime) -> SendResult | None:
        """A message to ``to`` with ``body`` created at or after ``since``, if the provider has one.

        Used after a crash between "claimed" and "recorded" to decide whether a resend is safe.
        """
        ...
