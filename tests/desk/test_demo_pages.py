"""The desk on the demo's own database, in real headless Chromium: the queue, the board with
bookings and their job lines, the stats and the simulator show a realistic day.

This is where the README's pictures come from: with OUTREACH_SCREENSHOTS=docs/screenshots the
run refreshes them (otherwise they go to a temporary folder).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from werkzeug.serving import make_server

from outreach.cli import main
from outreach.db import make_engine, make_sessionmaker
from outreach.demo import DEMO_USER
from outreach.models import Appointment, CallbackRequest
from tests.desk.test_browser import ARGS, CHROMIUM, SCREENSHOTS
from webhooks import create_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="needs Debian's chromium at /usr/bin/chromium",
    ),
]


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{folder / 'outreach-demo.db'}"
    result = CliRunner().invoke(
        main,
        ["demo", "--database-url", url, "--dir", str(folder / "data"), "--customers", "150"],
    )
    assert result.exit_code == 0, result.output
    return url


@pytest.fixture
def served(base_settings, demo_url) -> Iterator[str]:
    settings = replace(base_settings, database_url=demo_url)
    assert settings.gateway == "sandbox"
    app = create_app(settings, test_config={"SECRET_KEY": "demo-pages-secret-key-long-enough"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def page(served):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
        yield context.new_page()
        context.close()
        browser.close()


def _shot(page, name: str) -> None:
    Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def test_the_demo_day_on_the_desk(page, served, demo_url, base_settings):
    """Sign in as the demo advisor: a queue, bookings on the board, a funnel per campaign,
    and the booked customer's thread in the simulator, found by the id the demo prints."""
    engine = make_engine(demo_url)
    with make_sessionmaker(engine)() as session:
        # a booking with job lines when the demo made one, else the first
        booked = session.scalars(
            select(Appointment).order_by(~Appointment.job_lines.any(), Appointment.starts_at)
        ).first()
        waiting = session.scalars(select(CallbackRequest)).first()
        assert booked is not None and waiting is not None, "the demo left no booking or queue"
        day = booked.starts_at.astimezone(base_settings.tz).date().isoformat()
        ref = booked.customer.external_id
    engine.dispose()
    base = served
    page.goto(f"{base}/login")
    page.fill("input[name=username]", DEMO_USER[0])
    page.fill("input[name=password]", DEMO_USER[1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue/")
    assert page.locator("table.list tbody tr").count() > 0
    _shot(page, "queue")

    page.click("table.list tbody tr >> nth=0 >> a.button")
    page.wait_for_selector("ol.thread")
    _shot(page, "queue-entry")

    page.goto(f"{base}/board/?day={day}")
    assert page.locator("tr.appointment").count() > 0
    _shot(page, "board")

    page.goto(f"{base}/stats/")
    assert page.locator(".funnel-card").count() >= 4
    _shot(page, "stats")

    page.goto(f"{base}/simulator/?q={ref}")
    page.click("ul.pick a >> nth=0")
    page.wait_for_selector("ol.thread li.msg")
    _shot(page, "simulator")
