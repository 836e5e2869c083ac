"""A sender killed mid-batch (SIGKILL) loses nothing and doubles nothing after recovery."""

from __future__ import annotations

import collections
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from outreach.db import Base, make_engine, make_sessionmaker, transaction
from outreach.models import CallbackRequest, OutboxMessage
from outreach.outbox import enqueue, recover_stuck
from outreach.twilio_gateway import TwilioGateway
from tests.factories import make_customer
from tests.fakes.sender import sender_settings
from tests.fakes.twilio_standin import start_standin, stop_standin
from tests.outbox.conftest import HOOKS

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 200


def run_sender(url: str, base: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.sender", url, base, "200", "10"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.slow
def test_sigkill_mid_batch_then_recovery_sends_each_message_once(tmp_path: Path) -> None:
    """Every queued message ends up sent exactly once at the provider, or with an advisor."""
    server, standin, base = start_standin()
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    sessions = make_sessionmaker(engine)
    settings = sender_settings(200, 10, base)
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        for n in range(MESSAGES):
            customer = make_customer(session)
            enqueue(
                session,
                settings,
                customer=customer,
                channel="sms",
                body=f"message {n}",
                idempotency_key=f"fault:{n}",
                now=now,
                holidays=(),
            )
    # Two refusals, one 5xx after creation, then message 81 is created and its answer held:
    # the sender is killed while it waits, the classic "sent but not recorded" crash.
    standin.fail_next = [429, 429, 500]
    standin.hold_after = 80
    try:
        first = run_sender(url, base, tmp_path / "first.log")
        deadline = time.monotonic() + 15
        while standin.count() <= 80 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert standin.count() == 81, (tmp_path / "first.log").read_text()
        first.kill()  # SIGKILL: no cleanup, rows stay "sending"
        first.wait()
        standin.hold_after = None
        standin.released.set()

        with transaction(sessions) as session:
            stuck = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "sending"))
            assert len(stuck.all()) >= 1
        # The sender is dead, so a one-second lease is safe here (in production the lease
        # must outlast the gateway's HTTP timeout).
        time.sleep(1.1)
        short_lease = replace(settings, sending=replace(settings.sending, lease_seconds=1))
        with transaction(sessions) as session:
            counts = recover_stuck(
                session, TwilioGateway(short_lease), short_lease, datetime.now(UTC), hooks=HOOKS
            )
        assert counts["sent"] >= 1  # the held message was found at the provider
        # Found through the SDK's paged list, as in production.
        assert any(method == "GET" for method, _ in standin.requests)

        second = run_sender(url, base, tmp_path / "second.log")
        assert second.wait(timeout=30) == 0, (tmp_path / "second.log").read_text()
    finally:
        stop_standin(server)
        engine.dispose()

    with sessions() as session:
        rows = session.scalars(select(OutboxMessage)).all()
        handed = {c.detail for c in session.scalars(select(CallbackRequest))}
    delivered = collections.Counter(c.body for c in standin.created)
    sid_of = {c.body: c.sid for c in standin.created}
    assert len(rows) == MESSAGES
    assert [b for b, k in delivered.items() if k > 1] == []  # none doubled
    for row in rows:
        if row.status == "sent":
            assert delivered[row.body] == 1 and row.provider_sid == sid_of[row.body]
        else:  # none lost: anything not sent is with an advisor
            assert row.status == "handed_off", (row.id, row.status, row.last_error)
            assert any(f"outbox #{row.id} " in (d or "") for d in handed)
