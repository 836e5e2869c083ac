"""A sender outlives its database: its connections terminated mid-run, it logs one line,
backs off, reconnects and goes on; nothing is sent twice or lost."""

from __future__ import annotations

import collections
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from benchmarks.soak_dispatch import seed
from outreach.db import make_engine
from outreach.models import OutboxMessage
from tests.conftest import drop_postgres_schema, postgres_schema_url
from tests.fakes.cli_sender import sender_env, start_sender, write_config
from tests.fakes.twilio_standin import start_standin, stop_standin

MESSAGES = 120


@pytest.mark.slow
@pytest.mark.postgres
def test_sender_survives_pg_terminate_backend(tmp_path: Path) -> None:
    url = postgres_schema_url()
    engine = make_engine(url)
    server, standin, base = start_standin()
    name = f"drop-{tmp_path.name}"[:60]
    log = tmp_path / "sender.log"
    sender = None
    try:
        seed(engine, MESSAGES)
        config = write_config(tmp_path, rate_per_second=20, lease_seconds=10)
        sender = start_sender(sender_env(url, base, config, name), log, every=0.5)
        drops = 0
        give_up = time.monotonic() + 120
        while time.monotonic() < give_up:
            with engine.begin() as conn:
                left = conn.scalar(
                    select(func.count()).where(OutboxMessage.status.in_(["queued", "sending"]))
                )
                if drops < 2 and len(standin.created) >= 20 * (drops + 1):
                    killed = conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE application_name = :name"
                        ),
                        {"name": name},
                    ).all()
                    drops += bool(killed)
            if not left and drops == 2:
                break
            assert sender.poll() is None, log.read_text()
            time.sleep(0.2)
        assert drops == 2
        assert sender.poll() is None, "the sender exited"
        per_body = collections.Counter(c.body for c in standin.created)
        assert len(per_body) == MESSAGES and max(per_body.values()) == 1
        output = log.read_text()
        # A connection killed while idle is replaced by the pool's pre-ping without a word; one
        # killed inside a transaction is logged as "database unavailable" and retried.
        assert "Traceback" not in output, output
    finally:
        if sender is not None:
            sender.terminate()
            sender.wait(timeout=10)
        stop_standin(server)
        engine.dispose()
        drop_postgres_schema(url)
