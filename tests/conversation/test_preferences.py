"""The confirmation asks about a designated technician and special services; the answers go on
the appointment and are acknowledged."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.models import Appointment, Customer, Outreach
from tests.conversation.conftest import Phone


def _booked(session: Session, customer: Customer) -> Appointment:
    return session.scalars(select(Appointment).where(Appointment.customer_id == customer.id)).one()


class TestAfterConfirmation:
    def test_named_technician_is_recorded(
        self, session: Session, offered: Outreach, phone: Phone, customer: Customer
    ) -> None:
        """ "要指定张师傅" after booking sets the designated technician and says so."""
        phone.text("1")
        reply = phone.text("要指定张师傅")
        assert reply.kind == "preference_noted" and "张师傅" in (reply.text or "")
        assert _booked(session, customer).designated_technician == "张师傅"

    def test_no_preference_clears_the_technician(
        self, session: Session, offered: Outreach, phone: Phone, customer: Customer
    ) -> None:
        """ "不用指定" clears the designated technician and is not read as a decline."""
        phone.text("1")
        phone.text("要指定张师傅")
        reply = phone.text("不用指定")
        assert reply.kind == "preference_noted" and "不指定" in (reply.text or "")
        appt = _booked(session, customer)
        assert appt.designated_technician is None and appt.status == "booked"

    def test_special_services_accumulate(
        self, session: Session, offered: Outreach, phone: Phone, customer: Customer
    ) -> None:
        """Two requests for services both end up on the appointment, once each."""
        phone.text("1")
        phone.text("要洗车")
        reply = phone.text("还要代步车")
        assert reply.kind == "preference_noted" and "代步车" in (reply.text or "")
        phone.text("要洗车")
        assert _booked(session, customer).special_services == "洗车、代步车"

    def test_english_customer(self, session: Session, conv_settings, offered_en) -> None:  # type: ignore[no-untyped-def]
        """An English customer's "I'd like Mr Zhang" and "courtesy car please" are recorded."""
        phone = Phone(session, conv_settings, offered_en.customer.phone)
        phone.text("1")
        assert "Mr Zhang" in (phone.text("I'd like Mr Zhang").text or "")
        assert "courtesy car" in (phone.text("courtesy car please").text or "")
        appt = _booked(session, offered_en.customer)
        assert (appt.designated_technician, appt.special_services) == ("Mr Zhang", "courtesy car")


class TestBeforeBooking:
    def test_preference_during_the_offer_goes_on_the_booking(
        self, session: Session, offered: Outreach, phone: Phone, customer: Customer
    ) -> None:
        """Asked for while slots are on offer, the wishes are kept and land on the appointment."""
        reply = phone.text("要洗车")
        assert reply.kind == "preference_noted" and "1." in (reply.text or "")
        phone.text("指定李师傅吧")
        phone.text("2")
        appt = _booked(session, customer)
        assert (appt.designated_technician, appt.special_services) == ("李师傅", "洗车")

    def test_car_wash_from_a_new_customer_starts_a_detailing_booking(
        self, session: Session, conv_settings
    ) -> None:  # type: ignore[no-untyped-def]
        """ "要洗车" with nothing booked is a passive booking for detailing."""
        reply = Phone(session, conv_settings, "+8613800009999").text("要洗车")
        assert reply.kind == "slot_options"
