"""The [capacity] configuration section."""

from __future__ import annotations

import tomllib
from datetime import date, time

import pytest

from outreach.settings import DEFAULT_CONFIG, ConfigError, parse_config


def _with(capacity: dict) -> dict:
    raw = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    raw["capacity"] = {**raw["capacity"], **capacity}
    return raw


class TestParse:
    def test_example_config_parses(self):
        """The shipped example configures advisors, job types, resources and Saturday hours."""
        cap = parse_config(_with({})).capacity
        assert cap.opening_hours[5] == (time(9, 0), time(16, 0))
        assert cap.opening_hours[6] is None
        assert cap.job_types["alignment"].resource == "alignment_bay"
        assert cap.resources["body_shop"] == 16.0
        assert cap.hold_minutes == {"sms": 30, "voice": 10}

    def test_closures_and_absences_are_dates(self):
        """Closures and technician absences are read as dates."""
        cap = parse_config(
            _with(
                {
                    "closures": ["2026-06-03"],
                    "workshop": {"absences": [{"date": "2026-06-04", "hours": 8}]},
                }
            )
        ).capacity
        assert cap.closures == frozenset({date(2026, 6, 3)})
        assert cap.absences == {date(2026, 6, 4): 8.0}

    def test_missing_section_gives_defaults(self):
        """A config without [capacity] still gives a bookable workshop."""
        raw = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
        del raw["capacity"]
        assert parse_config(raw).capacity.job_types


class TestErrors:
    @pytest.mark.parametrize(
        ("change", "key"),
        [
            ({"opening_hours": {"mon": "9-17"}}, "capacity.opening_hours.mon"),
            ({"opening_hours": {"monday": "09:00-17:00"}}, "capacity.opening_hours.monday"),
            ({"opening_hours": {"tue": "17:00-09:00"}}, "capacity.opening_hours.tue"),
            ({"interval_minutes": 7}, "capacity.interval_minutes"),
            ({"closures": ["next tuesday"]}, "capacity.closures[0]"),
            ({"workshop": {"reserved_share": 1.0}}, "capacity.workshop.reserved_share"),
            ({"hold_minutes": {"sms": 0}}, "capacity.hold_minutes.sms"),
            (
                {"job_types": [{"code": "x", "labour_hours": 1, "resource": "lift"}]},
                "resource 'lift'",
            ),
            ({"job_types": [{"code": "x"}]}, "labour_hours"),
            ({"advisors": [{"code": "A", "name": "B", "days": ["mo"]}]}, "'mo'"),
        ],
    )
    def test_error_names_the_key(self, change, key):
        """A mistake in [capacity] raises ConfigError naming the key."""
        with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
            parse_config(_with(change))
