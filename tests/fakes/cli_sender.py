"""Run the product's own ``outreach dispatch`` command against the Twilio stand-in.

For the reliability suite (``benchmarks/soak_dispatch.py``) and the database-drop test:
each sender is a separate process running the shipped command line, configured the way a
dealership would (a TOML file plus ``TWILIO_*`` variables), with the contact window open
around the clock so that a run never waits for the morning.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import make_url

from outreach.settings import DEFAULT_CONFIG
from tests.fakes.twilio_standin import ACCOUNT, SENDER, TOKEN

ROOT = Path(__file__).resolve().parents[2]
MAIN = "import sys; from outreach.cli import main; sys.exit(main())"


def write_config(folder: Path, **sending: float) -> Path:
    """The example configuration with ``[sending]`` values replaced and the window always open."""
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    window = text.index("[contact_window]")
    head, tail = text[:window], text[window:]
    tail = re.sub(r'(?m)^start = "09:00"', 'start = "00:00"', tail, count=1)
    tail = re.sub(r'(?m)^end = "20:00"', 'end = "23:59:59"', tail, count=1)
    tail = re.sub(r"(?m)^holidays = false", "holidays = true", tail, count=1)
    for key, value in sending.items():
        tail, found = re.subn(rf"(?m)^{key} = [0-9.]+", f"{key} = {value:g}", tail, count=1)
        if not found:
            raise ValueError(f"[sending] {key} not in {DEFAULT_CONFIG}")
    path = folder / "dealership.toml"
    path.write_text(head + tail, encoding="utf-8")
    return path


def sender_env(url: str, standin: str, config: Path, name: str, timeout: float = 5.0) -> dict:
    """The environment of one sender: its own ``application_name`` on PostgreSQL."""
    if url.startswith("postgresql"):
        url = (
            make_url(url)
            .update_query_dict({"application_name": name})
            .render_as_string(hide_password=False)
        )
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": url,
        "OUTREACH_CONFIG": str(config),
        "OUTREACH_SECRET_KEY": "soak-" + "k" * 40,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM": SENDER,
        "TWILIO_API_BASE_URL": standin,
        "TWILIO_HTTP_TIMEOUT": str(timeout),
        "PUBLIC_BASE_URL": "https://soak.example",
    }


def start_sender(env: dict, log: Path, every: float = 2.0) -> subprocess.Popen[bytes]:
    """``outreach dispatch --every EVERY`` in its own process, output to ``log``."""
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-c", MAIN, "dispatch", "--every", str(every)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
