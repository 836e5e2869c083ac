"""``outreach demo --sms aliyun-standin``: each message's template and variables are shown."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from outreach.cli import App, main


def test_demo_through_the_aliyun_standin(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "demo", "--sms", "aliyun-standin", "--customers", "40", "--show", "2",
            "--dir", str(tmp_path / "dms"), "--database-url", f"sqlite:///{tmp_path / 'd.db'}",
        ],
        obj=App({}),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "SendSms accepted" in result.output
    assert result.output.count("TemplateCode SMS_9") == 2
    assert '"customer_name":' in result.output
    assert "the customer reads: 【星辰汽车】" in result.output
    assert " failed " not in result.output
