"""``outreach demo --sms aliyun-standin``: the demo sent through Aliyun SMS, to a local stand-in.

The dealership's SMS scripts become the China script set (``outreach/scripts/china``), each
registered with the stand-in under a template code; the Aliyun gateway sends every message as
template code + variables, exactly as it would to Aliyun, and the demo prints which template
and which variables each message used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace

from outreach.aliyun_sms import AliyunGateway
from outreach.aliyun_standin import AliyunStandIn
from outreach.gateway_config import AliyunSettings, GatewayChoice
from outreach.scripts.templates import CHINA_SCRIPTS, check_scripts
from outreach.settings import Settings

STANDIN_KEY = ("LTAI-demo-stand-in", "demo-stand-in-secret")
DEMO_SIGN = "星辰汽车"


@dataclass
class ChinaDemo:
    settings: Settings
    gateway: AliyunGateway
    standin: AliyunStandIn


def start_aliyun_standin(settings: Settings, sign: str = DEMO_SIGN) -> ChinaDemo:
    """Settings for Aliyun SMS with the China scripts, every zh-CN script registered with a
    running stand-in under its own code; voice is switched off (no Twilio in this demo)."""
    china = replace(settings, scripts_override_dir=CHINA_SCRIPTS)
    reports = [r for r in check_scripts(china, ("zh-CN",)) if not r.refused]
    codes = {r.template.script: f"SMS_9{n:05d}" for n, r in enumerate(reports, 1)}
    texts = {codes[r.template.script]: r.template.text for r in reports}
    standin = AliyunStandIn(STANDIN_KEY[0], STANDIN_KEY[1], sign, texts).start()
    aliyun = AliyunSettings(
        sign_name=sign,
        templates={"zh-CN": codes},
        access_key_id=STANDIN_KEY[0],
        access_key_secret=STANDIN_KEY[1],
        endpoint=standin.url,
        push_secret="demo-push-secret-not-for-production",  # noqa: S106 - no pushes in the demo
    )
    china = replace(china, gateway_choice=GatewayChoice(sms="aliyun", voice="off", aliyun=aliyun))
    return ChinaDemo(china, AliyunGateway(china), standin)


def print_sent(demo: ChinaDemo, echo: Callable[[str], None], show: int) -> None:
    """Which registered template and which variables each message went out with."""
    codes = {
        code: script
        for script, code in demo.settings.gateway_choice.aliyun.templates["zh-CN"].items()  # type: ignore[union-attr]
    }
    sent = demo.standin.messages
    echo(f"\nAliyun SMS (local stand-in at {demo.standin.url}): {len(sent)} SendSms accepted")
    for message in sent[:show]:
        echo(
            f"\n— SendSms to {message.phone}: SignName {message.sign_name}, TemplateCode "
            f"{message.template_code} ({codes.get(message.template_code, '?')})"
        )
        echo("  TemplateParam " + json.dumps(message.params, ensure_ascii=False, indent=1))
        echo(f"  the customer reads: {message.content}")
