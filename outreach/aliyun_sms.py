"""The Aliyun SMS gateway (Dysmsapi 2017-05-25): the only module that talks to Aliyun's API.

Mainland Chinese carriers deliver only registered templates under a registered signature (签名),
so nothing goes out as free text: the outbox's text is read back as one of the dealership's
registered templates (:class:`outreach.scripts.templates.Registry`) and sent as ``SendSms``
with ``SignName``, ``TemplateCode`` and ``TemplateParam`` (the variables, JSON).  The official
SDK signs every request (ACS3-HMAC-SHA256); ``ALIYUN_SMS_ENDPOINT`` points it at a stand-in.

Replies (SmsUp) and delivery reports (SmsReport) arrive by HTTP push: see
:mod:`outreach.aliyun_push`.  Calls are not Aliyun's: they go to the voice
gateway given (Twilio), or are refused with a clear message when voice is switched off.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import models as api_models
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_util import models as util_models
from Tea.exceptions import TeaException

from outreach.gateway import Gateway, GatewayError, SendResult
from outreach.gateway_config import AliyunSettings
from outreach.scripts.templates import ALIYUN, Registry, Resolved, value_problems
from outreach.settings import Settings

log = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")  # SendDate and the pushes' times are Beijing time
# SendSms refusals by what to do about them (Aliyun's API error codes).
BAD_NUMBER_CODES = frozenset({"isv.MOBILE_NUMBER_ILLEGAL"})
RETRYABLE_CODES = frozenset(
    {"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "Throttling.User", "Throttling"}
)
# SmsReport err_code values (carrier receipts) that mean the number does not exist or is out
# of service (as Twilio's 21211: an advisor checks the number) or that the recipient refuses
# our messages (as Twilio's 21610: opted out).
REPORT_BAD_NUMBER = frozenset(
    {"MOBILE_NUMBER_ILLEGAL", "MOBILE_NOT_ON_SERVICE", "MOBILE_NOT_EXIST", "MK:0001", "DB:0101"}
)
REPORT_BLOCKED = frozenset({"USER_REJECT", "MOBILE_IN_BLACK", "MBBLACK"})
QUERY_PAGE_SIZE = 50  # QuerySendDetails allows 1-50 a page
MAX_QUERY_PAGES = 4


def make_client(config: AliyunSettings) -> Client:
    """An SDK client for ``config``: HTTPS to Aliyun, or plain HTTP to an ``http://`` stand-in."""
    endpoint, protocol = config.endpoint, "https"
    for scheme in ("http://", "https://"):
        if endpoint.startswith(scheme):
            protocol, endpoint = scheme[:-3], endpoint[len(scheme) :]
    millis = int(config.http_timeout_seconds * 1000)
    return Client(
        api_models.Config(
            access_key_id=config.access_key_id,
            access_key_secret=config.access_key_secret,
            endpoint=endpoint.rstrip("/"),
            protocol=protocol,
            read_timeout=millis,
            connect_timeout=millis,
        )
    )


def phone_number(e164: str) -> str:
    """The number as Dysmsapi takes it: 11 digits for +86, else country code + number."""
    digits = e164.lstrip("+")
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


def from_pushed(number: str) -> str:
    """A pushed ``phone_number`` (``1381111xxxx``, ``86…``, ``+86…``) as E.164."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        return "+86" + digits
    if digits.startswith("0086"):
        return "+" + digits[2:]
    return "+" + digits


def out_id(to: str, body: str) -> str:
    """The ``OutId`` sent with a message: the same text to the same number has the same one,
    so :meth:`AliyunGateway.find_sent` recognises it in QuerySendDetails."""
    return hashlib.sha256(f"{to}\n{body}".encode()).hexdigest()[:32]


class AliyunGateway:
    """Send SMS as registered templates through Aliyun; calls through ``voice`` (or refused)."""

    name = "aliyun"

    def __init__(self, settings: Settings, *, voice: Gateway | None = None) -> None:
        config = settings.gateway_choice.aliyun
        if config is None or not config.access_key_id:
            raise ValueError("AliyunGateway needs [gateway.aliyun] and ALIYUN_ACCESS_KEY_*")
        self.settings = settings
        self.config = config
        self.voice = voice
        # Refuses, naming each script, whatever registered script cannot be a template.
        self.registry = Registry(settings, config.templates, "gateway.aliyun.templates", ALIYUN)
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = make_client(self.config)
        return self._client

    def _runtime(self) -> util_models.RuntimeOptions:
        millis = int(self.config.http_timeout_seconds * 1000)
        # No SDK retries: a resend is decided by the outbox after a look-up (the crash rule).
        return util_models.RuntimeOptions(
            read_timeout=millis, connect_timeout=millis, autoretry=False, max_attempts=0
        )

    def resolve(self, body: str) -> Resolved:
        """The registered template and variables that read exactly ``body``."""
        resolved = self.registry.resolve(body)
        if resolved is None:
            raise GatewayError(
                "failed",
                "no registered template reads this text (register its script under "
                f"[gateway.aliyun.templates]): {body[:40]!r}",
            )
        return resolved

    def send_sms(
        self, to: str, body: str, *, status_callback: str | None, validity_seconds: int | None
    ) -> SendResult:
        """SendSms with the template code and variables; the report comes by SmsReport push."""
        resolved = self.resolve(body)
        for name, value in resolved.values.items():
            problems = value_problems(name, value, ALIYUN)
            if problems:  # Aliyun would refuse it: say why, without a request
                script = f"{resolved.template.locale}/{resolved.template.script}"
                raise GatewayError("failed", f"template {script}: {'; '.join(problems)}")
        request = sms_models.SendSmsRequest(
            phone_numbers=phone_number(to),
            sign_name=self.config.sign_name,
            template_code=resolved.code,
            template_param=json.dumps(resolved.values, ensure_ascii=False),
            out_id=out_id(to, body),
        )
        answer = self._call(
            "SendSms", to, lambda: self.client.send_sms_with_options(request, self._runtime())
        )
        biz_id = str(answer.get("BizId") or "")
        if not biz_id:
            raise GatewayError("ambiguous", "SendSms answered OK without a BizId")
        return SendResult(sid=biz_id, status="queued")

    def _call(self, action: str, to: str, call: Any) -> dict[str, Any]:
        try:
            response = call()
        except AlibabaCloudException as exc:
            code = str(exc.code or "")
            status = int(getattr(exc, "statusCode", 0) or 0)
            log.warning("aliyun %s to …%s refused: %s %s", action, to[-4:], status, code)
            raise GatewayError(
                _kind(code, status), f"{action} {status} {code}: {exc.message}"
            ) from exc
        except TeaException as exc:
            # A timeout or a lost connection: the request may have reached Aliyun.
            raise GatewayError("ambiguous", f"{action}: {exc.message}") from exc
        body = response.body.to_map() if response.body is not None else {}
        code = str(body.get("Code") or "")
        if code != "OK":
            raise GatewayError(_kind(code, 200), f"{action} {code}: {body.get('Message', '')}")
        return body

    def place_call(self, to: str, *, answer_url: str, status_callback: str | None) -> SendResult:
        """Calls go through the voice gateway; without one, refused with the reason."""
        if self.voice is None:
            raise GatewayError(
                "failed",
                'calls are switched off: [gateway] voice = "off", or voice = "twilio" without '
                "TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN (Aliyun SMS does not place calls)",
            )
        return self.voice.place_call(to, answer_url=answer_url, status_callback=status_callback)

    def find_sent(self, to: str, body: str, since: datetime) -> SendResult | None:
        """QuerySendDetails for ``to`` on the days since ``since``: the message with our OutId
        (or, for a message sent without one, the same text after the signature)."""
        wanted = out_id(to, body)
        floor = since.astimezone(CHINA).replace(microsecond=0) - timedelta(seconds=1)
        day = floor.date()
        last = datetime.now(CHINA).date()
        while day <= last:
            for page in range(1, MAX_QUERY_PAGES + 1):
                request = sms_models.QuerySendDetailsRequest(
                    phone_number=phone_number(to),
                    send_date=day.strftime("%Y%m%d"),
                    page_size=QUERY_PAGE_SIZE,
                    current_page=page,
                )
                answer = self._call(
                    "QuerySendDetails",
                    to,
                    lambda request=request: self.client.query_send_details_with_options(
                        request, self._runtime()
                    ),
                )
                details = (answer.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
                for detail in details:
                    content = str(detail.get("Content", ""))
                    ours = detail.get("OutId") == wanted or content.endswith(body)
                    if ours and _sent_at(detail) >= floor:
                        return SendResult(sid=_biz_id(detail), status=_query_status(detail))
                if len(details) < QUERY_PAGE_SIZE:
                    break
            day += timedelta(days=1)
        return None


def _sent_at(detail: dict[str, Any]) -> datetime:
    # SendDate is Beijing time, "2026-12-03 10:15:00"; an unreadable one counts as recent.
    try:
        return datetime.strptime(f"{detail.get('SendDate')} +0800", "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        return datetime.max.replace(tzinfo=CHINA)


def _biz_id(detail: dict[str, Any]) -> str:
    # QuerySendDetails does not return the BizId in every version; OutId identifies ours.
    return str(detail.get("BizId") or detail.get("OutId") or "")


def _query_status(detail: dict[str, Any]) -> str:
    # SendStatus: 1 waiting for the receipt, 2 failed, 3 delivered.
    return {1: "sent", 2: "undelivered", 3: "delivered"}.get(
        int(detail.get("SendStatus") or 1), "sent"
    )


def _kind(code: str, status: int) -> str:
    if code in BAD_NUMBER_CODES:
        return "bad_number"
    if code in RETRYABLE_CODES or code.startswith("Throttling") or status == 429:
        return "retryable"
    if status >= 500 or code.startswith("isp."):
        return "ambiguous"
    return "failed"
