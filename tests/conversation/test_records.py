"""records.situation: the one look-up an inbound reply starts with, against the four it merges."""

from __future__ import annotations

from datetime import date, timedelta

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
