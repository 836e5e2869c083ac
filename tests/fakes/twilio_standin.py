"""A local HTTP stand-in for Twilio's Messages and Calls create + list endpoints.

Bound to 127.0.0.1 on a free port; records every request; can answer 429 / 500, or hold a
response (the message is created, the answer never arrives: the crash window) on demand.
Faults for the reliability suite: :func:`fail_5xx_for` (every request answers 500 for a
while, and every other send is created before its 500: the ambiguous case) and
:func:`refuse_connections_for` (the port is closed and open connections are reset).
The product's own ``TwilioGateway`` talks to it through ``TWILIO_API_BASE_URL``
(:func:`standin_settings`), so the fault test and the benchmark exercise the real SDK calls:
create (``POST …/Messages.json``, ``…/Calls.json``) and the paged list the crash rule uses
(``GET …/Messages.json?To=…&DateSent>=…&PageSize=…`` with Twilio's paging fields).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from outreach.settings import Settings, TwilioSettings

API = "/2010-04-01/Accounts/"
ACCOUNT = "AC" + "5" * 32
TOKEN = "standin-auth-token"
SENDER = "+15005550006"


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
    failing_until: float = 0.0  # time.monotonic() until which every request answers 500
    failed_sends: int = 0  # sends answered 500 during a 5xx burst
    connections: set[Any] = field(default_factory=set)  # open client sockets
    server: Any = None  # the server currently listening (a refusal replaces it)

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

    def setup(self) -> None:
        super().setup()
        with self.server.state.lock:
            self.server.state.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.state.lock:
            self.server.state.connections.discard(self.connection)
        super().finish()

    def _bursting(self) -> bool:
        return time.monotonic() < self.server.state.failing_until

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
        raw = self.rfile.read(length)
        if len(raw) < length:  # the client died mid-request: Twilio creates nothing
            return None
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        with state.lock:
            state.requests.append(("POST", self.path))
            status = state.fail_next.pop(0) if state.fail_next else None
            if status is None and self._bursting():
                state.failed_sends += 1
                if state.failed_sends % 2:  # not created: a 500 before the message exists
                    return self._answer(500, {"code": 20500, "message": "Internal Server Error"})
                status = 500  # created, then answered 500
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
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with state.lock:
            state.requests.append(("GET", self.path))
            items = [c for c in state.created if c.kind == kind]
        if self._bursting():
            return self._answer(500, {"code": 20500, "message": "Internal Server Error"})
        if kind is None:
            return self._answer(404, {"code": 20404, "message": "not found"})
        if "To" in query:
            items = [c for c in items if c.to == query["To"]]
        if "DateSent>" in query:  # Twilio filters by day
            day = datetime.fromisoformat(query["DateSent>"]).date()
            items = [c for c in items if c.created.date() >= day]
        items.reverse()  # Twilio lists newest first
        size = int(query.get("PageSize", 50))
        page = int(query.get("Page", 0))
        chunk = items[page * size : (page + 1) * size]
        more = (page + 1) * size < len(items)
        following = {**query, "Page": str(page + 1), "PageSize": str(size)}
        key = "messages" if kind == "Messages" else "calls"
        self._answer(
            200,
            {
                key: [_resource(c) for c in chunk],
                "uri": self.path,
                "first_page_uri": f"{parts.path}?{urlencode({**query, 'Page': '0'})}",
                "next_page_uri": f"{parts.path}?{urlencode(following)}" if more else None,
                "previous_page_uri": None,
                "page": page,
                "page_size": size,
                "start": page * size,
                "end": page * size + max(len(chunk) - 1, 0),
            },
        )


def _resource(item: Created) -> dict[str, Any]:
    return {
        "sid": item.sid,
        "account_sid": ACCOUNT,
        "to": item.to,
        "from": SENDER,
        "body": item.body,
        "status": "queued",
        "direction": "outbound-api",
        "date_created": format_datetime(item.created, usegmt=True),  # RFC 2822, whole seconds
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: StandIn

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client killed mid-request (the fault test's point) breaks the pipe: not an error.
        pass


def _serve(state: StandIn, port: int = 0) -> _Server:
    server = _Server(("127.0.0.1", port), _Handler)
    server.state = state
    state.server = server
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def start_standin() -> tuple[_Server, StandIn, str]:
    """Start the stand-in in a thread; returns (server, state, base URL)."""
    server = _serve(StandIn())
    host, port = server.server_address[:2]
    return server, server.state, f"http://{host}:{port}"


def stop_standin(server: _Server) -> None:
    state = server.state
    state.released.set()
    current = state.server or server
    current.shutdown()
    current.server_close()


def fail_5xx_for(state: StandIn, seconds: float) -> None:
    """Every request answers 500 for ``seconds``; every other send is created first."""
    state.failing_until = time.monotonic() + seconds


def refuse_connections_for(state: StandIn, seconds: float) -> threading.Thread:
    """Close the port and reset open connections for ``seconds``, then listen again."""
    server = state.server
    port = server.server_address[1]
    server.shutdown()
    server.server_close()
    with state.lock:
        for sock in list(state.connections):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def reopen() -> None:
        time.sleep(seconds)
        _serve(state, port)

    thread = threading.Thread(target=reopen, daemon=True)
    thread.start()
    return thread


def standin_settings(settings: Settings, base_url: str, *, timeout: float = 10.0) -> Settings:
    """``settings`` with Twilio credentials whose API base URL is the stand-in at ``base_url``."""
    config = TwilioSettings(
        ACCOUNT, TOKEN, SENDER, None, api_base_url=base_url, http_timeout_seconds=timeout
    )
    return replace(settings, twilio=config)
