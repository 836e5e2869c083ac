"""The dealership's file is checked against what the product reads: no unknown key passes."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from outreach.campaigns.seasonal import occurrence
from outreach.cli import App, main
from outreach.settings import DEFAULT_CONFIG, ConfigError, SeasonalWindow, parse_config

EXAMPLE = DEFAULT_CONFIG.read_text(encoding="utf-8")


def _raw() -> dict:
    return tomllib.loads(EXAMPLE)


class TestUnknownKeys:
    def test_mistyped_key_names_the_nearest(self):
        """interval_month is refused, naming interval_months, instead of the default applying."""
        raw = _raw()
        raw["campaigns"]["maintenance_interval"]["interval_month"] = 6
        with pytest.raises(ConfigError) as err:
            parse_config(raw)
        assert "unknown key campaigns.maintenance_interval.interval_month" in str(err.value)
        assert "did you mean interval_months?" in str(err.value)

    def test_mistyped_section_names_the_nearest(self):
        """A section [contact_windw] is refused and [contact_window] suggested."""
        raw = _raw()
        raw["contact_windw"] = raw.pop("contact_window")
        with pytest.raises(
            ConfigError, match=r"unknown key contact_windw — did you mean contact_window\?"
        ):
            parse_config(raw)

    def test_key_inside_a_list_of_tables(self):
        """A typo in the third seasonal window names the window and the nearest key."""
        raw = _raw()
        raw["campaigns"]["seasonal"]["windows"][2]["min_vehicle_age"] = 3
        with pytest.raises(
            ConfigError, match=r"windows\[2\]\.min_vehicle_age — did you mean min_vehicle_age_years"
        ):
            parse_config(raw)

    def test_key_of_an_escalation_step(self):
        """An escalation step with 'chanel' is refused, naming channel."""
        raw = _raw()
        raw["escalation"] = {"default": [{"after_hours": 0, "channel": "sms", "chanel": "voice"}]}
        with pytest.raises(
            ConfigError, match=r"escalation\.default\[0\]\.chanel — did you mean channel"
        ):
            parse_config(raw)

    def test_unknown_locale_lists_the_valid_ones(self):
        """A name for a locale the product does not speak lists the ones it does."""
        raw = _raw()
        raw["dealership"]["names"]["fr"] = "Étoile"
        with pytest.raises(
            ConfigError, match=r"unknown key dealership\.names\.fr — valid: en, zh-CN"
        ):
            parse_config(raw)

    def test_a_section_given_as_a_value(self):
        """contact_window = 5 is refused: it must be a table, not silently ignored."""
        raw = _raw()
        raw["contact_window"] = 5
        with pytest.raises(ConfigError, match="contact_window must be a table"):
            parse_config(raw)

    def test_names_of_the_dealerships_own_are_accepted(self):
        """Resource names and campaign names of the dealership's own are not 'unknown keys'."""
        raw = _raw()
        raw["capacity"]["resources"]["paint_booth"] = 6
        raw["escalation"] = {"seasonal": [{"after_hours": 0, "channel": "sms"}]}
        settings = parse_config(raw)
        assert settings.capacity.resources["paint_booth"] == 6.0

    def test_value_errors_keep_their_message(self):
        """A wrong value still names the key and the expected form."""
        raw = _raw()
        raw["campaigns"]["maintenance_interval"]["interval_months"] = "three"
        with pytest.raises(
            ConfigError, match=r"interval_months must be a whole number, got 'three'"
        ):
            parse_config(raw)


class TestConfigCheck:
    def _invoke(self, tmp_path: Path, text: str):
        path = tmp_path / "dealer.toml"
        path.write_text(text, encoding="utf-8")
        return CliRunner().invoke(
            main, ["config", "check"], obj=App({"OUTREACH_CONFIG": str(path)})
        )

    def test_prints_the_effective_configuration(self, tmp_path):
        """config check prints every key in force, the defaults marked as such."""
        result = self._invoke(tmp_path, '[contact_window]\nstart = "08:30"\n')
        assert result.exit_code == 0, result.output
        assert 'contact_window.start = "08:30"\n' in result.output
        assert 'contact_window.end = "20:00"    # default' in result.output
        assert "campaigns.maintenance_interval.interval_months = 3    # default" in result.output

    def test_a_typo_is_one_line_and_exit_1(self, tmp_path):
        """A mistyped key fails the check with one line naming it, no traceback."""
        result = self._invoke(tmp_path, "[campaigns.maintenance_interval]\ninterval_month = 6\n")
        assert result.exit_code == 1
        assert "did you mean interval_months?" in result.output
        assert "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1


class TestWiring:
    def test_capacity_config_does_not_import_settings(self):
        """Capacity reads its section through the shared reader: no cycle with settings."""
        source = Path("outreach/capacity/config.py").read_text(encoding="utf-8")
        assert "outreach.settings" not in source.split('"""', 2)[2]

    def test_settings_import_first_in_a_fresh_interpreter(self):
        """outreach.settings can be the first module a process imports."""
        subprocess.run([sys.executable, "-c", "import outreach.settings"], check=True)

    def test_click_is_a_declared_dependency(self):
        """The CLI's click is declared, not borrowed from Flask."""
        project = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))["project"]
        assert any(d.lower().startswith("click") for d in project["dependencies"])

    def test_29_february_window_in_a_common_year(self):
        """A 29 February start is the 28th in a common year, the 29th in a leap one."""
        window = SeasonalWindow("leap", {"en": "x"}, start=(2, 29), end=(3, 10))
        assert occurrence(window, date(2027, 3, 1)) == (date(2027, 2, 28), date(2027, 3, 10))
        assert occurrence(window, date(2028, 2, 29)) == (date(2028, 2, 29), date(2028, 3, 10))
