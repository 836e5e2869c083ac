"""A dealership configured for mainland China: Aliyun SMS against the local stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from outreach.aliyun_standin import AliyunStandIn
from outreach.scripts.render import SHIPPED_DIR
from outreach.scripts.templates import CHINA_SCRIPTS, template_for
from outreach.settings import DEFAULT_CONFIG, Settings, load_settings

SIGN = "星辰汽车"
KEY_ID, KEY_SECRET = "LTAI5tStandInKeyId", "stand-in-access-key-secret"
PUSH_SECRET = "p8Vh2kQ9xR4mW7nB3cZ6"
# Every zh-CN SMS script as the dealership registered it, with the code Aliyun gave it.
_SMS = SHIPPED_DIR / "zh-CN" / "sms"
SCRIPTS = tuple(sorted(p.stem for p in _SMS.glob("*.j2") if not p.stem.startswith("_")))
CODES = {name: f"SMS_4{n:05d}" for n, name in enumerate(SCRIPTS, 1)}


def china_config(
    extra: str = "", *, scripts: Path = CHINA_SCRIPTS, codes: dict[str, str] | None = None
) -> str:
    """The example dealership with [gateway] sms = "aliyun" and a round-the-clock window."""
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    text = text.replace('override_dir = ""', f'override_dir = "{scripts}"')
    for key, value in (("start", '"00:00"'), ("end", '"23:59"'), ("holidays", "true")):
        text = _set(text, "contact_window", key, value)
    table = "\n".join(f'{name} = "{code}"' for name, code in (codes or CODES).items())
    return (
        text
        + f'\n[gateway]\nsms = "aliyun"\nvoice = "off"\n\n[gateway.aliyun]\nsign_name = "{SIGN}"\n'
        + f"\n[gateway.aliyun.templates.zh-CN]\n{table}\n"
        + extra
    )


def _set(text: str, section: str, key: str, value: str) -> str:
    head, _, rest = text.partition(f"[{section}]")
    lines = rest.split("\n")
    for n, line in enumerate(lines):
        if line.startswith(f"{key} ="):
            lines[n] = f"{key} = {value}"
            break
    return head + f"[{section}]" + "\n".join(lines)


def china_environ(config: Path, database_url: str, endpoint: str) -> dict[str, str]:
    return {
        "OUTREACH_CONFIG": str(config),
        "DATABASE_URL": database_url,
        "ALIYUN_ACCESS_KEY_ID": KEY_ID,
        "ALIYUN_ACCESS_KEY_SECRET": KEY_SECRET,
        "ALIYUN_SMS_ENDPOINT": endpoint,
        "ALIYUN_PUSH_SECRET": PUSH_SECRET,
        "PUBLIC_BASE_URL": "https://hooks.example.com",
        "OUTREACH_SECRET_KEY": "a-long-random-test-secret-key-0123456789",
    }


@dataclass
class China:
    settings: Settings
    environ: dict[str, str]
    standin: AliyunStandIn


@pytest.fixture
def china(tmp_path: Path) -> Iterator[China]:
    """Settings, environment and a running stand-in whose account has every template."""
    config = tmp_path / "dealership.toml"
    config.write_text(china_config(), encoding="utf-8")
    standin = AliyunStandIn(KEY_ID, KEY_SECRET, SIGN, {}).start()
    try:
        environ = china_environ(config, f"sqlite:///{tmp_path / 'china.db'}", standin.url)
        settings = load_settings(environ)
        standin.templates.update(
            {code: template_for(settings, "zh-CN", name).text for name, code in CODES.items()}
        )
        yield China(settings, environ, standin)
    finally:
        standin.stop()
