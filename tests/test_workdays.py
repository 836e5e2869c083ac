"""China's working calendar: make-up working days, whole breaks, the calendar command."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from outreach.cli import App, main
from outreach.workdays import HOLIDAY, WEEKEND, WORKING, calendar_for, day_kind

# The State Council's notice for 2026 (国办发明电〔2025〕7号), written out by hand from the
# notice, not from the library: each break's days off, and the weekend days worked instead.
OFFICIAL_2026_BREAKS = [
    ("2026-01-01", "2026-01-03"),  # 元旦
    ("2026-02-15", "2026-02-23"),  # 春节
    ("2026-04-04", "2026-04-06"),  # 清明节
    ("2026-05-01", "2026-05-05"),  # 劳动节
    ("2026-06-19", "2026-06-21"),  # 端午节
    ("2026-09-25", "2026-09-27"),  # 中秋节
    ("2026-10-01", "2026-10-07"),  # 国庆节
]
OFFICIAL_2026_MAKE_UP = {
    "2026-01-04",
    "2026-02-14",
    "2026-02-28",
    "2026-05-09",
    "2026-09-20",
    "2026-10-10",
}


def official_working_days_2026() -> dict[str, bool]:
    off: set[str] = set()
    for first, last in OFFICIAL_2026_BREAKS:
        day, end = date.fromisoformat(first), date.fromisoformat(last)
        while day <= end:
            off.add(day.isoformat())
            day += timedelta(days=1)
    days = {}
    for i in range(365):
        day = date(2026, 1, 1) + timedelta(days=i)
        iso = day.isoformat()
        days[iso] = iso in OFFICIAL_2026_MAKE_UP or (day.weekday() < 5 and iso not in off)
    return days


def run_calendar(tmp_path, *args: str):
    url = f"sqlite:///{tmp_path / 'calendar.db'}"
    return CliRunner().invoke(main, ["calendar", *args], obj=App({"DATABASE_URL": url}))


class TestCalendarCommand:
    def test_every_day_of_2026_matches_the_official_schedule(self, tmp_path):
        """`outreach calendar --json` marks a working day exactly when the 2026 notice does."""
        result = run_calendar(tmp_path, "--from", "2026-01-01", "--days", "365", "--json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert data["country"] == "CN"
        shown = {d["date"]: d["working_day"] for d in data["days"]}
        expected = official_working_days_2026()
        wrong = {d: shown[d] for d in expected if shown[d] != expected[d]}
        assert not wrong
        assert len(shown) == 365

    def test_make_up_saturday_is_open_and_contactable(self, tmp_path):
        """Saturday 2026-02-14 is a make-up working day: workshop open, contact allowed."""
        result = run_calendar(tmp_path, "--from", "2026-02-14", "--days", "1", "--json")
        (day,) = json.loads(result.output)["days"]
        assert day["make_up_day"] and day["working_day"] and day["workshop_open"]
        assert day["contact_allowed"] and day["holiday"] is None

    def test_weekend_inside_spring_festival_is_named_and_closed(self, tmp_path):
        """Saturday 2026-02-21 lies inside the Spring Festival break: a holiday named 春节."""
        result = run_calendar(tmp_path, "--from", "2026-02-21", "--days", "1", "--json")
        (day,) = json.loads(result.output)["days"]
        assert day["holiday"] == "春节" and not day["working_day"]
        assert not day["workshop_open"] and not day["contact_allowed"]

    def test_table_says_why(self, tmp_path):
        """The plain table gives one line per day with the reason in words."""
        result = run_calendar(tmp_path, "--from", "2026-09-19", "--days", "3")
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[0] == "country CN"
        assert "2026-09-20 Sun yes" in lines[3] and "make-up working day" in lines[3]


class TestWorkCalendar:
    @pytest.mark.parametrize("iso", sorted(OFFICIAL_2026_MAKE_UP))
    def test_make_up_days_are_working_days(self, iso):
        """Every weekend day the 2026 notice makes a working day is one."""
        day = calendar_for("CN").day(date.fromisoformat(iso))
        assert day.kind == WORKING and day.make_up

    def test_national_day_sunday_is_a_holiday(self):
        """Sunday 2026-10-04 is inside the National Day break, not an ordinary weekend."""
        day = calendar_for("CN").day(date(2026, 10, 4))
        assert (day.kind, day.holiday) == (HOLIDAY, "国庆节")

    def test_unpublished_year_is_marked_estimated(self):
        """2027's schedule is not in the library yet: its days say they are estimated."""
        assert calendar_for("CN").day(date(2027, 2, 8)).estimated
        assert not calendar_for("CN").day(date(2026, 2, 8)).estimated

    def test_no_break_filling_where_no_make_up_days_exist(self):
        """In the US the Saturday before Memorial Day stays an ordinary weekend day."""
        us = calendar_for("US")
        assert us.day(date(2026, 5, 23)).kind == WEEKEND
        assert us.day(date(2026, 5, 25)).kind == HOLIDAY

    def test_plain_holiday_sets_still_work(self):
        """A plain set of dates is a holiday list with Saturday and Sunday as the weekend."""
        assert day_kind(date(2026, 2, 14), {date(2026, 2, 13)}) == WEEKEND
        assert day_kind(date(2026, 2, 13), {date(2026, 2, 13)}) == HOLIDAY
        assert day_kind(date(2026, 2, 12), set()) == WORKING

    def test_holiday_membership(self):
        """`day in calendar` is True on a holiday, False on a make-up day or a plain weekday."""
        cal = calendar_for("cn")
        assert date(2026, 2, 21) in cal
        assert date(2026, 2, 14) not in cal
        assert date(2026, 3, 3) not in cal
