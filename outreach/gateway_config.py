"""Which provider carries SMS and calls (``[gateway]``), and the Aliyun SMS account's settings.

``[gateway] sms`` is "twilio", "aliyun" or "sandbox" (default: Twilio when its credentials are
set, else the sandbox); ``voice`` is "twilio" or "off" (a market without calls from the bot).
With Aliyun the dealership names its registered signature (签名) and, per locale, the template
code (模板 Code) registered for each SMS script; the credentials, the API address and the
secret of the push addresses come from the environment, never from the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from outreach.config_reader import LOCALES, ConfigError, ConfigReader

SMS_PROVIDERS = ("twilio", "aliyun", "sandbox")
VOICE_PROVIDERS = ("twilio", "off")
ALIYUN_ENDPOINT = "dysmsapi.aliyuncs.com"


@dataclass(frozen=True)
class AliyunSettings:
    """``[gateway.aliyun]`` plus ``ALIYUN_*`` from the environment."""

    sign_name: str
    # locale → script name → registered template code
    templates: dict[str, dict[str, str]] = field(default_factory=dict)
    access_key_id: str = ""
    access_key_secret: str = ""
    endpoint: str = ALIYUN_ENDPOINT  # host[:port], or an http(s):// URL of a stand-in
    push_secret: str = ""  # the last path segment of the SmsUp / SmsReport addresses
    http_timeout_seconds: float = 5.0

    def code_for(self, locale: str, script: str) -> str | None:
        return self.templates.get(locale, {}).get(script)


@dataclass(frozen=True)
class GatewayChoice:
    """``[gateway]``: ``sms`` None means "Twilio if configured, else the sandbox"."""

    sms: str | None = None
    voice: str = "twilio"
    aliyun: AliyunSettings | None = None


def parse_gateway(r: ConfigReader) -> GatewayChoice:
    """Read ``[gateway]`` (and ``[gateway.aliyun]`` when SMS goes through Aliyun)."""
    sms = r.get("gateway.sms", None)
    if sms is not None and sms not in SMS_PROVIDERS:
        raise r.fail("gateway.sms", "one of " + ", ".join(SMS_PROVIDERS), sms)
    voice = r.choice("gateway.voice", "twilio", VOICE_PROVIDERS)
    aliyun = None
    raw = r.get("gateway.aliyun", None)
    if sms == "aliyun" or raw is not None:
        sign = r.text("gateway.aliyun.sign_name", "")
        if sms == "aliyun" and not sign.strip():
            raise r.fail("gateway.aliyun.sign_name", "the registered signature (签名)", sign)
        if "【" in sign or "】" in sign:
            raise r.fail("gateway.aliyun.sign_name", "the signature without 【】", sign)
        templates: dict[str, dict[str, str]] = {}
        table = r.get("gateway.aliyun.templates", {})
        if not isinstance(table, dict):
            raise r.fail("gateway.aliyun.templates", "a table of locale = {script = code}", table)
        for locale in table:
            if locale not in LOCALES:
                raise r.fail(
                    f"gateway.aliyun.templates.{locale}", "one of " + ", ".join(LOCALES), locale
                )
            codes = r.get(f"gateway.aliyun.templates.{locale}", {})
            if not isinstance(codes, dict):
                raise r.fail(
                    f"gateway.aliyun.templates.{locale}", "a table of script = code", codes
                )
            templates[locale] = {
                name: r.text(f"gateway.aliyun.templates.{locale}.{name}", None) for name in codes
            }
        aliyun = AliyunSettings(sign_name=sign.strip(), templates=templates)
    return GatewayChoice(sms=sms, voice=voice, aliyun=aliyun)


def with_environment(choice: GatewayChoice, environ: dict[str, str] | Any) -> GatewayChoice:
    """Add ``ALIYUN_ACCESS_KEY_ID``/``_SECRET``, ``ALIYUN_SMS_ENDPOINT`` and
    ``ALIYUN_PUSH_SECRET`` to the Aliyun settings; refuse an Aliyun gateway without them."""
    if choice.sms != "aliyun" or choice.aliyun is None:
        return choice
    key_id = environ.get("ALIYUN_ACCESS_KEY_ID") or ""
    key_secret = environ.get("ALIYUN_ACCESS_KEY_SECRET") or ""
    if not (key_id and key_secret):
        raise ConfigError(
            '[gateway] sms = "aliyun" needs ALIYUN_ACCESS_KEY_ID and ALIYUN_ACCESS_KEY_SECRET'
        )
    push = environ.get("ALIYUN_PUSH_SECRET") or ""
    if len(push) < 16:
        raise ConfigError(
            '[gateway] sms = "aliyun" needs ALIYUN_PUSH_SECRET (16 characters or more): the last '
            "segment of the SmsUp and SmsReport push addresses"
        )
    raw_timeout = environ.get("ALIYUN_HTTP_TIMEOUT") or "5"
    try:
        timeout = float(raw_timeout)
    except ValueError:
        timeout = 0.0
    if timeout <= 0:
        raise ConfigError(
            f"ALIYUN_HTTP_TIMEOUT must be a number of seconds > 0, got {raw_timeout!r}"
        )
    aliyun = replace(
        choice.aliyun,
        access_key_id=key_id,
        access_key_secret=key_secret,
        endpoint=environ.get("ALIYUN_SMS_ENDPOINT") or ALIYUN_ENDPOINT,
        push_secret=push,
        http_timeout_seconds=timeout,
    )
    return replace(choice, aliyun=aliyun)
