"""No raw code on a page: every page is rendered with every value of every code it can show
(callback reasons, statuses, campaigns, transcript speakers and channels, message states, visit
types, severities, booking sources, weekdays) in Chinese and in English, and a code left as it
is in the visible text fails the test."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest

from outreach.advisor_queue import OUTCOMES
from outreach.callbacks import REASONS
from outreach.campaigns import campaigns, day_before, no_show
from outreach.delivery import STATUS_RANK
from outreach.models import (
    APPOINTMENT_ACTIVE,
    SEVERITIES,
    VISIT_TYPES,
    Appointment,
    AppointmentJob,
    CallbackRequest,
    ContactAttempt,
    Outreach,
)
from tests.desk.conftest import NOW, make_callback
from tests.factories import make_advisor, make_customer, make_item, make_vehicle, make_visit

# Campaign codes written outside the due-customer campaigns (conversation/flow.py).
CAMPAIGNS = (*campaigns(), day_before.NAME, no_show.NAME, "inbound", "reschedule")
# What the product writes as a message's state besides the provider's statuses.
OUR_STATUSES = ("received", "replied", "queued", "said", "sent", "cancelled", "handed_off")
DIRECTIONS = ("in", "out", "note")
CHANNELS = ("sms", "voice", "desk")
CODES = sorted(
    {
        *REASONS,
        *OUTCOMES,
        *CAMPAIGNS,
        *STATUS_RANK,
        *OUR_STATUSES,
        "open",
        "claimed",
        "done",
        *APPOINTMENT_ACTIVE,
        *VISIT_TYPES,
        *SEVERITIES,
        *CHANNELS,
        "bot",
        "advisor",
        "callback_call_again",
        "callback_booked",
    }
)
SYSTEM_DETAILS = {
    "unanswered": "no reply after 3 contacts (maintenance_interval)",
    "bad_number": "sms SM0123 undelivered: carrier error 30005",
    "send_unknown": "outbox #12 (sms): no answer from the provider",
    "bot_error": "sms from +8613900000000: call_me failed",
}
ENGLISH_ONLY = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "min")


class _Text(HTMLParser):
    """The text a person sees: element text and option labels, not attributes or scripts, nor
    a system record (a carrier's error, kept verbatim for support, folded away)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "title") or (
            tag == "details" and ("class", "system-record") in attrs
        ):
            self._skip += 1
        for name, value in attrs:
            if name in ("placeholder", "aria-label") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title") or (tag == "details" and self._skip):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def raw_codes(text: str, *, english: bool) -> list[str]:
    """Codes that appear as whole words (English pages: only codes no person would write)."""
    found = []
    for code in CODES:
        if english and not re.search(r"[_]", code):
            continue
        if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text):
            found.append(code)
    if not english:
        found += [w for w in ENGLISH_ONLY if re.search(rf"(?<![A-Za-z]){w}(?![A-Za-z])", text)]
    return found


def _seed(db) -> tuple[list[int], list[int], date]:
    """Everything the pages can show, each code at least once; returns (callbacks, customers)."""
    me = make_advisor(db, code="ZQ", name="赵倩")
    callbacks: list[int] = []
    customers: list[int] = []
    for n, code in enumerate(sorted(REASONS)):
        customer = make_customer(db, name=f"客户{n}")
        vehicle = make_vehicle(db, customer, plate=f"沪A{n:05d}", model="途观L")
        for m, kind in enumerate(VISIT_TYPES):
            make_visit(db, vehicle, NOW.date() - timedelta(days=30 * (m + 1)), 10000 - m, type=kind)
        for m, severity in enumerate(SEVERITIES):
            make_item(db, vehicle, NOW.date() + timedelta(days=m), severity=severity)
        campaign = CAMPAIGNS[n % len(CAMPAIGNS)]
        outreach = Outreach(
            customer_id=customer.id,
            vehicle_id=vehicle.id,
            status="open",
            campaign=campaign,
            planned_on=NOW.date() - timedelta(days=n % 10),
        )
        db.add(outreach)
        db.flush()
        statuses = [*STATUS_RANK, *OUR_STATUSES]
        for m, status in enumerate(statuses):
            db.add(
                ContactAttempt(
                    customer_id=customer.id,
                    outreach_id=outreach.id,
                    at=NOW - timedelta(minutes=len(statuses) - m),
                    channel=CHANNELS[m % 2],
                    direction=DIRECTIONS[m % 2],
                    kind="offer",
                    body=f"消息{m}",
                    status=status,
                )
            )
        for outcome in OUTCOMES:
            db.add(
                ContactAttempt(
                    customer_id=customer.id,
                    at=NOW - timedelta(minutes=1),
                    channel="desk",
                    direction="note",
                    kind=f"callback_{outcome}",
                    body="已电话联系",
                )
            )
        entry = make_callback(
            db,
            customer,
            # what each producer writes: escalation, delivery, the outbox, the conversation
            detail=SYSTEM_DETAILS.get(code, "我想问一下保养要多久"),
            reason=code,
            priority=REASONS[code].priority,
            outreach_id=outreach.id,
            created_at=NOW - timedelta(minutes=30 * n),
        )
        callbacks.append(entry.id)
        customers.append(customer.id)
    # one entry per callback status, one to call again later
    later = make_callback(db, make_customer(db, name="稍后"), call_again_at=NOW + timedelta(days=1))
    db.add(later)
    day = (NOW + timedelta(days=1)).date()
    sources = ("bot", "advisor", "inbound")
    for n, status in enumerate(APPOINTMENT_ACTIVE * 3):
        vehicle = make_vehicle(db, make_customer(db, name=f"车主{n}"), model="帕萨特")
        db.add(
            Appointment(
                customer_id=vehicle.customer_id,
                vehicle_id=vehicle.id,
                advisor_id=me.id,
                status=status,
                source=sources[n % 3],
                starts_at=NOW + timedelta(days=1, hours=n % 6),
                jobs=[
                    AppointmentJob(
                        job_code="maintenance", description="常规保养", labour_hours=1.5, price=680
                    )
                ],
            )
        )
    db.commit()
    return callbacks, customers, day


def _claim_all(db, user_id: int, ids: list[int]) -> None:
    for callback in db.query(CallbackRequest).filter(CallbackRequest.id.in_(ids[::2])):
        callback.status = "claimed"
        callback.claimed_by = user_id
        callback.claimed_at = NOW
    db.commit()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_no_raw_code_on_any_page(desk_client, db, advisor_user, lang):
    """The queue, every entry (claimed: with its forms), the board, the stats and the
    simulator, in both languages: codes are shown as words."""
    callbacks, customers, day = _seed(db)
    _claim_all(db, advisor_user.id, callbacks)
    desk_client.client.get(f"/lang/{lang}?next=/queue/")
    pages = [
        "/queue/",
        *(f"/queue/{c}" for c in callbacks),
        f"/board/?day={day.isoformat()}",
        "/stats/",
        *(f"/simulator/{c}" for c in customers[:3]),
        "/simulator/?q=客户",
    ]
    problems = {}
    for path in pages:
        response = desk_client.client.get(path)
        assert response.status_code == 200, path
        found = raw_codes(visible(response.get_data(as_text=True)), english=lang == "en")
        if found:
            problems[path] = found
    assert not problems, f"raw codes on {lang} pages: {problems}"


def test_checker_finds_a_raw_code():
    """The check itself: a reason code, an English weekday and 'min' on a Chinese page fail."""
    html = "<td>call_me</td><td>03-13 Thu 10:00</td><td>5 / 120 min</td><option>booked</option>"
    assert set(raw_codes(visible(html), english=False)) == {"call_me", "Thu", "min", "booked"}
    assert raw_codes(visible(html), english=True) == ["call_me"]
    assert (
        raw_codes(visible('<a title="call_me" href="/x?reason=call_me">回电</a>'), english=False)
        == []
    )


def test_outcome_has_no_preset_choice(desk_client, db, advisor_user):
    """The outcome drop-down starts on "choose…", so a complaint is never saved as booked."""
    callbacks, _, _ = _seed(db)
    _claim_all(db, advisor_user.id, callbacks)
    page = desk_client.client.get(f"/queue/{callbacks[0]}").get_data(as_text=True)
    select = re.search(r'<select name="outcome"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    first = re.search(r"<option([^>]*)>", select.group(1))
    assert first is not None and 'value=""' in first.group(1) and "selected" in first.group(1)
    assert "required" in page[select.start() : select.start() + 60]
