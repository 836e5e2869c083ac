"""The callback queue pages: list, claim, outcome, booking from the entry."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from outreach.accounts import add_user
from outreach.models import Appointment, CallbackRequest, ContactAttempt
from tests.desk.conftest import NOW, PASSWORD, Desk, make_callback
from tests.factories import make_customer, make_item, make_vehicle, make_visit


def _entry(db, **overrides):
    customer = make_customer(db, name="张伟")
    vehicle = make_vehicle(db, customer, plate="沪B77777")
    visit = make_visit(db, vehicle, NOW.date() - timedelta(days=100), 42000)
    make_item(db, vehicle, NOW.date() + timedelta(days=20), visit_id=visit.id)
    db.add(
        ContactAttempt(
            customer_id=customer.id,
            at=NOW - timedelta(hours=2),
            channel="sms",
            direction="in",
            kind="reply",
            body="请给我打电话",
        )
    )
    callback = make_callback(db, customer, **overrides)
    db.commit()
    return callback, vehicle


class TestList:
    def test_shows_waiting_entries_with_reason(self, desk_client, db):
        """The queue lists the customer, the translated reason and the age against the target."""
        _entry(db)
        page = desk_client.client.get("/queue/").get_data(as_text=True)
        assert "张伟" in page
        assert "客户要求回电" in page
        assert "1 小时 / 目标响应 2 小时" in page

    def test_overdue_entries_are_marked(self, desk_client, db):
        """A complaint waiting longer than 30 minutes is marked overdue."""
        _entry(db, reason="complaint")
        assert "已超时" in desk_client.client.get("/queue/").get_data(as_text=True)


class TestDetail:
    def test_shows_transcript_and_customer_file(self, desk_client, db):
        """The entry page shows the SMS transcript, the vehicle, its visits and deferred work."""
        callback, _ = _entry(db)
        page = desk_client.client.get(f"/queue/{callback.id}").get_data(as_text=True)
        assert "请给我打电话" in page
        assert "沪B77777" in page
        assert "42,000 km" in page
        assert "后刹车片" in page

    def test_unknown_entry_is_404(self, desk_client):
        """An entry that does not exist answers 404."""
        assert desk_client.client.get("/queue/999").status_code == 404


class TestClaim:
    def test_claim_assigns_the_entry(self, desk_client, db, advisor_user):
        """Claiming marks the entry as claimed by the signed-in advisor."""
        callback, _ = _entry(db)
        desk_client.post(f"/queue/{callback.id}/claim")
        db.expire_all()
        row = db.get(CallbackRequest, callback.id)
        assert (row.status, row.claimed_by) == ("claimed", advisor_user.id)

    def test_second_advisor_is_told_it_is_taken(self, desk_client, db, app):
        """A second advisor claiming the same entry is told another advisor was first."""
        callback, _ = _entry(db)
        add_user(db, "li", PASSWORD)
        db.commit()
        desk_client.post(f"/queue/{callback.id}/claim")
        other = Desk(app.test_client())
        other.login("li")
        page = other.post(f"/queue/{callback.id}/claim", follow_redirects=True)
        assert "已被其他顾问认领" in page.get_data(as_text=True)


class TestOutcome:
    def test_outcome_closes_the_entry(self, desk_client, db):
        """Recording "declined" closes the entry and writes a note to the transcript."""
        callback, _ = _entry(db)
        desk_client.post(f"/queue/{callback.id}/claim")
        desk_client.post(
            f"/queue/{callback.id}/outcome", {"outcome": "declined", "note": "下月再说"}
        )
        db.expire_all()
        assert db.get(CallbackRequest, callback.id).status == "done"
        kinds = db.scalars(select(ContactAttempt.kind)).all()
        assert "callback_declined" in kinds

    def test_outcome_needs_a_claim(self, desk_client, db):
        """An outcome on an unclaimed entry is refused and changes nothing."""
        callback, _ = _entry(db)
        desk_client.post(f"/queue/{callback.id}/outcome", {"outcome": "declined"})
        db.expire_all()
        assert db.get(CallbackRequest, callback.id).status == "open"

    def test_call_again_moves_the_entry_to_later(self, desk_client, db):
        """ "Call again at" reopens the entry under "call again later" at the local time given."""
        callback, _ = _entry(db)
        desk_client.post(f"/queue/{callback.id}/claim")
        desk_client.post(
            f"/queue/{callback.id}/outcome",
            {"outcome": "call_again", "call_again_at": "2025-03-11T15:00"},
        )
        db.expire_all()
        row = db.get(CallbackRequest, callback.id)
        assert row.status == "open"
        assert row.call_again_at == NOW.replace(day=11, hour=7)  # 15:00 Shanghai
        db.rollback()  # end the read: SQLite's BEGIN IMMEDIATE would hold the write lock
        assert "稍后回电" in desk_client.client.get("/queue/").get_data(as_text=True)

    def test_call_again_needs_a_time(self, desk_client, db):
        """ "Call again" without a time is refused with a message naming the field."""
        callback, _ = _entry(db)
        desk_client.post(f"/queue/{callback.id}/claim")
        page = desk_client.post(
            f"/queue/{callback.id}/outcome", {"outcome": "call_again"}, follow_redirects=True
        ).get_data(as_text=True)
        assert "call_again_at" in page


class TestBook:
    def test_booking_creates_the_appointment_and_closes_the_entry(self, desk_client, db):
        """Booking from the entry records an appointment for the advisor and closes as booked."""
        callback, vehicle = _entry(db)
        desk_client.post(f"/queue/{callback.id}/claim")
        desk_client.post(
            f"/queue/{callback.id}/book",
            {"vehicle_id": str(vehicle.id), "jobs": "maintenance", "starts_at": "2025-03-11T09:30"},
        )
        db.expire_all()
        appointment = db.scalars(select(Appointment)).one()
        assert appointment.vehicle_id == vehicle.id
        assert appointment.starts_at == NOW.replace(day=11, hour=1, minute=30)
        assert appointment.source == "advisor"
        assert appointment.advisor is not None  # chosen by the capacity rules
        row = db.get(CallbackRequest, callback.id)
        assert (row.status, row.outcome) == ("done", "booked")

    def test_offered_slot_books_its_advisor(self, desk_client, db):
        """An offered slot carries its advisor, who receives the car."""
        callback, vehicle = _entry(db)
        page = desk_client.client.get(f"/queue/{callback.id}")
        desk_client.post(f"/queue/{callback.id}/claim")
        page = desk_client.client.get(f"/queue/{callback.id}").get_data(as_text=True)
        value = re.search(r'<option value="([^"]+@\d+)"', page).group(1)
        desk_client.post(
            f"/queue/{callback.id}/book",
            {"vehicle_id": str(vehicle.id), "jobs": "maintenance", "starts_at": value},
        )
        db.expire_all()
        appointment = db.scalars(select(Appointment)).one()
        assert appointment.advisor_id == int(value.partition("@")[2])

    def test_booking_needs_a_claim(self, desk_client, db):
        """Booking on an entry the advisor has not claimed books nothing."""
        callback, vehicle = _entry(db)
        desk_client.post(
            f"/queue/{callback.id}/book",
            {"vehicle_id": str(vehicle.id), "starts_at": "2025-03-11T09:30"},
        )
        assert db.scalars(select(Appointment)).all() == []

    def test_booking_someone_elses_vehicle_is_refused(self, desk_client, db):
        """A vehicle that is not the customer's cannot be booked."""
        callback, _ = _entry(db)
        stranger = make_vehicle(db)
        db.commit()
        desk_client.post(f"/queue/{callback.id}/claim")
        desk_client.post(
            f"/queue/{callback.id}/book",
            {"vehicle_id": str(stranger.id), "starts_at": "2025-03-11T09:30"},
        )
        assert db.scalars(select(Appointment)).all() == []


def test_times_are_the_dealership_s_and_a_far_customer_s_is_labelled(desk_client, db):
    """Filed at 01:57 UTC reads 09:57 (Shanghai) on the entry and in the API; a customer in Los
    Angeles also gets their own local time, named."""
    customer = make_customer(db, name="Ann Lee", timezone="America/Los_Angeles")
    callback = make_callback(db, customer, created_at=NOW.replace(hour=1, minute=57))
    db.commit()
    page = desk_client.client.get(f"/queue/{callback.id}").get_data(as_text=True)
    assert "2025-03-10 周一 09:57" in page and "01:57" not in page
    assert re.search(r'id="customer-time">03-09 周日 19:00 \(America/Los_Angeles\)', page)
    api = desk_client.client.get("/api/callbacks").json
    assert api["callbacks"][0]["created_at"] == "2025-03-10T09:57:00+08:00"


def test_a_customer_who_keeps_to_texts_is_shown_so_on_the_entry(desk_client, db):
    """ "别打电话，短信联系就行": the advisor sees, before calling, that the customer asked for
    texts only; a customer who keeps to neither shows nothing."""
    texts_only = make_customer(db, name="李雷", only_channel="sms")
    either = make_customer(db, name="韩梅梅")
    first, second = make_callback(db, texts_only), make_callback(db, either)
    db.commit()
    page = desk_client.client.get(f"/queue/{first.id}").get_data(as_text=True)
    assert re.search(r'id="only-channel">.*只发短信，勿打电话', page)
    assert 'id="only-channel"' not in desk_client.client.get(f"/queue/{second.id}").get_data(
        as_text=True
    )
