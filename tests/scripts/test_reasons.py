"""How the offer phrases each reason, on time and overdue."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from outreach.scripts import render
from outreach.scripts.examples import example_context

OVERDUE_SERVICE = {
    "campaign": "maintenance_interval",
    "due_on": date(2025, 8, 30),
    "overdue": True,
    "due_by": "km",
    "last_service_on": date(2025, 6, 14),
    "last_service_km": 64_080,
    "estimated_km": 98_028,
}
OVERDUE_ITEM = {
    "campaign": "deferred_work",
    "description": "Battery weak",
    "severity": "medium",
    "due_by": date(2026, 10, 27),
    "overdue": True,
}


def offer(settings, locale, reasons):
    context = example_context("offer", locale, settings)
    context["reasons"] = reasons
    context["slots"] = [{"number": 1, "starts_at": datetime(2026, 11, 30, 1, 0, tzinfo=UTC)}]
    return render(settings, "offer", locale=locale, channel="sms", **context)


class TestOverdue:
    @pytest.mark.parametrize(
        ("locale", "expected", "not_expected"),
        [
            ("zh-CN", "已到保养时间（上次保养2025年6月14日", "将于8月30日到期"),
            ("en", "routine service is overdue (last serviced 14 Jun 2025", "due by 30 Aug"),
        ],
    )
    def test_an_overdue_service_is_not_announced_as_coming(
        self, settings, locale, expected, not_expected
    ):
        """A service due months ago is phrased as overdue with the last service date."""
        text = offer(settings, locale, [OVERDUE_SERVICE])
        assert expected in text
        assert not_expected not in text

    @pytest.mark.parametrize(
        ("locale", "expected"),
        [("zh-CN", "已过建议日期（10月27日）"), ("en", "was due by 27 Oct")],
    )
    def test_an_overdue_deferred_item_says_so(self, settings, locale, expected):
        """Deferred work past its date says it was due, not that it should be done by then."""
        assert expected in offer(settings, locale, [OVERDUE_ITEM])
