"""A local HTTP stand-in for Twilio's Messages and Calls create + list endpoints.

Bound to 127.0.0.1 on a free port; records every request; can answer 429 / 500, or hold a
response (the message is created, the answer never arrives: the crash window) on demand.
``HttpStandInGateway`` is a minimal Gateway that talks to it, for the fault test and the
benchmark: the production TwilioGateway can be pointed at the same server with
TWILIO_API_BASE_URL.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from outreach.gateway import GatewayError, SendResult

API = "/2010-04-01/Accounts/"


@dataclass
class Created:
    kind: str  # "Messages" or "Calls"
    sid: str
    to: str
    body: str
    created: datetime
    at: float  # time.monotonic() at receipt, for rate measurements


@dataclass
class StandIn:
    """The server's state; a test drives it through these attributes."""

    created: list[Created] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)  # HTTP statuses to answer, in order
    hold_after: int | None = None  # create this many, then create one more and hold its answer
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, kind: str = "Messages") -> int:
        with self.lock:
            return sum(1 for c in self.created if c.kind == kind)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's
    # delayed ACK (40 ms) on every keep-alive request.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _kind(self) -> str | None:
        path = urlsplit(self.path).path
        if not path.startswith(API):
            return None
        tail = path.rsplit("/", 1)[-1]
        return {"Messages.json": "Messages", "Calls.json": "Calls"}.get(tail)

    def do_POST(self) -> None:
        state = self.server.state
        kind = self._kind()
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        with state.lock:
            state.requests.append(("POST", self.path))
            status = state.fail_next.pop(0) if state.fail_next else None
        if kind is None:
            return self._answer(404, {"code": 20404, "message": "not found"})
        if status == 429:
            return self._answer(429, {"code": 20429, "message": "Too Many Requests"})
        with state.lock:
            n = len(state.created)
            sid = ("SM" if kind == "Messages" else "CA") + f"{n:032x}"
            item = Created(
                kind,
                sid,
                form.get("To", ""),
                form.get("Body", form.get("Url", "")),
                datetime.now(UTC),
                time.monotonic(),
            )
            state.created.append(item)
            hold = state.hold_after is not None and n >= state.hold_after
        if hold:
            state.released.wait(60)  # the message exists; its answer never comes in time
        if status is not None and status >= 500:
            return self._answer(status, {"code": 20500, "message": "Internal Server Error"})
        self._answer(201, _resource(item))

    def do_GET(self) -> None:
        state = self.server.state
        kind = self._kind()
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        with state.lock:
            state.requests.append(("GET", self.path))
            items = [c for c in state.created if c.kind == kind]
        if "To" in query:
            items = [c for c in items if c.to == query["To"]]
        if "DateSent>" in query:  # Twilio filters by day
            day = datetime.fromisoformat(query["DateSent>"]).date()
            items = [c for c in items if c.created.date() >= day]
        key = "messages" if kind == "Messages" else "calls"
        self._answer(200, {key: [_resource(c) for c in items], "next_page_uri": None})


def _resource(item: Created) -> dict[str, Any]:
    return {
        "sid": item.sid,
        "to": item.to,
        "body": item.body,
        "status": "queued",
        "date_created": format_datetime(item.created),  # RFC 2822, whole seconds, as Twilio
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: StandIn

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client killed mid-request (the fault test's point) breaks the pipe: not an error.
        pass


def start_standin() -> tuple[_Server, StandIn, str]:
    """Start the stand-in in a thread; returns (server, state, base URL)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = StandIn()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return server, server.state, f"http://{host}:{port}"


def stop_standin(server: _Server) -> None:
    server.state.released.set()
    server.shutdown()
    server.server_close()


class HttpStandInGateway:
    """A minimal Gateway over Twilio's REST shape (form POST, JSON answers)."""

    name = "standin"

    def __init__(self, base_url: str, *, account: str = "ACtest", timeout: float = 10.0) -> None:
        self.root = f"{base_url}{API}{account}"
        self.timeout = timeout
        self.http = requests.Session()
        self.sender = "+15005550006"

    def _create(self, kind: str, form: dict[str, str]) -> SendResult:
        try:
            response = self.http.post(f"{self.root}/{kind}.json", data=form, timeout=self.timeout)
        except requests.Timeout as exc:
            raise GatewayError("ambiguous", f"timeout: {exc}") from exc
        except requests.ConnectionError as exc:
            raise GatewayError("ambiguous", f"connection: {exc}") from exc
        data = response.json()
        if response.status_code == 201:
            return SendResult(sid=data["sid"], status=data["status"])
        code = data.get("code")
        if response.status_code == 429 or code == 20429:
            raise GatewayError("retryable", data.get("message", ""), code=code)
        if response.status_code >= 500:
            raise GatewayError("ambiguous", data.get("message", ""), code=code)
        kind_of = {21610: "opted_out", 21211: "bad_number", 21614: "bad_number"}.get(code, "failed")
        raise GatewayError(kind_of, data.get("message", ""), code=code)

    def send_sms(
        self, to: str, body: str, *, status_callback: str | None, validity_seconds: int | None
    ) -> SendResult:
        form = {"To": to, "From": self.sender, "Body": body}
        if validity_seconds:
            form["ValidityPeriod"] = str(validity_seconds)
        return self._create("Messages", form)

    def place_call(self, to: str, *, answer_url: str, status_callback: str | None) -> SendResult:
        return self._create("Calls", {"To": to, "From": self.sender, "Url": answer_url})

    def find_sent(self, to: str, body: str, since: datetime) -> SendResult | None:
        # date_created has whole seconds: compare from the start of ``since``'s second.
        floor = since.replace(microsecond=0) - timedelta(seconds=1)
        params = {"To": to, "DateSent>": since.date().isoformat()}
        response = self.http.get(f"{self.root}/Messages.json", params=params, timeout=self.timeout)
        response.raise_for_status()
        for message in response.json()["messages"]:
            created = parsedate_to_datetime(message["date_created"])
            if message["body"] == body and created >= floor:
                return SendResult(sid=message["sid"], status=message["status"])
        return None
