"""records.situation: the one look-up an inbound reply starts with, against the four it merges."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from outreach.conversation import records
from outreach.models import Appointment, Customer, Outreach
from tests.conversation.conftest import NOW
from tests.factories import make_customer

PHONE = "+8613800002222"


def _outreach(session: Session, customer: Customer, status: str) -> Outreach:
    outreach = Outreach(
        customer_id=customer.id, status=status, channel="sms", campaign="inbound",
        planned_on=date(2026, 6, 2), context={}, created_at=NOW,
    )  # fmt: skip
    session.add(outreach)
    session.flush()
    return outreach


def _appointment(session: Session, customer: Customer, hours: int, status: str) -> Appointment:
    appt = Appointment(
        customer_id=customer.id, starts_at=NOW + timedelta(hours=hours), status=status
    )
    session.add(appt)
    session.flush()
    return appt


class TestSituation:
    def test_unknown_number_finds_nobody(self, session: Session) -> None:
        """A number nobody has gives no customer, conversation, appointment or earlier copy."""
        found = records.situation(session, PHONE, NOW, sid="SM" + "0" * 32, channel="sms")
        assert (found.customer, found.outreach, found.appointment, found.earlier) == (None,) * 4

    def test_finds_the_open_conversation_and_the_next_active_appointment(
        self, session: Session
    ) -> None:
        """Closed conversations, past and cancelled appointments are passed over."""
        customer = make_customer(session, phone=PHONE)
        _outreach(session, customer, "booked")
        open_one = _outreach(session, customer, "open")
        _appointment(session, customer, -2, "booked")
        _appointment(session, customer, 24, "cancelled")
        later = _appointment(session, customer, 72, "booked")
        sooner = _appointment(session, customer, 48, "booked")
        found = records.situation(session, PHONE, NOW, sid="SM" + "1" * 32, channel="sms")
        assert found.customer is customer
        assert found.outreach is open_one
        assert found.appointment is sooner is records.next_appointment(session, customer.id, NOW)
        assert later is not found.appointment
        assert found.earlier is None

    def test_a_customer_with_nothing_open(self, session: Session) -> None:
        """A known customer with no conversation and no appointment gets None for both."""
        customer = make_customer(session, phone=PHONE)
        _outreach(session, customer, "declined")
        found = records.situation(session, PHONE, NOW, sid="SM" + "2" * 32, channel="sms")
        assert (found.customer, found.outreach, found.appointment) == (customer, None, None)

    def test_the_newest_customer_of_a_shared_number(self, session: Session) -> None:
        """Two records share the number: the most recently created one answers, as find_customer."""
        make_customer(session, phone=PHONE, created_at=NOW - timedelta(days=9))
        newer = make_customer(session, phone=PHONE, created_at=NOW)
        found = records.situation(session, PHONE, NOW, sid="SM" + "3" * 32, channel="sms")
        assert found.customer is newer is records.find_customer(session, PHONE)

    def test_a_retried_message_is_recognised(self, session: Session) -> None:
        """The inbound message already recorded under the sid comes back as the earlier copy."""
        customer = make_customer(session, phone=PHONE)
        sid = "SM" + "4" * 32
        first = records.record(
            session, customer, None, direction="in", channel="sms", kind="unknown", body="hi",
            now=NOW, status="received", sid=sid,
        )  # fmt: skip
        session.flush()
        assert records.situation(session, PHONE, NOW, sid=sid, channel="sms").earlier is first
        assert records.situation(session, PHONE, NOW, sid=sid, channel="voice").earlier is None
        elsewhere = records.situation(session, "+8613800003333", NOW, sid=sid, channel="sms")
        assert elsewhere.earlier is first  # found even when the number is not on file


class TestSave:
    """records.save: a reply's changes to its conversation, written like a flush would."""

    def _stored(self, session: Session, outreach: Outreach) -> tuple:
        row = session.execute(
            select(
                records.OUTREACH.c.state, records.OUTREACH.c.context, records.OUTREACH.c.outcome
            ).where(records.OUTREACH.c.id == outreach.id)
        ).one()
        return tuple(row)

    def test_the_conversation_alone_is_written_with_one_update(self, session: Session) -> None:
        outreach = _outreach(session, make_customer(session, phone=PHONE), "open")
        session.refresh(outreach)  # every column loaded, as the situation look-up leaves it
        outreach.state = "offered"
        outreach.context = {"misses": 1}
        outreach.outcome = None  # set to what it was: not written
        statements: list[str] = []

        def seen(conn, cursor, sql, *rest) -> None:
            statements.append(sql)

        bind = session.connection()
        event.listen(bind, "before_cursor_execute", seen)
        try:
            records.save(session, outreach)
        finally:
            event.remove(bind, "before_cursor_execute", seen)
        assert len(statements) == 1 and statements[0].startswith("UPDATE outreach SET")
        assert "outcome" not in statements[0]
        assert not session.dirty
        assert self._stored(session, outreach) == ("offered", {"misses": 1}, None)

    def test_anything_else_changed_is_flushed_as_usual(self, session: Session) -> None:
        customer = make_customer(session, phone=PHONE)
        outreach = _outreach(session, customer, "open")
        outreach.context = {"misses": 2}
        customer.locale = "en"
        records.save(session, outreach)
        assert not session.dirty
        assert self._stored(session, outreach) == ("new", {"misses": 2}, None)
        stored = session.execute(
            select(Customer.__table__.c.locale).where(Customer.__table__.c.id == customer.id)
        ).scalar_one()
        assert stored == "en"

    def test_nothing_changed_writes_nothing(self, session: Session) -> None:
        outreach = _outreach(session, make_customer(session, phone=PHONE), "open")
        records.save(session, outreach)
        records.save(session, None)
        assert not session.dirty
