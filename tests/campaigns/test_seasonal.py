"""Seasonal windows: each customer once per window while it is open."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from outreach.campaigns.seasonal import NAME
from outreach.planning import plan_outreach
from outreach.settings import Seasonal, SeasonalWindow
from tests.campaigns.conftest import due
from tests.factories import make_customer, make_vehicle

WINTER = SeasonalWindow(
    "pre-winter", {"zh-CN": "冬季检查", "en": "pre-winter check"}, (11, 1), (12, 15)
)
NEW_YEAR = SeasonalWindow("new-year", {"zh-CN": "新年", "en": "new year"}, (12, 20), (1, 10), 5)


@pytest.fixture
def seasonal(settings):
    return replace(
        settings,
        campaigns=replace(settings.campaigns, seasonal=Seasonal(True, (WINTER, NEW_YEAR))),
    )


class TestSeasonal:
    def test_window_bounds_are_inclusive(self, session, seasonal):
        """Nov 1 and Dec 15 are inside the window, Oct 31 and Dec 16 outside."""
        make_vehicle(session)
        assert due(session, seasonal, date(2026, 10, 31), NAME) == []
        assert len(due(session, seasonal, date(2026, 11, 1), NAME)) == 1
        assert len(due(session, seasonal, date(2026, 12, 15), NAME)) == 1
        assert due(session, seasonal, date(2026, 12, 16), NAME) == []

    def test_one_contact_per_customer_with_several_cars(self, session, seasonal):
        """A customer with two cars is due once, naming one of them."""
        c = make_customer(session)
        make_vehicle(session, c)
        make_vehicle(session, c)
        assert len(due(session, seasonal, date(2026, 11, 28), NAME)) == 1

    def test_once_per_window(self, session, seasonal):
        """After a customer was contacted in this window, they are not due again in it."""
        make_vehicle(session)
        plan_outreach(session, seasonal, today=date(2026, 11, 2), now=_now(), campaigns=[NAME])
        session.flush()
        from outreach.models import Outreach

        for o in session.query(Outreach):
            o.status = "closed"
        session.flush()
        assert due(session, seasonal, date(2026, 11, 28), NAME) == []

    def test_window_across_new_year_and_vehicle_age(self, session, seasonal):
        """A Dec 20 - Jan 10 window is open on Jan 5 and takes only cars 5 years or older."""
        make_vehicle(session, model_year=2020)
        make_vehicle(session, model_year=2024)
        items = due(session, seasonal, date(2027, 1, 5), NAME)
        assert len(items) == 1
        assert items[0].anchor_on == date(2026, 12, 20)


def _now():
    from datetime import UTC, datetime

    return datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
