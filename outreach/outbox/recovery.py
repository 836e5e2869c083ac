"""The crash rule: rows left "sending" past their lease are settled by asking the provider.

A sender can die between its claim and its record.  A row still "sending" when
``claimed_at + lease_seconds`` has passed (its claimer no longer sends it: see
``outbox.claim``) is looked up at the provider for a message to the same number with the
same body since its claim (or since an earlier unresolved send).  Found: the row is marked
sent with that SID.  Not found: creation at Twilio is synchronous, so the message was never
created and the row is requeued, once.  The provider unreachable: the row is left as it is
and recovery stops until the provider answers (the breaker counts it).  A call (calls cannot
be looked up) or a row stuck again after its requeue is "handed_off": an advisor gets a
callback request and nothing is resent automatically.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.gateway import Gateway, SendResult
from outreach.models import OutboxMessage
from outreach.outbox import breaker
from outreach.outbox.record import Hooks, finish, hand_off, mark_sent
from outreach.outbox.sending import Unreachable, find_sent
from outreach.settings import Settings


def recover_stuck(
    session: Session, gateway: Gateway, settings: Settings, now: datetime, *, hooks: Hooks
) -> dict[str, int]:
    """Settle rows left "sending" past the lease by asking the provider (the crash rule)."""
    counts = {"sent": 0, "requeued": 0, "handed_off": 0, "waiting": 0}
    if breaker.gate(session, now, probe=False).blocked:
        return counts
    cutoff = now - timedelta(seconds=settings.sending.lease_seconds)
    stuck = session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == "sending", OutboxMessage.claimed_at < cutoff)
        .order_by(OutboxMessage.id)
    ).all()
    for done, row_id in enumerate(stuck):
        row = session.get(OutboxMessage, row_id, with_for_update=True, populate_existing=True)
        if row is None or row.status != "sending" or row.claimed_at is None:
            continue  # settled meanwhile by its sender or another recovery
        since = min(row.lookup_since or row.claimed_at, row.claimed_at)
        try:
            found = find_sent(gateway, row.channel, row.to, row.body, since)
        except Unreachable as exc:
            breaker.failure(session, now, f"recovery look-up: {exc}")
            counts["waiting"] = len(stuck) - done
            break
        if isinstance(found, SendResult):
            mark_sent(session, settings, row, found.sid, found.status, now, hooks)
            counts["sent"] += 1
        elif found is None and row.recovered == 0:
            finish(
                session,
                row,
                "queued",
                "recovered: sender stopped before recording; the provider has no such message",
                recovered=row.recovered + 1,
                next_attempt_at=now,
                claimed_by=None,
                lookup_since=None,
            )
            counts["requeued"] += 1
        else:
            why = found if isinstance(found, str) else "stuck again after one requeue"
            detail = f"sender stopped mid-send; {why}"
            hand_off(session, row, "send_unknown", detail, now)
            finish(session, row, "handed_off", detail)
            counts["handed_off"] += 1
    return counts
