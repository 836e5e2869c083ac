"""How long the Aliyun gateway takes to read a text back as a registered template.

    python benchmarks/aliyun_templates.py --texts 2000

Every zh-CN script of the China set is registered (31 templates); the texts are offers,
confirmations and cancellations rendered with varied names, plates and times.  Prints the
time to build the registry (done once, at start) and the time per text to find its template
and variables (done once per send, before the request to Aliyun).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from outreach.scripts import render  # noqa: E402 - after the path set-up above
from outreach.scripts.examples import example_context  # noqa: E402
from outreach.scripts.templates import CHINA_SCRIPTS, Registry, sms_scripts  # noqa: E402
from outreach.settings import DEFAULT_CONFIG, Settings, load_settings  # noqa: E402

NAMES = ["李雷", "王芳", "欧阳娜娜", "张伟", "司马相如", "陈"]
PLATES = ["沪A12345", "苏E·13723", "京N·D1234", "粤B·8888学"]


def texts(settings: Settings, count: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(count):
        script = rng.choice(["offer", "confirmation", "cancelled"])
        context = example_context(script, "zh-CN", settings)
        if "customer" in context:
            context["customer"] = {"name": rng.choice(NAMES)}
        if context.get("vehicle"):
            context["vehicle"] = {"plate": rng.choice(PLATES), "model": "朗逸"}
        start = datetime(2026, 12, 1, 1, 0, tzinfo=UTC) + timedelta(minutes=15 * rng.randrange(300))
        if "appointment" in context:
            context["appointment"] = {**context["appointment"], "starts_at": start}
        out.append(render(settings, script, locale="zh-CN", channel="sms", **context))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=2000)
    args = parser.parse_args()
    settings = replace(
        load_settings({"OUTREACH_CONFIG": str(DEFAULT_CONFIG)}), scripts_override_dir=CHINA_SCRIPTS
    )
    codes = {
        name: f"SMS_{n}" for n, (loc, name) in enumerate(sms_scripts(settings)) if loc == "zh-CN"
    }
    began = time.perf_counter()
    registry = Registry(settings, {"zh-CN": codes}, "gateway.aliyun.templates")
    built = time.perf_counter() - began
    sample = texts(settings, args.texts, random.Random(5))
    timings = []
    for text in sample:
        began = time.perf_counter()
        resolved = registry.resolve(text)
        timings.append(time.perf_counter() - began)
        assert resolved is not None and resolved.template.fill(resolved.values) == text
    timings.sort()
    print(f"registry of {len(codes)} templates built in {built * 1000:.0f} ms")
    print(
        f"{len(sample)} texts resolved: median {statistics.median(timings) * 1e6:.0f} µs, "
        f"p99 {timings[int(len(timings) * 0.99)] * 1e6:.0f} µs, max {timings[-1] * 1e6:.0f} µs"
    )


if __name__ == "__main__":
    main()
