"""A reply that books survives one deadlock or busy database: the request runs again, once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from outreach.conversation import start_offer
from outreach.models import Appointment, CallbackRequest, ContactAttempt, WebhookEvent
from tests.capacity.transient import fail_first_unit_update
from tests.conversation.conftest import plan_outreach
from tests.webhooks.conftest import NOW, TwilioPoster, make_app
from webhooks.handlers import conversation_handlers


@pytest.mark.parametrize(
    "committing_engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)  # fmt: skip
def test_a_booking_reply_that_hits_a_deadlock_books_once(settings, committing_engine, db, customer):
    """ "2" whose first ledger update is a deadlock victim still books, once, and confirms."""
    outreach = plan_outreach(db, customer)
    start_offer(db, settings, outreach, now=NOW, channel="sms")
    db.commit()
    app = make_app(settings, committing_engine, HANDLERS=conversation_handlers())
    engine = app.extensions["outreach.engine"]
    try:
        with fail_first_unit_update(engine) as failed:
            response = TwilioPoster(app.test_client(), settings.sandbox_auth_token).sms("2")
    finally:
        engine.dispose()
    assert len(failed) == 1
    assert response.status_code == 200
    assert "预约已确认" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Appointment)) == 1
    assert db.scalar(select(func.count()).where(ContactAttempt.direction == "in")) == 1
    assert db.scalar(select(func.count()).select_from(WebhookEvent)) == 1
    assert db.scalar(select(func.count()).select_from(CallbackRequest)) == 0
