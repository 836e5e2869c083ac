"""The conversation speaks through the dealership's scripts, overrides included; the built-in
wording is only a logged safety net."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from outreach.models import Customer, Outreach
from outreach.settings import Settings
from tests.conversation.conftest import Phone

TEXTS_LOG = "outreach.conversation.texts"


def _override(folder: Path, locale: str, channel: str, name: str, body: str) -> None:
    path = folder / locale / channel / f"{name}.j2"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")


class TestShippedScripts:
    @pytest.mark.parametrize(
        ("replies", "kind", "says"),
        [
            (["好的"], "which_option", "请问您选哪个时间"),
            (["我要改个时间"], "ask_time", "哪天什么时间"),
            (["现在跑了35000公里"], "noted", "35,000公里"),
            (["请问多少钱？"], "answer", "参考价格"),
            (["周日上午十点"], "slot_options", "回复序号"),
            (["1", "保养"], "already_booked", "您已预约"),
        ],
    )
    def test_each_step_uses_its_script(
        self, offered: Outreach, phone: Phone, caplog, replies, kind, says
    ) -> None:
        """The step's shipped script answers, and nothing falls back to the built-in wording."""
        with caplog.at_level(logging.WARNING, logger=TEXTS_LOG):
            for text in replies:
                reply = phone.text(text)
        assert reply.kind == kind and says in (reply.text or "")
        assert not [r for r in caplog.records if r.name == TEXTS_LOG]

    def test_cancel_without_appointment_uses_its_script(
        self, session: Session, conv_settings: Settings, customer: Customer, caplog
    ) -> None:
        """ "取消预约" with nothing booked says so, from the no_appointment script."""
        with caplog.at_level(logging.WARNING, logger=TEXTS_LOG):
            reply = Phone(session, conv_settings, customer.phone).text("取消预约")
        assert reply.kind == "no_appointment" and "没有待到店的预约" in (reply.text or "")
        assert not caplog.records


class TestOverrides:
    def test_dealership_override_replaces_the_wording(
        self, session: Session, conv_settings: Settings, offered: Outreach, tmp_path: Path
    ) -> None:
        """A which_option script in the override folder is what the customer reads."""
        _override(tmp_path, "zh-CN", "sms", "which_option", "请选：{{ slots|length }}个时间")
        settings = replace(conv_settings, scripts_override_dir=tmp_path)
        reply = Phone(session, settings, offered.customer.phone).text("好的")
        assert reply.text == "请选：3个时间"

    def test_broken_override_falls_back_with_a_warning(
        self, session: Session, conv_settings: Settings, offered: Outreach, tmp_path: Path, caplog
    ) -> None:
        """An override needing data the conversation lacks: the shipped script answers, and
        the log says why."""
        _override(tmp_path, "zh-CN", "sms", "which_option", "{{ no_such_value }}")
        settings = replace(conv_settings, scripts_override_dir=tmp_path)
        with caplog.at_level(logging.WARNING, logger=TEXTS_LOG):
            reply = Phone(session, settings, offered.customer.phone).text("好的")
        shipped = Phone(session, conv_settings, offered.customer.phone).text("好的")
        assert reply.text and reply.text == shipped.text
        assert any("which_option" in r.getMessage() for r in caplog.records)
