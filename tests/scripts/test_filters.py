"""The filters that show times, dates, money, hours and kilometres in scripts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from outreach.scripts.filters import (
    hours,
    join_list,
    km,
    local_date,
    local_dt,
    localized,
    money,
    phone,
)

MORNING = datetime(2026, 11, 30, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai, a Monday


class TestLocalDt:
    def test_chinese_form(self):
        """Chinese: month, day, weekday and 上午/下午 with a 12-hour clock."""
        assert local_dt(MORNING, "Asia/Shanghai", "zh-CN") == "11月30日（周一）上午9:30"
        afternoon = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
        assert local_dt(afternoon, "Asia/Shanghai", "zh-CN") == "11月30日（周一）下午2:00"

    def test_english_form(self):
        """English: weekday, day, month and am/pm."""
        assert local_dt(MORNING, "Asia/Shanghai", "en") == "Mon 30 Nov, 9:30 am"

    def test_spoken_english_spells_names_out(self):
        """For voice, English weekday and month are spelt out."""
        assert local_dt(MORNING, "Asia/Shanghai", "en", spoken=True) == (
            "Monday 30 November at 9:30 am"
        )

    def test_noon_and_midnight(self):
        """12:30 is 中午12:30 / 12:30 pm; 00:15 is 12:15 am."""
        noon = datetime(2026, 11, 30, 4, 30, tzinfo=UTC)
        assert local_dt(noon, "Asia/Shanghai", "zh-CN").endswith("中午12:30")
        assert local_dt(noon, "Asia/Shanghai", "en").endswith("12:30 pm")
        midnight = datetime(2026, 11, 29, 16, 15, tzinfo=UTC)
        assert local_dt(midnight, "Asia/Shanghai", "en") == "Mon 30 Nov, 12:15 am"

    def test_zone_changes_the_day(self):
        """The same instant shows in the zone asked for, date included."""
        assert local_dt(MORNING, "America/Los_Angeles", "en") == "Sun 29 Nov, 5:30 pm"

    def test_iso_string_accepted(self):
        """An ISO string with an offset (as stored in JSON facts) works like a datetime."""
        assert local_dt("2026-11-30T01:30:00+00:00", "Asia/Shanghai", "en") == (
            "Mon 30 Nov, 9:30 am"
        )

    def test_naive_refused(self):
        """A naive datetime is refused, never guessed."""
        with pytest.raises(ValueError, match="naive"):
            local_dt(datetime(2026, 11, 30, 9, 30), "Asia/Shanghai", "en")  # noqa: DTZ001 - the case under test


class TestValues:
    def test_dates(self):
        """Dates: 12月1日 / 1 Dec, with the year on request."""
        assert local_date(date(2026, 12, 1), "zh-CN") == "12月1日"
        assert local_date("2026-12-01", "en", year=True) == "1 Dec 2026"

    @pytest.mark.parametrize(
        ("value", "zh", "en"),
        [
            (380, "¥380", "CNY 380"),
            (1580.0, "¥1,580", "CNY 1,580"),
            (380.5, "¥380.50", "CNY 380.50"),
            (0, "免费", "free"),
            ("0.00", "免费", "free"),
        ],
    )
    def test_money(self, value, zh, en):
        """Whole yuan show no decimals; thousands are separated; nothing to pay is free."""
        assert money(value, "zh-CN") == zh
        assert money(value, "en") == en

    def test_spoken_money(self):
        """Voice says 元 / yuan instead of a symbol."""
        assert money(680, "zh-CN", spoken=True) == "680元"
        assert money(680, "en", spoken=True) == "680 yuan"

    def test_hours(self):
        """Durations: 约1.5小时 / about 1.5 hours, singular for one hour."""
        assert hours(1.5, "zh-CN") == "约1.5小时"
        assert hours(1.5, "en") == "about 1.5 hours"
        assert hours(1, "en") == "about 1 hour"

    def test_km(self):
        """Kilometres get thousands separators."""
        assert km(23600, "zh-CN") == "23,600公里"
        assert km(23600, "en") == "23,600 km"

    def test_localized(self):
        """A per-locale text picks the locale, then English; a plain text passes through."""
        title = {"zh-CN": "冬季检查", "en": "winter check"}
        assert localized(title, "zh-CN") == "冬季检查"
        assert localized({"en": "winter check"}, "zh-CN") == "winter check"
        assert localized("plain", "en") == "plain"

    def test_join_list(self):
        """Chinese lists use 、; English ones 'and' before the last item."""
        assert join_list(["A", "B", "C"], "zh-CN") == "A、B、C"
        assert join_list(["A", "B", "C"], "en") == "A, B and C"

    def test_phone(self):
        """The contact line is national in Chinese, international in English."""
        assert phone("+862155550100", "zh-CN") == "021 5555 0100"
        assert phone("+862155550100", "en") == "+86 21 5555 0100"
