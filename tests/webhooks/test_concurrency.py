"""Two copies of one webhook arriving at the same moment have the effect of one."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from outreach.conversation import start_offer
from outreach.models import Appointment, ContactAttempt, WebhookEvent
from tests.conversation.conftest import plan_outreach
from tests.webhooks.conftest import (
    FAKE_HANDLERS,
    NOW,
    TwilioPoster,
    fake_handle_sms,
    make_app,
    new_sid,
)
from webhooks.handlers import conversation_handlers


def slow_handle_sms(*args, **kwargs):  # type: ignore[no-untyped-def]
    # Hold the transaction open so that the second copy arrives while the first is working.
    time.sleep(0.3)
    return fake_handle_sms(*args, **kwargs)


def post_twice_at_once(app, settings, body: str) -> list[tuple[int, bytes]]:  # type: ignore[no-untyped-def]
    """Post one SMS (one MessageSid) from two threads released together; (status, body) each."""
    sid = new_sid()
    start = threading.Barrier(2)
    answers: list[tuple[int, bytes]] = []

    def post() -> None:
        poster = TwilioPoster(app.test_client(), settings.sandbox_auth_token)
        start.wait()
        response = poster.sms(body, sid=sid)
        answers.append((response.status_code, response.get_data()))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    app.extensions["outreach.engine"].dispose()
    return answers


@pytest.mark.slow
@pytest.mark.parametrize("committing_engine", ["sqlite", "postgresql"], indirect=True)
def test_concurrent_duplicates_answer_alike_with_one_effect(
    settings, committing_engine, db, customer
):
    """Two threads posting the same MessageSid at once get the same TwiML; one effect."""
    handlers = replace(FAKE_HANDLERS, handle_sms=slow_handle_sms)
    app = make_app(settings, committing_engine, HANDLERS=handlers)
    answers = post_twice_at_once(app, settings, "明天上午")
    assert [code for code, _ in answers] == [200, 200]
    assert answers[0][1] == answers[1][1]
    assert "收到".encode() in answers[0][1]
    assert db.scalar(select(func.count()).where(ContactAttempt.direction == "in")) == 1
    assert db.scalar(select(func.count()).select_from(WebhookEvent)) == 1


@pytest.mark.slow
@pytest.mark.parametrize("committing_engine", ["sqlite", "postgresql"], indirect=True)
def test_concurrent_copies_of_a_booking_reply_book_once(settings, committing_engine, db, customer):
    """The real conversation: two copies of "2" at once answer the same confirmation, and the
    customer has one appointment, one inbound line and one handled-once row."""
    outreach = plan_outreach(db, customer)
    start_offer(db, settings, outreach, now=NOW, channel="sms")
    db.commit()
    app = make_app(settings, committing_engine, HANDLERS=conversation_handlers())
    answers = post_twice_at_once(app, settings, "2")
    assert [code for code, _ in answers] == [200, 200]
    assert answers[0][1] == answers[1][1]
    assert "预约已确认".encode() in answers[0][1]
    assert db.scalar(select(func.count()).select_from(Appointment)) == 1
    assert db.scalar(select(func.count()).where(ContactAttempt.direction == "in")) == 1
    assert db.scalar(select(func.count()).select_from(WebhookEvent)) == 1
