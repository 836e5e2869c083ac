"""The JSON API: bearer tokens, the three endpoints, and a 400 on a bad date."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from outreach.accounts import issue_token
from outreach.models import ApiToken, Appointment, AppointmentJob
from tests.desk.conftest import NOW, make_callback
from tests.factories import make_customer, make_vehicle


@pytest.fixture
def token(db, advisor_user) -> str:
    value = issue_token(db, "wang", now=NOW)
    db.commit()
    return value


def _get(client, path, token):
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


class TestTokens:
    def test_token_grants_access(self, client, token):
        """A valid bearer token reads the API without a session."""
        assert _get(client, "/api/callbacks", token).status_code == 200

    def test_wrong_token_is_401(self, client, token):
        """An unknown token answers 401 with a JSON error."""
        response = _get(client, "/api/callbacks", token + "x")
        assert response.status_code == 401
        assert response.json["error"] == "authentication required"

    def test_token_use_is_recorded(self, client, db, token):
        """A request with a token records when it was last used."""
        _get(client, "/api/callbacks", token)
        db.expire_all()
        assert db.query(ApiToken).one().last_used_at == NOW

    def test_token_does_not_open_pages(self, client, token):
        """A token is for /api only: pages still want a signed-in session."""
        assert _get(client, "/queue/", token).status_code == 302

    def test_session_also_works(self, desk_client):
        """A signed-in browser session may read the API too."""
        assert desk_client.client.get("/api/callbacks").status_code == 200


class TestEndpoints:
    def test_callbacks_lists_the_queue(self, client, db, token):
        """GET /api/callbacks returns each entry with its age and target in minutes."""
        customer = make_customer(db, name="赵敏")
        make_callback(db, customer, reason="complaint")
        db.commit()
        [entry] = _get(client, "/api/callbacks", token).json["callbacks"]
        assert entry["customer_name"] == "赵敏"
        assert (entry["age_minutes"], entry["target_minutes"], entry["overdue"]) == (60, 30, True)

    def test_appointments_of_a_day(self, client, db, token):
        """GET /api/appointments?date= returns that local day's appointments with jobs and hours."""
        vehicle = make_vehicle(db)
        db.add(
            Appointment(
                customer_id=vehicle.customer_id,
                vehicle_id=vehicle.id,
                starts_at=NOW + timedelta(days=1),
                mileage_reported_km=51000,
                notes="加一个四轮定位",
                confirmed_at=NOW,
                jobs=[
                    AppointmentJob(job_code="oil", description="机油", labour_hours=1.5, price=300)
                ],
            )
        )
        db.commit()
        body = _get(client, "/api/appointments?date=2025-03-11", token).json
        [appointment] = body["appointments"]
        assert appointment["local_start"] == "2025-03-11T10:00:00+08:00"
        assert appointment["hours"] == 1.5
        assert appointment["mileage_reported_km"] == 51000
        assert appointment["notes"] == "加一个四轮定位"
        # every instant in the dealership's zone, with its offset: the same instant as stored
        assert appointment["confirmed_at"] == "2025-03-10T10:00:00+08:00"
        assert datetime.fromisoformat(appointment["confirmed_at"]) == NOW
        assert _get(client, "/api/appointments?date=2025-03-12", token).json["appointments"] == []

    def test_bad_date_is_400(self, client, token):
        """A date that is not YYYY-MM-DD answers 400 naming the expected form."""
        response = _get(client, "/api/appointments?date=11/03/2025", token)
        assert response.status_code == 400
        assert "YYYY-MM-DD" in response.json["error"]

    def test_campaign_stats_shape(self, client, token):
        """GET /api/campaigns/stats returns campaigns, weekly appointment rate and 14 days' load."""
        body = _get(client, "/api/campaigns/stats", token).json
        assert body["campaigns"] == []
        assert len(body["workshop_load"]) == 14
        assert body["workshop_load"][0]["date"] == "2025-03-10"
        # a funnel for every enabled campaign, even before anything happened
        assert [f["campaign"] for f in body["funnels"]][:2] == [
            "maintenance_interval",
            "deferred_work",
        ]
        assert [s["stage"] for s in body["funnels"][0]["stages"]] == [
            "due", "contacted", "delivered", "replied", "booked", "showed",
        ]  # fmt: skip
