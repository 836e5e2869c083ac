"""Fixtures for the outbox tests: a recording gateway and a clock that only moves when told."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from outreach.gateway import GatewayError, SendResult
from outreach.scheduler import outbox_hooks
from outreach.settings import Sending, Settings


class FakeGateway:
    """Records every send; ``fail`` queues GatewayErrors to raise on the next sends."""

    name = "fake"

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.fail: list[GatewayError] = []
        self.lookup_error: Exception | None = None
        self.lock = threading.Lock()

    def _create(self, kind: str, to: str, body: str, at: datetime) -> SendResult:
        with self.lock:
            if self.fail:
                error = self.fail.pop(0)
                if error.kind != "ambiguous" or not getattr(error, "created", False):
                    raise error
                self.sent.append({"kind": kind, "to": to, "body": body, "at": at, "sid": "SMx"})
                raise error
            sid = f"{'CA' if kind == 'call' else 'SM'}{len(self.sent):032d}"
            self.sent.append({"kind": kind, "to": to, "body": body, "at": at, "sid": sid})
            return SendResult(sid=sid, status="queued")

    def send_sms(self, to, body, *, status_callback, validity_seconds):
        return self._create("sms", to, body, self.now())

    def place_call(self, to, *, answer_url, status_callback):
        return self._create("call", to, answer_url, self.now())

    def find_sent(self, to, body, since):
        if self.lookup_error is not None:
            raise self.lookup_error
        for m in self.sent:
            if m["kind"] == "sms" and m["to"] == to and m["body"] == body and m["at"] >= since:
                return SendResult(sid=m["sid"], status="sent")
        return None

    now = staticmethod(lambda: datetime(2000, 1, 1, tzinfo=UTC))


def ambiguous(created: bool) -> GatewayError:
    """A 5xx/timeout; ``created`` says whether the provider really made the message."""
    error = GatewayError("ambiguous", "20500 internal error", code=20500)
    error.created = created  # type: ignore[attr-defined]
    return error


@dataclass
class Clock:
    """A controlled clock: ``sleep`` moves it forward and records the wait."""

    now: datetime
    waits: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += timedelta(seconds=seconds)


# Wednesday 2025-06-04 10:00 in Shanghai: inside the default window.
OPEN_NOW = datetime(2025, 6, 4, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(OPEN_NOW)


@pytest.fixture
def gateway(clock: Clock) -> FakeGateway:
    gw = FakeGateway()
    gw.now = clock  # type: ignore[method-assign]
    return gw


@pytest.fixture
def settings(base_settings: Settings) -> Settings:
    return replace(
        base_settings,
        sending=Sending(rate_per_second=2.0, max_attempts=3, batch_size=10, lease_seconds=60),
    )


# What the entry points hand the outbox (the conversation's unanswered-call SMS).
HOOKS = outbox_hooks()
