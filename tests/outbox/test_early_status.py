"""A status callback that beats the outbox's record of the SID is kept and applied, not lost."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from outreach import delivery as events
from outreach.db import make_sessionmaker, transaction
from outreach.models import CallbackRequest, ContactAttempt, Customer, Outreach, PendingStatus
from outreach.outbox import claim_batch, record, recover_stuck, send
from tests.factories import make_customer
from tests.outbox.conftest import HOOKS, OPEN_NOW
from tests.outbox.test_outbox import queue

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def send_one(session, settings, gateway, **kw):  # type: ignore[no-untyped-def]
    """Queue and claim one row and send it; (claim, outcome) before anything is recorded."""
    queue(session, settings, **kw)
    (claim,) = claim_batch(session, settings, worker="w", now=OPEN_NOW, holidays=())
    return claim, send(gateway, claim, settings)


def callback(session, sid: str, status: str, code: int | None = None, **kw) -> str:  # type: ignore[no-untyped-def]
    return events.record_status(
        session, sid=sid, status=status, error_code=code, now=OPEN_NOW, **kw
    )


def attempt_of(session, sid: str) -> ContactAttempt:  # type: ignore[no-untyped-def]
    return session.scalars(select(ContactAttempt).where(ContactAttempt.provider_sid == sid)).one()


class TestEarlyStatus:
    def test_unknown_sid_is_kept_pending(self, session, settings, gateway):
        """A callback for a SID not recorded yet is stored, not dropped."""
        _claim, outcome = send_one(session, settings, gateway)
        assert callback(session, outcome.sid, "delivered") == "pending"
        assert session.scalars(select(PendingStatus.status)).all() == ["delivered"]

    def test_record_applies_the_pending_status(self, session, settings, gateway):
        """Recording the SID applies the earlier "delivered" to its attempt and forgets it."""
        claim, outcome = send_one(session, settings, gateway)
        callback(session, outcome.sid, "sent")
        callback(session, outcome.sid, "delivered")
        assert record(session, settings, claim, outcome, now=OPEN_NOW, hooks=HOOKS) == "sent"
        assert attempt_of(session, outcome.sid).status == "delivered"
        assert session.scalar(select(func.count()).select_from(PendingStatus)) == 0

    def test_pending_carrier_opt_out_opts_the_customer_out(self, session, settings, gateway):
        """An early 21610 still opts the customer out once the SID is recorded."""
        claim, outcome = send_one(session, settings, gateway)
        callback(session, outcome.sid, "failed", 21610)
        record(session, settings, claim, outcome, now=OPEN_NOW, hooks=HOOKS)
        customer = session.get(Customer, claim.customer_id)
        assert customer.opted_out_at is not None

    def test_pending_bad_number_reaches_an_advisor(self, session, settings, gateway):
        """An early undelivered 30005 puts the customer in the callback queue at record time."""
        claim, outcome = send_one(session, settings, gateway)
        callback(session, outcome.sid, "undelivered", 30005)
        record(session, settings, claim, outcome, now=OPEN_NOW, hooks=HOOKS)
        assert session.scalars(select(CallbackRequest.reason)).all() == ["bad_number"]

    def test_recovery_applies_pending_status_too(self, session, settings, gateway):
        """A row settled by recovery (found at the provider) gets its early status as well."""
        _claim, outcome = send_one(session, settings, gateway)
        callback(session, outcome.sid, "delivered")
        later = OPEN_NOW + timedelta(seconds=settings.sending.lease_seconds + 1)
        assert recover_stuck(session, gateway, settings, later, hooks=HOOKS)["sent"] == 1
        assert attempt_of(session, outcome.sid).status == "delivered"

    def test_unanswered_call_gets_its_fallback_when_recorded(self, session, settings, gateway):
        """An early "no-answer" for a call runs the SMS fallback once the call is recorded."""
        customer = make_customer(session)
        outreach = Outreach(customer_id=customer.id, campaign="m", planned_on=OPEN_NOW.date())
        session.add(outreach)
        session.flush()
        _claim, outcome = send_one(
            session, settings, gateway, customer=customer, channel="voice", outreach_id=outreach.id
        )
        callback(session, outcome.sid, "no-answer")
        seen = []
        # The outbox calls apply_pending with the conversation's handler; pass a probe here.
        events.lock_sid(session, outcome.sid)
        session.add(
            ContactAttempt(
                customer_id=customer.id, outreach_id=outreach.id, at=OPEN_NOW, channel="voice",
                direction="out", kind="offer", provider_sid=outcome.sid,
            )
        )  # fmt: skip
        events.apply_pending(
            session, settings, outcome.sid, OPEN_NOW,
            call_unanswered=lambda s, st, o, **kw: seen.append((o.id, kw["status"])),
        )  # fmt: skip
        assert seen == [(outreach.id, "no-answer")]

    def test_unmatched_statuses_are_pruned_after_a_day(self, session, settings, gateway):
        """A callback whose SID never appears is forgotten by the recovery job's prune."""
        callback(session, "SM" + "f" * 32, "delivered")
        assert events.prune_pending(session, OPEN_NOW + timedelta(hours=23)) == 0
        assert events.prune_pending(session, OPEN_NOW + timedelta(days=1, seconds=1)) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("committing_engine", ["postgresql"], indirect=True)
def test_callback_during_an_open_record_waits_and_applies(committing_engine, settings, gateway):
    """A callback arriving while the record transaction is open waits for it, then applies."""
    sessions = make_sessionmaker(committing_engine)
    with transaction(sessions) as s:
        claim, outcome = send_one(s, settings, gateway)
    results: list[str] = []
    recorder = sessions()
    recorder.begin()
    record(recorder, settings, claim, outcome, now=OPEN_NOW, hooks=HOOKS)  # not committed yet

    def callback_request() -> None:
        with transaction(sessions) as s:
            results.append(callback(s, outcome.sid, "delivered"))

    thread = threading.Thread(target=callback_request)
    thread.start()
    waiting = "select count(*) from pg_locks where locktype = 'advisory' and not granted"
    with committing_engine.connect() as watch:
        while not watch.execute(text(waiting)).scalar() and thread.is_alive():
            watch.rollback()  # a fresh snapshot of pg_locks on each look
    recorder.commit()
    recorder.close()
    thread.join()
    assert results == ["delivered"]
    with sessions() as s:
        assert attempt_of(s, outcome.sid).status == "delivered"
