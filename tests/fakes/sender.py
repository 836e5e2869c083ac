"""A sender process for the fault test and the benchmark: drain the outbox via the stand-in.

The gateway is the product's ``TwilioGateway`` with its API base URL set to the stand-in.

python -m tests.fakes.sender DATABASE_URL STANDIN_URL RATE [BATCH [hold]]

With ``hold`` the process prints its count, then waits for its standard input to close, so
the benchmark can read its CPU time (and its database backend's) from /proc before it exits.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from datetime import time as time_of_day

from sqlalchemy import func, select

from outreach.db import make_engine, make_sessionmaker
from outreach.models import OutboxMessage
from outreach.outbox import dispatch
from outreach.scheduler import outbox_hooks
from outreach.settings import ContactWindow, Sending, Settings
from outreach.twilio_gateway import TwilioGateway
from tests.fakes.twilio_standin import standin_settings


def sender_settings(rate: float, batch: int, base_url: str) -> Settings:
    """Settings for a sender against the stand-in at ``base_url``: always open, fast back-off."""
    sending = Sending(
        rate_per_second=rate, batch_size=batch, lease_seconds=30, backoff_base_seconds=0.05
    )
    always = ContactWindow(start=time_of_day(0), end=time_of_day(23, 59, 59), holidays=True)
    settings = replace(Settings(), sending=sending, contact_window=always)
    return standin_settings(settings, base_url)


def pending(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        query = select(func.count()).where(OutboxMessage.status == "queued")
        return session.scalar(query) or 0


def main(argv: list[str]) -> int:
    url, base, rate = argv[0], argv[1], float(argv[2])
    batch = int(argv[3]) if len(argv) > 3 else 10
    settings = sender_settings(rate, batch, base)
    sessions = make_sessionmaker(make_engine(url))
    gateway = TwilioGateway(settings)
    claimed = 0
    while True:  # until nothing is queued: rows backing off come due again shortly
        stats = dispatch(
            sessions,
            gateway,
            settings,
            worker=f"sender-{os.getpid()}",
            clock=lambda: datetime.now(UTC),
            sleep=time.sleep,
            hooks=outbox_hooks(),
        )
        claimed += stats.claimed
        if stats.paused_until is not None:
            time.sleep(max((stats.paused_until - datetime.now(UTC)).total_seconds(), 0.05))
        if not pending(sessions):
            break
        time.sleep(0.05)
    print(f"claimed {claimed}", flush=True)
    if len(argv) > 4 and argv[4] == "hold":
        sys.stdin.read()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
