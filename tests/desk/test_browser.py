"""In real headless Chromium: sign in, work a queue entry to "booked", see it on the board.

Screenshots of each page go to a temporary folder on every run (the README's pictures come
from the demo: tests/desk/test_demo_pages.py).  Skipped only when Debian's chromium is absent
outside CI; in CI a missing browser fails the run.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from outreach.accounts import add_user
from outreach.models import Appointment, AppointmentJob, CallbackRequest, ContactAttempt, Outreach
from tests.desk.conftest import NOW, PASSWORD, create_test_app, make_callback
from tests.factories import make_advisor, make_customer, make_item, make_vehicle, make_visit

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(
    os.environ.get("OUTREACH_SCREENSHOTS") or Path(tempfile.gettempdir()) / "outreach-screenshots"
)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="needs Debian's chromium at /usr/bin/chromium",
    ),
]


def _seed(db) -> int:
    """A small dealership day: a queue, tomorrow's board, a few weeks of results."""
    wang = make_advisor(db, code="WF", name="王芳")
    zhao = make_advisor(db, code="ZQ", name="赵倩")
    add_user(db, "wang", PASSWORD, advisor_code="WF")
    customer = make_customer(db, name="张伟", phone="+8613900001111")
    vehicle = make_vehicle(db, customer, plate="沪B77777", model="Volkswagen Tiguan L")
    visit = make_visit(db, vehicle, NOW.date() - timedelta(days=95), 42000, advisor_id=wang.id)
    make_item(db, vehicle, NOW.date() + timedelta(days=20), visit_id=visit.id)
    outreach = Outreach(
        customer_id=customer.id,
        vehicle_id=vehicle.id,
        status="open",
        campaign="maintenance_interval",
        planned_on=NOW.date() - timedelta(days=2),
    )
    db.add(outreach)
    db.flush()
    for minutes, direction, body in (
        (180, "out", "张先生您好，您的途观L距上次保养已满3个月，本周六上午可以来店保养吗？回T退订"),
        (170, "in", "周六不行，工作日下午可以吗？"),
        (160, "out", "抱歉没有理解您的意思，请回复 1 选择周三 14:00，或回复 2 让顾问联系您"),
        (70, "in", "请直接给我打电话"),
    ):
        db.add(
            ContactAttempt(
                customer_id=customer.id,
                outreach_id=outreach.id,
                at=NOW - timedelta(minutes=minutes),
                channel="sms",
                direction=direction,
                kind="reply" if direction == "in" else "offer",
                body=body,
                status="delivered" if direction == "out" else None,
            )
        )
    callback = make_callback(db, customer, outreach_id=outreach.id, detail="希望工作日下午来店")
    others = (("complaint", 10, "李娜", "上次洗车不干净"), ("unanswered", 60, "陈静", None))
    for reason, priority, name, detail in others:
        make_callback(
            db,
            make_customer(db, name=name),
            reason=reason,
            priority=priority,
            detail=detail,
            created_at=NOW - timedelta(minutes=45),
        )
    for hour, advisor, name, jobs in (
        (9, wang, "刘洋", [("保养", 1.5), ("更换刹车片", 1.0)]),
        (9, zhao, "孙丽", [("空调检查", 0.5)]),
        (14, zhao, "周强", [("四轮定位", 1.0)]),
    ):
        v = make_vehicle(db, make_customer(db, name=name))
        db.add(
            Appointment(
                customer_id=v.customer_id,
                vehicle_id=v.id,
                advisor_id=advisor.id,
                starts_at=NOW.replace(hour=hour - 8) + timedelta(days=1),  # local 09:00 = 01:00 UTC
                mileage_reported_km=38000,
                faults_reported="冷启动有异响",
                designated_technician="老周",
                special_services="免费洗车",
                jobs=[
                    AppointmentJob(job_code=j, description=j, labour_hours=h, price=0)
                    for j, h in jobs
                ],
            )
        )
    for weeks_back in range(4):
        planned = date(2025, 3, 3) - timedelta(weeks=weeks_back)
        for n in range(6 - weeks_back):
            c = make_customer(db)
            o = Outreach(
                customer_id=c.id,
                status="booked" if n < 2 else "open",
                campaign="maintenance_interval" if n % 2 else "deferred_work",
                planned_on=planned,
            )
            db.add(o)
            db.flush()
            db.add(
                ContactAttempt(
                    customer_id=c.id,
                    outreach_id=o.id,
                    at=NOW,
                    channel="sms",
                    direction="out",
                    kind="offer",
                    status="delivered",
                )
            )
            if n < 2:
                v = make_vehicle(db, c)
                starts = NOW - timedelta(days=7 * weeks_back + 1)
                db.add(
                    Appointment(
                        customer_id=c.id,
                        vehicle_id=v.id,
                        outreach_id=o.id,
                        status="completed",
                        starts_at=starts,
                    )
                )
                make_visit(db, v, starts.date())
            else:
                make_visit(db, make_vehicle(db, c), NOW.date() - timedelta(days=7 * weeks_back + 2))
    db.commit()
    return callback.id


@pytest.fixture
def live_server(settings, committing_engine, db) -> Iterator[tuple[str, int]]:
    callback_id = _seed(db)
    db.close()
    app = create_test_app(settings, committing_engine)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", callback_id
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def page(live_server):
    if os.environ.get("CI"):
        import playwright.sync_api as sync_api  # in CI a missing package must fail the run
    else:
        sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
        yield context.new_page()
        context.close()
        browser.close()


SEEDED_SHOTS = Path(tempfile.gettempdir()) / "outreach-screenshots-seeded"


def _shot(page, name: str) -> None:
    SEEDED_SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SEEDED_SHOTS / f"{name}.png"), full_page=True)


def test_work_an_entry_to_booked(page, live_server):
    """An advisor signs in, claims an entry, books a slot, and finds it on tomorrow's board."""
    base, callback_id = live_server
    page.goto(f"{base}/queue/")
    assert "/login" in page.url
    page.fill("input[name=username]", "wang")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue/")
    assert page.locator("table.list tbody tr").count() == 3
    _shot(page, "queue")

    page.click(f"a[href='/queue/{callback_id}']")
    page.click("#claim")
    page.wait_for_selector("#book-form")
    assert "请直接给我打电话" in page.inner_text("ol.thread")
    slot = page.locator("select[name=starts_at]")
    if slot.count():  # the capacity module offers slots: take the first
        day = slot.input_value()[:10]
    else:
        day = "2025-03-11"
        page.fill("input[name=starts_at]", f"{day}T10:30")
    page.fill("#book-form input[name=note]", "工作日上午可以")
    _shot(page, "queue-entry")
    page.click("#book")
    page.wait_for_url(f"{base}/queue/")
    assert "已预约" in page.inner_text("p.flash")
    assert page.locator("table.list tbody tr").count() == 2

    page.goto(f"{base}/board/?day={day}")
    booked_day = page.inner_text("section.day >> nth=0")
    assert "张伟" in booked_day
    assert "沪B77777" in booked_day
    assert "工作日上午可以" in booked_day  # the advisor's note is on the board
    if day != "2025-03-10":
        page.goto(f"{base}/board/")  # the screenshot shows today and tomorrow
    _shot(page, "board")

    page.goto(f"{base}/stats/")
    assert page.locator("svg.chart rect").count() > 0
    _shot(page, "stats")

    page.goto(f"{base}/lang/en?next=/simulator/")
    page.click("text=张伟")
    page.wait_for_selector("ol.thread")
    assert "请直接给我打电话" in page.inner_text("ol.thread")
    assert "预约已确认" in page.inner_text("ol.thread")  # the desk booking's confirmation
    _shot(page, "simulator")


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "wang")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue/")


# The height of each cell's text in lines (a column squeezed to one character per line is tall).
_CELL_LINES = """
cells => cells.map(c => {
  const range = document.createRange();
  range.selectNodeContents(c);
  const tops = [...range.getClientRects()].map(r => r.top).sort((a, b) => a - b);
  const lines = tops.filter((top, i) => i === 0 || top - tops[i - 1] > 10).length;
  return [c.innerText.trim(), lines];
})
"""


def test_pages_read_well_on_a_workshop_pc(page, live_server, db):
    """At 1024 px: no column of the queue wraps a word per line, even beside a long detail; the
    board's date picker moves the board; the simulator opens on the newest message."""
    base, callback_id = live_server
    long_detail = (
        "2025-03-10 09:00 bot (sms): " + "您的预约已确认：到店时间 3月11日 周二 09:30，" * 12
    )
    entry = db.get(CallbackRequest, callback_id)
    entry.detail = long_detail
    db.commit()
    page.set_viewport_size({"width": 1024, "height": 800})
    _sign_in(page, base)
    headers = page.eval_on_selector_all("table.list th", _CELL_LINES)
    cells = page.eval_on_selector_all("table.list td.nowrap", _CELL_LINES)
    wrapped = [(text, n) for text, n in headers if n > 1] + [
        (text, n) for text, n in cells if n > 2
    ]
    assert not wrapped, f"cells wrapped: {wrapped}"
    assert len(page.inner_text("table.list tbody tr >> nth=0")) < 300

    page.goto(f"{base}/board/")
    page.fill("#day-picker input[name=day]", "2025-03-13")
    page.click("#day-picker button[type=submit]")
    page.wait_for_url(f"{base}/board/?day=2025-03-13")
    assert "2025-03-13 周四" in page.inner_text("section.day >> nth=0")

    page.goto(f"{base}/simulator/?q=1111")
    page.click("ul.pick a >> nth=0")
    page.fill("#sms-reply input[name=body]", "周六上午可以吗")
    page.click("#sms-reply button[type=submit]")
    page.wait_for_selector("#latest")
    at_bottom = page.eval_on_selector(
        "ol.thread", "t => t.scrollHeight - t.scrollTop - t.clientHeight < 4"
    )
    assert at_bottom, "the thread does not show its newest message"
    assert page.locator("#sms-thread li.msg.out").last.is_visible()
