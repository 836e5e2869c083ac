"""vehicle_history summarises each vehicle's visits in one row."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from outreach.history import refresh_history
from outreach.models import VehicleHistory, Visit
from tests.factories import make_vehicle, make_visit


class TestRefresh:
    def test_summary_of_mixed_visits(self, session):
        """Last service, its reading, and the first and last readings are summarised."""
        v = make_vehicle(session)
        make_visit(session, v, date(2025, 1, 10), 10_000, "maintenance")
        make_visit(session, v, date(2025, 6, 1), 15_000, "repair")
        make_visit(session, v, date(2025, 9, 1), None, "inspection")
        make_visit(session, v, date(2025, 10, 1), None, "detailing")
        h = session.get(VehicleHistory, v.id)
        assert (h.last_visit_on, h.last_service_on, h.service_km) == (
            date(2025, 10, 1),
            date(2025, 9, 1),
            None,  # the last service had no reading
        )
        assert (h.first_read_on, h.first_km, h.last_read_on, h.last_km) == (
            date(2025, 1, 10),
            10_000,
            date(2025, 6, 1),
            15_000,
        )

    def test_full_refresh_matches_per_vehicle_refresh(self, session):
        """Refreshing everything gives the same rows as refreshing vehicle by vehicle."""
        vehicles = [make_vehicle(session) for _ in range(3)]
        for n, v in enumerate(vehicles):
            make_visit(session, v, date(2025, 1, 1 + n), 1000 * n, "maintenance")
        before = sorted(session.execute(select(VehicleHistory.__table__)).all())
        refresh_history(session)
        assert sorted(session.execute(select(VehicleHistory.__table__)).all()) == before

    def test_a_vehicle_whose_visits_are_gone_loses_its_row(self, session):
        """Deleting every visit of a vehicle and refreshing removes its summary."""
        v = make_vehicle(session)
        make_visit(session, v, date(2025, 1, 1), 100)
        session.execute(Visit.__table__.delete().where(Visit.vehicle_id == v.id))
        refresh_history(session, [v.id])
        assert session.get(VehicleHistory, v.id, populate_existing=True) is None
