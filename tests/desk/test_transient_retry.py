"""Booking from the desk survives one deadlock or busy database: the booking is made once."""

from __future__ import annotations

from sqlalchemy import select

from outreach.models import Appointment, CallbackRequest
from tests.capacity.transient import fail_first_unit_update
from tests.desk.test_queue import _entry


def test_a_desk_booking_that_hits_a_deadlock_books_once(desk_client, db, committing_engine):
    """The advisor's booking whose ledger update is a deadlock victim is made once, entry closed."""
    callback, vehicle = _entry(db)
    desk_client.post(f"/queue/{callback.id}/claim")
    with fail_first_unit_update(committing_engine) as failed:
        response = desk_client.post(
            f"/queue/{callback.id}/book",
            {"vehicle_id": str(vehicle.id), "jobs": "maintenance", "starts_at": "2025-03-11T09:30"},
        )
    assert len(failed) == 1
    assert response.status_code == 302
    db.expire_all()
    assert len(db.scalars(select(Appointment)).all()) == 1
    row = db.get(CallbackRequest, callback.id)
    assert (row.status, row.outcome) == ("done", "booked")
