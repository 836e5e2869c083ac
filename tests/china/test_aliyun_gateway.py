"""The Aliyun SMS gateway against the local Dysmsapi stand-in: what every request carries."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from outreach.aliyun_sms import AliyunGateway, from_pushed, phone_number
from outreach.gateway import GatewayError, SendResult
from outreach.gateway_config import GatewayChoice
from outreach.gateways import check_gateway
from outreach.scripts import render
from outreach.scripts.examples import example_context
from outreach.settings import ConfigError, load_settings
from tests.china.conftest import CODES, KEY_ID, SIGN, China, china_config, china_environ

TO = "+8613900000001"


@pytest.fixture
def gateway(china: China) -> AliyunGateway:
    return AliyunGateway(china.settings)


def offer_text(china: China) -> str:
    context = example_context("offer", "zh-CN", china.settings)
    return render(china.settings, "offer", locale="zh-CN", channel="sms", **context)


def sms(gateway: AliyunGateway, body: str, to: str = TO) -> SendResult:
    return gateway.send_sms(to, body, status_callback=None, validity_seconds=600)


class TestSendSms:
    def test_request_is_what_dysmsapi_expects(self, china: China, gateway: AliyunGateway) -> None:
        body = offer_text(china)
        result = sms(gateway, body)
        [request] = china.standin.requests
        assert request["action"] == "SendSms" and request["version"] == "2017-05-25"
        assert request["authorization"].startswith(f"ACS3-HMAC-SHA256 Credential={KEY_ID},")
        params = request["params"]
        assert set(params) == {"PhoneNumbers", "SignName", "TemplateCode", "TemplateParam", "OutId"}
        assert params["PhoneNumbers"] == "13900000001"
        assert (params["SignName"], params["TemplateCode"]) == (SIGN, CODES["offer"])
        values = json.loads(params["TemplateParam"])
        assert values["customer_name"] == "李雷" and values["vehicle_plate"] == "沪A12345"
        assert china.standin.messages[0].content == f"【{SIGN}】{body}"
        assert result == SendResult(sid=china.standin.messages[0].biz_id, status="queued")

    def test_a_wrong_secret_fails_the_signature(self, china: China) -> None:
        aliyun = replace(china.settings.gateway_choice.aliyun, access_key_secret="not-it")  # type: ignore[type-var]
        settings = replace(
            china.settings, gateway_choice=replace(china.settings.gateway_choice, aliyun=aliyun)
        )
        with pytest.raises(GatewayError) as refused:
            sms(AliyunGateway(settings), offer_text(china))
        assert refused.value.kind == "failed" and "SignatureDoesNotMatch" in str(refused.value)
        assert china.standin.messages == []

    def test_free_text_is_never_sent(self, china: China, gateway: AliyunGateway) -> None:
        with pytest.raises(GatewayError) as refused:
            sms(gateway, "周末大促，全场八折！")
        assert refused.value.kind == "failed" and "no registered template" in str(refused.value)
        assert china.standin.requests == []

    def test_a_value_over_the_limit_is_refused_before_sending(
        self, china: China, gateway: AliyunGateway
    ) -> None:
        body = "您" + "十" * 40 + "的预约已取消。需要时回复“预约”即可重新安排。"
        with pytest.raises(GatewayError, match=r"cancelled.*over the limit"):
            sms(gateway, body)
        assert china.standin.requests == []

    @pytest.mark.parametrize(
        ("status", "code", "kind"),
        [
            (200, "isv.MOBILE_NUMBER_ILLEGAL", "bad_number"),
            (400, "isv.BUSINESS_LIMIT_CONTROL", "retryable"),
            (400, "Throttling.User", "retryable"),
            (500, "isp.SYSTEM_ERROR", "ambiguous"),
            (200, "isv.SMS_TEMPLATE_ILLEGAL", "failed"),
        ],
    )
    def test_refusals_by_kind(
        self, china: China, gateway: AliyunGateway, status: int, code: str, kind: str
    ) -> None:
        china.standin.fail_next = [(status, code)]
        with pytest.raises(GatewayError) as refused:
            sms(gateway, offer_text(china))
        assert refused.value.kind == kind and code in str(refused.value)

    def test_no_answer_is_ambiguous(self, china: China, gateway: AliyunGateway) -> None:
        china.standin.stop()
        with pytest.raises(GatewayError) as lost:
            sms(gateway, offer_text(china))
        assert lost.value.kind == "ambiguous"


class TestFindSent:
    def test_finds_the_message_by_out_id(self, china: China, gateway: AliyunGateway) -> None:
        since = datetime.now(UTC) - timedelta(seconds=2)
        body = offer_text(china)
        sms(gateway, body)
        found = gateway.find_sent(TO, body, since)
        assert found is not None and found.status == "sent"  # no receipt yet
        query = china.standin.requests[-1]
        assert query["action"] == "QuerySendDetails"
        assert query["params"]["PhoneNumber"] == "13900000001"
        assert query["params"]["PageSize"] == "50" and query["params"]["CurrentPage"] == "1"
        assert len(query["params"]["SendDate"]) == 8

    def test_walks_the_pages(self, china: China, gateway: AliyunGateway) -> None:
        since = datetime.now(UTC) - timedelta(seconds=2)
        first = offer_text(china)
        sms(gateway, first)
        cancel = "您12月{}日（周四）下午2:00的预约已取消。需要时回复“预约”即可重新安排。"
        for day in range(1, 61):
            sms(gateway, cancel.format(day))
        assert gateway.find_sent(TO, cancel.format(60), since) is not None
        pages = [r["params"]["CurrentPage"] for r in china.standin.requests[-2:]]
        assert pages == ["1", "2"]

    def test_nothing_for_another_text_or_number(self, china: China, gateway: AliyunGateway) -> None:
        since = datetime.now(UTC) - timedelta(seconds=2)
        body = offer_text(china)
        sms(gateway, body, to="+8613900000002")
        assert gateway.find_sent(TO, body, since) is None


class TestVoice:
    def test_calls_switched_off_say_so(self, gateway: AliyunGateway) -> None:
        with pytest.raises(GatewayError, match="calls are switched off"):
            gateway.place_call(TO, answer_url="https://h/twilio/voice", status_callback=None)

    def test_calls_go_to_the_voice_gateway(self, china: China) -> None:
        class Voice:
            name = "twilio"

            def place_call(self, to, *, answer_url, status_callback):
                return SendResult(sid="CA" + "1" * 32, status="queued")

        result = AliyunGateway(china.settings, voice=Voice()).place_call(  # type: ignore[arg-type]
            TO, answer_url="https://h/twilio/voice", status_callback=None
        )
        assert result.sid.startswith("CA")


class TestNumbers:
    @pytest.mark.parametrize(
        ("e164", "national"), [("+8613900000001", "13900000001"), ("+85291234567", "85291234567")]
    )
    def test_phone_number(self, e164: str, national: str) -> None:
        assert phone_number(e164) == national

    @pytest.mark.parametrize(
        "pushed", ["13900000001", "8613900000001", "+8613900000001", "008613900000001"]
    )
    def test_from_pushed(self, pushed: str) -> None:
        assert from_pushed(pushed) == "+8613900000001"


class TestConfiguration:
    def test_defaults_keep_twilio_or_the_sandbox(self, settings) -> None:
        assert settings.gateway_choice == GatewayChoice() and settings.gateway == "sandbox"

    @pytest.mark.parametrize(
        ("drop", "message"),
        [
            ("ALIYUN_ACCESS_KEY_SECRET", "needs ALIYUN_ACCESS_KEY_ID and ALIYUN_ACCESS_KEY_SECRET"),
            ("ALIYUN_PUSH_SECRET", "needs ALIYUN_PUSH_SECRET"),
        ],
    )
    def test_missing_environment(self, tmp_path, drop: str, message: str) -> None:
        config = tmp_path / "c.toml"
        config.write_text(china_config(), encoding="utf-8")
        environ = china_environ(config, "sqlite://", "http://127.0.0.1:9")
        del environ[drop]
        with pytest.raises(ConfigError, match=message):
            load_settings(environ)

    @pytest.mark.parametrize(
        ("old", "new", "message"),
        [
            ('sms = "aliyun"', 'sms = "yunpian"', "gateway.sms must be one of"),
            ('voice = "off"', 'voice = "aliyun"', "gateway.voice must be one of"),
            (f'sign_name = "{SIGN}"', 'sign_name = "【星辰】"', "without 【】"),
            (f'sign_name = "{SIGN}"', 'sign_name = ""', "registered signature"),
            ("[gateway.aliyun.templates.zh-CN]", "[gateway.aliyun.templates.fr]", "templates.fr"),
        ],
    )
    def test_bad_values_name_the_key(self, tmp_path, old: str, new: str, message: str) -> None:
        config = tmp_path / "c.toml"
        config.write_text(china_config().replace(old, new), encoding="utf-8")
        with pytest.raises(ConfigError, match=message):
            load_settings(china_environ(config, "sqlite://", "http://127.0.0.1:9"))

    def test_a_typo_in_gateway_is_refused(self, tmp_path) -> None:
        config = tmp_path / "c.toml"
        config.write_text(
            china_config().replace('voice = "off"', 'voise = "off"'), encoding="utf-8"
        )
        with pytest.raises(ConfigError, match="voise"):
            load_settings(china_environ(config, "sqlite://", "http://127.0.0.1:9"))


def test_twilio_chosen_without_credentials_is_refused(tmp_path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(china_config().replace('sms = "aliyun"', 'sms = "twilio"'), encoding="utf-8")
    settings = load_settings({"OUTREACH_CONFIG": str(config)})
    with pytest.raises(ConfigError, match="needs TWILIO_ACCOUNT_SID"):
        check_gateway(settings)


def test_find_sent_ignores_the_same_text_sent_before_the_claim(china: China) -> None:
    """The same text to the same number earlier that day is not the send being looked up."""
    gateway = AliyunGateway(china.settings)
    body = "您12月3日（周四）下午2:00的预约已取消。需要时回复“预约”即可重新安排。"
    sms(gateway, body)
    china.standin.messages[0].sent_at -= timedelta(minutes=10)
    claimed = datetime.now(UTC) - timedelta(minutes=1)
    assert gateway.find_sent(TO, body, claimed) is None
    sms(gateway, body)
    assert gateway.find_sent(TO, body, claimed) is not None
