"""The handled-once row, and the transcript line that waits to go in with it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from outreach import handled_once
from outreach.conversation import records
from outreach.models import ContactAttempt, Customer, Outreach, WebhookEvent

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def _customer(session: Session) -> Customer:
    customer = Customer(external_id="H1", name="Ho", phone="+8613900000099", consent=True)
    session.add(customer)
    session.flush()
    return customer


def _lines(session: Session, customer: Customer) -> list[tuple[str, str | None]]:
    rows = session.execute(
        select(ContactAttempt.direction, ContactAttempt.body)
        .where(ContactAttempt.customer_id == customer.id)
        .order_by(ContactAttempt.id)
    )
    return [(d, b) for d, b in rows]


def test_a_line_written_last_goes_in_with_the_handled_once_row(session: Session) -> None:
    customer = _customer(session)
    handled_once.answer_last(session)
    records.write(session, customer, None, direction="in", channel="sms", kind="x", body="hi",
                  now=NOW, sid="SMa")  # fmt: skip
    records.write(session, customer, None, direction="out", channel="sms", kind="y", body="yo",
                  now=NOW, last=True)  # fmt: skip
    assert _lines(session, customer) == [("in", "hi")]  # the answer waits for the row
    handled_once.record_answer(session, "sms:SMa", NOW, "<Response/>")
    assert _lines(session, customer) == [("in", "hi"), ("out", "yo")]
    assert handled_once.replay(session, "sms:SMa") == "<Response/>"


def test_without_answer_last_a_line_is_written_at_once(session: Session) -> None:
    customer = _customer(session)
    records.write(session, customer, None, direction="out", channel="sms", kind="y", body="yo",
                  now=NOW, last=True)  # fmt: skip
    assert _lines(session, customer) == [("out", "yo")]


def test_a_duplicate_fails_with_its_line(session: Session) -> None:
    customer = _customer(session)
    handled_once.record_answer(session, "sms:SMb", NOW, "first")
    savepoint = session.begin_nested()
    handled_once.answer_last(session)
    records.write(session, customer, None, direction="out", channel="sms", kind="y", body="yo",
                  now=NOW, last=True)  # fmt: skip
    with pytest.raises(IntegrityError):
        handled_once.record_answer(session, "sms:SMb", NOW, "second")
    savepoint.rollback()
    assert _lines(session, customer) == []
    assert session.scalars(select(WebhookEvent.answer)).all() == ["first"]


def test_the_conversation_saved_last_goes_in_with_the_handled_once_row(session: Session) -> None:
    customer = _customer(session)
    outreach = Outreach(customer_id=customer.id, campaign="c", planned_on=NOW.date(), state="a")
    session.add(outreach)
    session.flush()
    stored = select(Outreach.state, Outreach.context).where(Outreach.id == outreach.id)
    handled_once.answer_last(session)
    outreach.state = "b"
    outreach.context = {"misses": 1}
    records.save(session, outreach, last=True)
    records.write(session, customer, outreach, direction="out", channel="sms", kind="y",
                  body="yo", now=NOW, last=True)  # fmt: skip
    assert not session.dirty  # saved as far as the session knows; written with the row
    assert tuple(session.execute(stored).one()) == ("a", {})
    handled_once.record_answer(session, "sms:SMc", NOW, "<Response/>")
    assert tuple(session.execute(stored).one()) == ("b", {"misses": 1})
    assert _lines(session, customer) == [("out", "yo")]


def test_a_commit_that_would_lose_held_back_writes_is_refused(session: Session) -> None:
    """An entry point that held writes back and committed without the handled-once row would
    lose them: the commit is refused instead."""
    customer = _customer(session)
    handled_once.answer_last(session)
    records.write(session, customer, None, direction="out", channel="sms", kind="y", body="yo",
                  now=NOW, last=True)  # fmt: skip
    with pytest.raises(handled_once.WritesLost):
        session.commit()


def test_a_savepoint_inside_the_transaction_does_not_count_as_its_end(session: Session) -> None:
    """Released savepoints (the outbox queues a message under one) leave the held-back writes
    waiting for the handled-once row, which then writes them."""
    customer = _customer(session)
    handled_once.answer_last(session)
    records.write(session, customer, None, direction="out", channel="sms", kind="y", body="yo",
                  now=NOW, last=True)  # fmt: skip
    with session.begin_nested():
        pass
    assert _lines(session, customer) == []
    handled_once.record_answer(session, "sp-1", NOW, "yo")
    assert _lines(session, customer) == [("out", "yo")]


def test_writes_waiting_can_be_written_at_once(session: Session) -> None:
    """An effect that reads the conversation after it answered writes what waited first."""
    customer = _customer(session)
    handled_once.answer_last(session)
    records.write(session, customer, None, direction="out", channel="sms", kind="y", body="yo",
                  now=NOW, last=True)  # fmt: skip
    handled_once.write_waiting(session)
    assert _lines(session, customer) == [("out", "yo")]
    handled_once.record_answer(session, "ww-1", NOW, "yo")
    assert _lines(session, customer) == [("out", "yo")]
