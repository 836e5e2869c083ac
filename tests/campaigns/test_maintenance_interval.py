"""The maintenance reminder: 3 calendar months or 5,000 estimated km, whichever comes first."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from outreach.campaigns.maintenance_interval import last_service_cutoff
from outreach.models import Appointment
from tests.campaigns.conftest import configure, due
from tests.factories import make_customer, make_vehicle, make_visit

NAME = "maintenance_interval"


@pytest.fixture
def no_lead(settings):
    """Lead time 0 and a km rate that never wins, so the time rule is alone at its boundary."""
    return configure(settings, NAME, lead_days=0, default_km_per_day=1)


class TestMonths:
    def test_due_on_the_day_three_months_have_passed(self, session, no_lead):
        """A vehicle serviced on Aug 28 is due on Nov 28."""
        v = make_vehicle(session)
        make_visit(session, v, date(2026, 8, 28))
        assert [i.vehicle_id for i in due(session, no_lead, date(2026, 11, 28), NAME)] == [v.id]

    def test_not_due_the_day_before(self, session, no_lead):
        """A vehicle serviced on Aug 28 is not yet due on Nov 27."""
        v = make_vehicle(session)
        make_visit(session, v, date(2026, 8, 28))
        assert due(session, no_lead, date(2026, 11, 27), NAME) == []

    def test_month_end_is_clamped(self, session, no_lead):
        """Serviced on Nov 30, due on Feb 28 (not Mar 2) and not on Feb 27."""
        v = make_vehicle(session)
        make_visit(session, v, date(2026, 11, 30))
        assert due(session, no_lead, date(2027, 2, 27), NAME) == []
        [item] = due(session, no_lead, date(2027, 2, 28), NAME)
        assert item.due_on == date(2027, 2, 28)

    def test_lead_days_bring_the_contact_forward(self, session, settings):
        """With 7 lead days, a vehicle due on Nov 28 is selected from Nov 21."""
        s = configure(settings, NAME, lead_days=7, default_km_per_day=1)
        v = make_vehicle(session)
        make_visit(session, v, date(2026, 8, 28))
        assert due(session, s, date(2026, 11, 20), NAME) == []
        [item] = due(session, s, date(2026, 11, 21), NAME)
        assert item.due_on == date(2026, 11, 28)

    def test_inspection_counts_as_a_service(self, session, no_lead):
        """An inspection resets the interval like a maintenance visit."""
        v = make_vehicle(session)
        make_visit(session, v, date(2026, 5, 1))
        make_visit(session, v, date(2026, 9, 1), type="inspection")
        assert due(session, no_lead, date(2026, 11, 30), NAME) == []
        assert len(due(session, no_lead, date(2026, 12, 1), NAME)) == 1

    def test_a_repair_does_not_reset_the_interval(self, session, no_lead):
        """A later repair visit leaves the last service as the anchor."""
        v = make_vehicle(session)
        make_visit(session, v, date(2026, 8, 28))
        make_visit(session, v, date(2026, 11, 1), type="repair")
        [item] = due(session, no_lead, date(2026, 11, 28), NAME)
        assert item.anchor_on == date(2026, 8, 28)

    def test_never_serviced_vehicles_are_not_selected(self, session, no_lead):
        """A vehicle seen only for repairs has no service to count from."""
        v = make_vehicle(session)
        make_visit(session, v, date(2025, 1, 1), type="repair")
        assert due(session, no_lead, date(2026, 11, 28), NAME) == []


class TestCutoff:
    @pytest.mark.parametrize(
        ("horizon", "months", "cutoff"),
        [
            (date(2027, 2, 28), 3, date(2026, 11, 30)),
            (date(2026, 11, 28), 3, date(2026, 8, 28)),
            (date(2028, 2, 29), 1, date(2028, 1, 31)),
            (date(2026, 3, 31), 1, date(2026, 2, 28)),
        ],
    )
    def test_cutoff_is_the_last_date_that_is_due(self, horizon, months, cutoff):
        """The cutoff is the latest service date already due at the horizon."""
        from dateutil.relativedelta import relativedelta

        assert last_service_cutoff(horizon, months) == cutoff
        assert cutoff + relativedelta(months=months) <= horizon
        assert cutoff + timedelta(days=1) + relativedelta(months=months) > horizon


@pytest.fixture
def km_only(settings):
    """No lead time and an interval in months so long that only kilometres decide."""
    return configure(settings, NAME, lead_days=0, interval_months=1200, default_km_per_day=40)


class TestKilometres:
    def test_due_at_exactly_5000_estimated_km(self, session, km_only):
        """At 1 km/day: due when the estimate reaches service + 5,000 km, not at 4,999."""
        v = make_vehicle(session)
        make_visit(session, v, date(2020, 1, 1), 20_000)
        last = make_visit(session, v, date(2020, 1, 1) + timedelta(days=1000), 21_000, "repair")
        at_4999 = last.visited_on + timedelta(days=3999)
        assert due(session, km_only, at_4999, NAME) == []
        [item] = due(session, km_only, at_4999 + timedelta(days=1), NAME)
        assert item.facts["due_by"] == "km"
        assert item.facts["estimated_km"] == 25_000

    def test_rate_comes_from_the_vehicles_own_history(self, session, km_only):
        """100 km/day between two readings makes 5,000 km take 50 days."""
        v = make_vehicle(session)
        make_visit(session, v, date(2026, 10, 1), 30_000)
        make_visit(session, v, date(2026, 10, 11), 31_000, "repair")
        # 31,000 + 100 km/day * d >= 35,000  <=>  d >= 40 days after Oct 11 = Nov 20
        assert due(session, km_only, date(2026, 11, 19), NAME) == []
        [item] = due(session, km_only, date(2026, 11, 20), NAME)
        assert item.due_on == date(2026, 11, 20)

    def test_single_visit_uses_the_default_rate(self, session, km_only):
        """One reading at 40 km/day default: 5,000 km take 125 days."""
        v = make_vehicle(session)
        make_visit(session, v, date(2026, 1, 1), 10_000)
        assert due(session, km_only, date(2026, 1, 1) + timedelta(days=124), NAME) == []
        [item] = due(session, km_only, date(2026, 1, 1) + timedelta(days=125), NAME)
        assert item.facts["due_by"] == "km"

    def test_visits_without_odometer_use_the_default_rate_from_the_service(self, session, km_only):
        """No odometer ever read: the default rate runs from the service date."""
        v = make_vehicle(session)
        make_visit(session, v, date(2026, 1, 1), None)
        assert due(session, km_only, date(2026, 5, 5), NAME) == []  # day 124
        assert len(due(session, km_only, date(2026, 5, 6), NAME)) == 1  # day 125

    def test_unread_service_estimates_its_odometer_from_the_rate(self, session, km_only):
        """A service visit without a reading counts 5,000 km at the vehicle's rate from its date."""
        v = make_vehicle(session)
        make_visit(session, v, date(2026, 1, 1), 10_000, "repair")
        make_visit(session, v, date(2026, 1, 11), 11_000, "repair")  # 100 km/day
        make_visit(session, v, date(2026, 3, 1), None)
        assert due(session, km_only, date(2026, 4, 19), NAME) == []  # 49 days after Mar 1
        assert len(due(session, km_only, date(2026, 4, 20), NAME)) == 1

    def test_earlier_of_time_and_km_is_the_due_date(self, session, settings):
        """A car driven 200 km/day is due by km long before 3 months."""
        s = configure(settings, NAME, lead_days=0)
        v = make_vehicle(session)
        make_visit(session, v, date(2026, 10, 1), 50_000)
        make_visit(session, v, date(2026, 10, 6), 51_000, "repair")
        [item] = due(session, s, date(2026, 10, 26), NAME)
        assert item.due_on == date(2026, 10, 26)
        assert "km" in item.reason


class TestContactRules:
    def _due_vehicle(self, session, **customer):
        c = make_customer(session, **customer)
        v = make_vehicle(session, c)
        make_visit(session, v, date(2026, 8, 1))
        return c, v

    def test_opted_out_customers_are_never_selected(self, session, no_lead):
        """A customer who opted out is not due, whatever their car needs."""
        self._due_vehicle(session, opted_out_at=datetime(2026, 9, 1, tzinfo=UTC))
        assert due(session, no_lead, date(2026, 11, 28), NAME) == []

    def test_customers_without_consent_are_never_selected(self, session, no_lead):
        """No recorded consent means no outreach."""
        self._due_vehicle(session, consent=False)
        assert due(session, no_lead, date(2026, 11, 28), NAME) == []

    def test_vehicle_with_a_booked_future_appointment_is_skipped(self, session, no_lead):
        """A car already booked in is not invited again."""
        c, v = self._due_vehicle(session)
        session.add(
            Appointment(
                customer_id=c.id,
                vehicle_id=v.id,
                starts_at=datetime(2026, 12, 2, 1, 0, tzinfo=UTC),
            )
        )
        session.flush()
        assert due(session, no_lead, date(2026, 11, 28), NAME) == []

    def test_a_past_or_cancelled_appointment_does_not_block(self, session, no_lead):
        """Only booked appointments from today on count."""
        c, v = self._due_vehicle(session)
        at = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
        session.add(
            Appointment(customer_id=c.id, vehicle_id=v.id, starts_at=at, status="cancelled")
        )
        session.add(
            Appointment(
                customer_id=c.id,
                vehicle_id=v.id,
                starts_at=datetime(2026, 11, 27, 1, 0, tzinfo=UTC),
            )
        )
        session.flush()
        assert len(due(session, no_lead, date(2026, 11, 28), NAME)) == 1

    def test_inactive_vehicles_are_skipped(self, session, no_lead):
        """A sold or scrapped car is not reminded."""
        c = make_customer(session)
        v = make_vehicle(session, c, active=False)
        make_visit(session, v, date(2026, 8, 1))
        assert due(session, no_lead, date(2026, 11, 28), NAME) == []
