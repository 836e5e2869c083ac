"""Play the customer against a running webhooks server: signed inbound SMS and voice requests.

Used by ``outreach simulate``; signs with the configured auth token (the sandbox token when no
Twilio account is set), exactly as Twilio would, so signature validation stays on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.etree import ElementTree

import requests
from twilio.request_validator import RequestValidator

from outreach.settings import Settings
from webhooks.signed import credentials


@dataclass
class Answer:
    status: int
    says: list[str] = field(default_factory=list)  # <Message> or <Say> texts
    gather_url: str | None = None  # where the next voice input goes
    hangup: bool = False


def parse(status: int, body: bytes) -> Answer:
    answer = Answer(status)
    if status != 200 or not body:
        return answer
    root = ElementTree.fromstring(body)  # noqa: S314 - TwiML from the server we are testing
    for node in root.iter():
        if node.tag in ("Message", "Say") and node.text:
            answer.says.append(node.text)
        elif node.tag == "Gather":
            answer.gather_url = node.get("action")
        elif node.tag == "Hangup":
            answer.hangup = True
    return answer


class Phone:
    """A customer's phone talking to the server at ``url`` (signed against the public URL)."""

    def __init__(self, settings: Settings, url: str, customer: str, our_number: str) -> None:
        self.settings = settings
        self.url = url.rstrip("/")
        self.customer = customer
        self.our_number = our_number
        self.account, token = credentials(settings)
        self.validator = RequestValidator(token)
        self.http = requests.Session()
        self.call_sid: str | None = None

    def _post(self, public_url: str, data: dict[str, str]) -> Answer:
        data = {"AccountSid": self.account, **data}
        signature = self.validator.compute_signature(public_url, data)
        parts = urlsplit(public_url)
        target = self.url + parts.path + (f"?{parts.query}" if parts.query else "")
        response = self.http.post(
            target, data=data, headers={"X-Twilio-Signature": signature}, timeout=20
        )
        return parse(response.status_code, response.content)

    def text(self, body: str) -> Answer:
        """Send an inbound SMS with a fresh MessageSid."""
        data = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "From": self.customer,
            "To": self.our_number,
            "Body": body,
            "NumMedia": "0",
        }
        return self._post(f"{self.settings.public_base_url}/twilio/sms", data)

    def call(self) -> Answer:
        """Call the dealership: the answer's first voice turn."""
        self.call_sid = "CA" + uuid.uuid4().hex
        data = {"CallSid": self.call_sid, "From": self.customer, "To": self.our_number}
        return self._post(
            f"{self.settings.public_base_url}/twilio/voice", {**data, "Direction": "inbound"}
        )

    def respond(self, answer: Answer, said: str) -> Answer:
        """Answer a Gather: digits if ``said`` is all digits, otherwise speech."""
        assert answer.gather_url and self.call_sid  # noqa: S101 - caller checks gather_url
        data = {"CallSid": self.call_sid, "From": self.customer, "To": self.our_number}
        data["Direction"] = "inbound"
        data["Digits" if said.isdigit() else "SpeechResult"] = said
        return self._post(answer.gather_url, data)
