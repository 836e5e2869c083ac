"""SMS scripts as Aliyun templates: the text, the variables, and what is refused at load."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from outreach.cli import App, main
from outreach.gateways import make_gateway
from outreach.scripts.templates import (
    MARKETING,
    NOTIFICATION,
    VARIABLE_LIMIT,
    check_script,
    match,
    template_for,
    value_problems,
)
from outreach.settings import ConfigError, Settings, load_settings
from tests.china.conftest import CHINA_SCRIPTS, CODES, China, china_config, china_environ
from webhooks import create_app


def with_scripts(settings: Settings, folder: Path) -> Settings:
    return replace(settings, scripts_override_dir=folder)


def broken_copy(tmp_path: Path, script: str, text: str) -> Path:
    """The China script set with one script replaced by ``text``."""
    folder = tmp_path / "scripts"
    shutil.copytree(CHINA_SCRIPTS, folder)
    (folder / "zh-CN" / "sms" / f"{script}.j2").write_text(text, encoding="utf-8")
    return folder


class TestTemplateText:
    def test_offer_is_a_marketing_template_with_named_variables(self, china: China) -> None:
        t = template_for(china.settings, "zh-CN", "offer")
        assert t.kind == MARKETING
        assert t.text.startswith("${customer_name}您好，${dealership_name}提醒您：")
        assert t.text.endswith("拒收请回复R")
        assert t.variables[:3] == ("customer_name", "dealership_name", "vehicle_plate")

    def test_confirmation_is_a_notification(self, china: China) -> None:
        assert template_for(china.settings, "zh-CN", "confirmation").kind == NOTIFICATION

    def test_match_reads_the_values_back_and_fills_the_same_text(self, china: China) -> None:
        t = template_for(china.settings, "zh-CN", "cancelled")
        body = "您12月3日（周四）下午2:00的预约已取消。需要时回复“预约”即可重新安排。"
        values = match(t, body)
        assert values == {"appointment_starts_at": "12月3日（周四）下午2:00"}
        assert t.fill(values) == body

    def test_free_text_matches_no_template(self, china: China) -> None:
        t = template_for(china.settings, "zh-CN", "cancelled")
        assert match(t, "您好，这是一条随意的短信。") is None

    def test_every_china_script_registers(self, china: China) -> None:
        reports = [check_script(china.settings, "zh-CN", n) for n in ("offer", "reminder")]
        assert [r.problems for r in reports] == [[], []]
        assert all(len(v) <= VARIABLE_LIMIT for r in reports for v in r.longest.values())


class TestRefusals:
    @pytest.mark.parametrize(
        ("value", "reason"),
        [
            ("张" * (VARIABLE_LIMIT + 1), "over the limit of 35"),
            ("详见 https://t.cn/abc", "carries a link"),
            ("详见www.star-motors.cn", "carries a link"),
            ("保养已到期。请尽快预约", "whole sentence"),
            ("第一行\n第二行", "whole sentence"),
            ("Your service is due. Book now", "whole sentence"),
        ],
    )
    def test_value_problems(self, value: str, reason: str) -> None:
        assert any(reason in p for p in value_problems("x", value))

    @pytest.mark.parametrize("value", ["李雷", "12月3日（周四）下午2:00", "¥1,580", "沪A·12345"])
    def test_ordinary_values_pass(self, value: str) -> None:
        assert value_problems("x", value) == []

    def test_shipped_offer_cannot_be_registered(self, settings: Settings) -> None:
        """The shipped offer lists its slots line by line: refused, with the reasons."""
        report = check_script(settings, "zh-CN", "offer")
        assert report.refused
        assert any("拒收请回复R" in p for p in report.problems)
        assert any("whole sentence" in p for p in report.problems)

    def test_adjacent_variables_are_refused(self, china: China, tmp_path: Path) -> None:
        folder = broken_copy(
            tmp_path,
            "cancelled",
            "您{{ appointment.starts_at|local_dt(tz, locale) }}{{ customer.name }}的预约已取消。",
        )
        report = check_script(with_scripts(china.settings, folder), "zh-CN", "cancelled")
        assert any("next to each other" in p for p in report.problems)

    def test_a_script_made_too_long_is_refused_at_load(self, china: China, tmp_path: Path) -> None:
        """A registered script whose variable grew over 35 characters stops the gateway at
        load, naming the script and the reason."""
        folder = broken_copy(
            tmp_path,
            "confirmation",
            "{{ customer.name }}您好，您的预约已确认：{{ appointment.starts_at|local_dt(tz, locale)"
            " ~ '，请提前十分钟到店并携带行驶证、保养手册和随车工具' }}。",
        )
        with pytest.raises(ConfigError) as refused:
            make_gateway(with_scripts(china.settings, folder))
        message = str(refused.value)
        assert "script zh-CN/confirmation cannot be registered as a template" in message
        assert f"over the limit of {VARIABLE_LIMIT}" in message

    def test_the_cli_refuses_it_too(self, china: China, tmp_path: Path) -> None:
        folder = broken_copy(
            tmp_path,
            "help",
            "{{ dealership.name }}服务热线：{{ 'https://t.cn/' ~ dealership.phone }}，欢迎致电。",
        )
        config = tmp_path / "broken.toml"
        config.write_text(china_config(scripts=folder), encoding="utf-8")
        environ = china_environ(config, f"sqlite:///{tmp_path / 'x.db'}", china.standin.url)
        result = CliRunner().invoke(
            main, ["scripts", "templates", "--locale", "zh-CN"], obj=App(environ)
        )
        assert result.exit_code == 1
        assert "zh-CN/help  [notification]  SMS_4" in result.output
        assert "carries a link" in result.output
        assert "1 registered script(s) cannot be aliyun templates" in result.output

    def test_a_code_for_an_unknown_script_is_refused(self, china: China, tmp_path: Path) -> None:
        config = tmp_path / "typo.toml"
        config.write_text(china_config(codes={"ofer": "SMS_1"}), encoding="utf-8")
        settings = load_settings(china_environ(config, "sqlite://", china.standin.url))
        with pytest.raises(
            ConfigError, match=r"gateway\.aliyun\.templates\.zh-CN\.ofer: no SMS script"
        ):
            make_gateway(settings)


class TestCommand:
    def test_lists_every_script_with_text_type_and_longest_values(self, china: China) -> None:
        result = CliRunner().invoke(
            main, ["scripts", "templates", "--provider", "aliyun", "--locale", "zh-CN"],
            obj=App(china.environ),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "zh-CN/offer  [marketing]  SMS_4" in result.output
        assert "zh-CN/confirmation  [notification]  SMS_4" in result.output
        assert "${customer_name}   2  '李雷'" in result.output
        assert result.output.count(" ok\n") == len(CODES)  # every script registered


class TestStartUp:
    def broken(self, china: China, tmp_path: Path) -> dict[str, str]:
        folder = broken_copy(
            tmp_path,
            "reminder",
            "{{ customer.name }}您好：{{ '请明天到店。' ~ customer.name }}拒收请回复R",
        )
        config = tmp_path / "broken.toml"
        config.write_text(china_config(scripts=folder), encoding="utf-8")
        return china_environ(config, f"sqlite:///{tmp_path / 'x.db'}", china.standin.url)

    def test_dispatch_refuses_to_start(self, china: China, tmp_path: Path) -> None:
        environ = self.broken(china, tmp_path)
        runner = CliRunner()
        assert runner.invoke(main, ["db", "upgrade"], obj=App(environ)).exit_code == 0
        result = runner.invoke(main, ["dispatch", "--once"], obj=App(environ))
        assert result.exit_code == 1
        assert "script zh-CN/reminder cannot be registered" in result.output
        assert "whole sentence" in result.output
        assert china.standin.requests == []

    def test_the_web_app_refuses_to_start(self, china: China, tmp_path: Path) -> None:
        settings = load_settings(self.broken(china, tmp_path))
        with pytest.raises(ConfigError, match="zh-CN/reminder"):
            create_app(settings)


VALUE = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20
)


class TestRoundTrip:
    @pytest.mark.parametrize("script", ["offer", "confirmation", "reminder", "answer", "noted"])
    @given(data=st.data())
    @hsettings(
        max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    def test_what_is_filled_is_read_back_to_the_same_text(
        self, china: China, script: str, data: st.DataObject
    ) -> None:
        """Whatever the values (fillers, typos, full-width digits, 繁體), the text a template
        makes is read back as a text of that template, and filling what was read gives the
        same text: the gateway sends exactly what the outbox recorded."""
        t = template_for(china.settings, "zh-CN", script)
        values = {name: data.draw(VALUE, label=name) for name in t.variables}
        body = t.fill(values)
        read = match(t, body)
        assert read is not None and t.fill(read) == body
