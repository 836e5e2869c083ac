"""Customer text is always shown escaped, never rendered as HTML."""

from __future__ import annotations

from datetime import timedelta

from outreach.models import Appointment, AppointmentJob, ContactAttempt
from tests.desk.conftest import NOW, make_callback
from tests.factories import make_customer, make_vehicle

HOSTILE = '<script>alert("x")</script>'


def _hostile(db):
    customer = make_customer(db, name=HOSTILE, notes=f"<img src=x onerror=alert(1)>{HOSTILE}")
    vehicle = make_vehicle(db, customer, plate="<b>plate</b>")
    db.add(
        ContactAttempt(
            customer_id=customer.id,
            at=NOW - timedelta(minutes=5),
            channel="sms",
            direction="in",
            kind="reply",
            body=f"明天可以 {HOSTILE}",
        )
    )
    callback = make_callback(db, customer, detail=HOSTILE)
    db.add(
        Appointment(
            customer_id=customer.id,
            vehicle_id=vehicle.id,
            starts_at=NOW + timedelta(hours=2),
            faults_reported=HOSTILE,
            special_services=HOSTILE,
            notes=f"<img src=x onerror=alert(1)>{HOSTILE}",
            confirmed_at=NOW,
            jobs=[AppointmentJob(job_code="x", description=HOSTILE, labour_hours=1, price=0)],
        )
    )
    db.commit()
    return callback


class TestEscaping:
    def _check(self, page: str) -> None:
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "&lt;script&gt;alert(" in page

    def test_queue_escapes_names(self, desk_client, db):
        """A name and detail holding a script tag appear as text in the queue."""
        _hostile(db)
        self._check(desk_client.client.get("/queue/").get_data(as_text=True))

    def test_entry_escapes_sms_body_and_notes(self, desk_client, db):
        """An SMS body, customer notes and a plate with markup appear as text on the entry."""
        callback = _hostile(db)
        page = desk_client.client.get(f"/queue/{callback.id}").get_data(as_text=True)
        self._check(page)
        assert "<b>plate</b>" not in page

    def test_board_escapes_appointment_text(self, desk_client, db):
        """Faults, jobs, special services and notes with markup appear as text on the board
        (which also shows the notes and that the customer confirmed)."""
        _hostile(db)
        page = desk_client.client.get("/board/").get_data(as_text=True)
        self._check(page)
        assert "&lt;img src=x" in page and 'class="confirmed"' in page

    def test_simulator_escapes_the_thread(self, desk_client, db):
        """The simulator's thread shows a hostile SMS body as text."""
        callback = _hostile(db)
        page = desk_client.client.get(f"/simulator/{callback.customer_id}").get_data(as_text=True)
        self._check(page)
