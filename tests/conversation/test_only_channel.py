"""One way of contact refused and the other asked for ("别打电话，短信联系就行"): the customer
keeps to that one.  Not an opt-out: the reply is handled as it asks, nothing goes out the way
they refused (outbox, escalation, reminders, campaigns), and the desk shows it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.consent import keep_to, may_contact
from outreach.conversation import understand
from outreach.conversation.normal import has, normalise
from outreach.escalation import escalate
from outreach.models import Appointment, ContactAttempt, Customer, OutboxMessage, Outreach
from outreach.outbox import claim_batch, enqueue
from outreach.planning import plan_outreach
from outreach.settings import Settings
from tests.conversation.conftest import NOW, SHANGHAI, Phone
from tests.factories import make_customer, make_item, make_vehicle

LOCAL = datetime(2026, 6, 3, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "state", "kind", "channel"),
    [
        ("别打电话哈，短信联系就行，我选3", "offer", "choose_option", "sms"),
        ("別打電話，有事發短信就好", "none", "unknown", "sms"),  # traditional characters
        ("不要打电话，我在开会，直接短信说价格就行", "handoff", "question", "sms"),
        ("别给我打电话确认了，我说了来就来，发短信就行", "booked", "confirm", "sms"),
        ("电话就别打了 短信通知就可以", "offer", "unknown", "sms"),
        ("Confirmed. Btw don't call me to confirm, text is fine", "booked", "confirm", "sms"),
        ("pls dont call, text me instead. option 2", "offer", "choose_option", "sms"),
        ("can't take calls at work, texting is better", "none", "unknown", "sms"),
        ("打我电话就行，别发短信了，我不看短信的", "handoff", "call_me", "voice"),
        ("please don't text, call me instead", "offer", "call_me", "voice"),
        ("I never read texts, just call me", "none", "call_me", "voice"),
    ],
)
def test_a_way_of_contact_kept_to_is_read_beside_what_is_asked(
    text: str, state: str, kind: str, channel: str
) -> None:
    n = {"offer": 3, "followup": 5}.get(state, 0)
    intent = understand(text, now_local=LOCAL, options=n, state=state)
    assert (intent.kind, intent.only_channel) == (kind, channel)


@pytest.mark.parametrize(
    "text",
    [
        "别打电话了",  # calls refused, nothing asked for instead: a stop
        "别再给我发短信了",
        "以后不要再打了 也别发短信",  # both refused
        "forget it. don't call, don't text.",
        "don't call me and don't text me either",
        "STOP",
    ],
)
def test_refusing_both_or_only_one_with_nothing_asked_for_stays_an_opt_out(text: str) -> None:
    intent = understand(text, now_local=LOCAL, options=3, state="offer")
    assert (intent.kind, intent.only_channel) == ("opt_out", None)


@pytest.mark.parametrize(
    "text", ["给我打个电话", "call me please", "短信收到了", "text me the price"]
)
def test_asking_for_one_way_without_refusing_the_other_keeps_both(text: str) -> None:
    assert understand(text, now_local=LOCAL, state="none").only_channel is None


@given(st.text(max_size=60))
@hsettings(max_examples=300, deadline=None)
def test_only_a_refusal_with_the_other_way_asked_for_keeps_to_one(text: str) -> None:
    """Whatever the text, a kept channel comes with a refusal of the other way and a request
    for this one (and never with an opt-out)."""
    intent = understand(text, now_local=LOCAL, options=3, state="offer")
    if intent.only_channel is not None:
        assert intent.kind not in ("opt_out", "wrong_number")
        norm = normalise(text)
        assert has(norm, "no_calls") != has(norm, "no_texts")


def test_the_pick_is_booked_and_the_customer_only_texted_from_then(
    session: Session, phone: Phone, offered: Outreach, customer: Customer
) -> None:
    third = offered.context["slots"][2]["starts_at"]
    reply = phone.text("别打电话哈，短信联系就行，我选3")
    (appt,) = session.scalars(select(Appointment).where(Appointment.customer_id == customer.id))
    assert appt.starts_at.isoformat() == third
    assert reply.kind == "confirmation"
    assert customer.opted_out_at is None
    assert (customer.only_channel, customer.preferred_channel) == ("sms", "sms")
    note = session.scalars(
        select(ContactAttempt).where(ContactAttempt.kind == "only_channel")
    ).one()
    assert note.body == "sms: 别打电话哈，短信联系就行，我选3"
    assert may_contact(customer, "sms") and not may_contact(customer, "voice")


def test_a_way_of_contact_said_alone_is_noted_and_the_times_shown_again(
    session: Session, phone: Phone, offered: Outreach, customer: Customer
) -> None:
    reply = phone.text("别打电话，有事发短信就好")
    assert reply.kind == "channel_noted"
    assert reply.text is not None and "只通过短信联系您" in reply.text and "1." in reply.text
    assert offered.status == "open" and customer.only_channel == "sms"
    assert offered.context.get("misses", 0) == 0  # understood: no miss counted


def test_calls_only_stops_texts_but_a_person_still_calls(
    session: Session, phone: Phone, offered: Outreach, customer: Customer
) -> None:
    reply = phone.text("打我电话就行，别发短信了，我不看短信的")
    assert reply.handoff and customer.opted_out_at is None
    assert customer.only_channel == "voice"
    assert may_contact(customer, "voice") and not may_contact(customer, "sms")


def _queued(session: Session, settings: Settings, customer: Customer, channel: str, key: str,
            answers: datetime | None = None) -> OutboxMessage:  # fmt: skip
    return enqueue(
        session, settings, customer=customer, channel=channel, body="您的车该保养了",
        idempotency_key=key, now=NOW, template="offer", holidays=(), answers=answers,
    )  # fmt: skip


def test_the_outbox_never_sends_the_way_refused(session: Session, settings: Settings) -> None:
    customer = make_customer(session, timezone="Asia/Shanghai")
    keep_to(session, customer, "sms", source="sms: 别打电话", now=NOW)
    call = _queued(session, settings, customer, "voice", "a")
    text = _queued(session, settings, customer, "sms", "b")
    at = datetime(2026, 6, 2, 10, 0, tzinfo=SHANGHAI)
    claimed = [c.id for c in claim_batch(session, settings, worker="w", now=at, holidays=())]
    assert claimed == [text.id]
    session.refresh(call)
    assert (call.status, call.last_error) == ("cancelled", "the customer keeps to sms")


def test_an_answer_to_their_own_message_goes_back_the_way_it_came(
    session: Session, settings: Settings
) -> None:
    customer = make_customer(session, timezone="Asia/Shanghai")
    keep_to(session, customer, "voice", source="sms: 别发短信，打电话", now=NOW)
    answer = _queued(session, settings, customer, "sms", "c", answers=NOW)
    claimed = [c.id for c in claim_batch(session, settings, worker="w", now=NOW, holidays=())]
    assert claimed == [answer.id]


def test_escalation_passes_over_a_call_to_a_customer_who_refused_calls(
    session: Session, settings: Settings
) -> None:
    customer = make_customer(session)
    keep_to(session, customer, "sms", source="sms: 别打电话", now=NOW)
    at = NOW - timedelta(hours=48)
    outreach = Outreach(
        customer_id=customer.id, status="open", campaign="maintenance_interval",
        planned_on=date(2026, 5, 31), last_contact_at=at, created_at=at,
    )  # fmt: skip
    session.add(outreach)
    session.flush()
    offer = ContactAttempt(
        customer_id=customer.id, outreach_id=outreach.id, at=at, channel="sms",
        direction="out", kind="offer", body="回复1预约",
    )  # fmt: skip
    session.add(offer)
    session.flush()
    assert escalate(session, settings, NOW, holidays=())["voice"] == 0
    assert outreach.step == 2  # the call step is passed over, the next one is due in its time
    assert session.scalars(select(OutboxMessage)).all() == []
    note = session.scalars(select(ContactAttempt).where(ContactAttempt.kind == "escalation")).one()
    assert note.body == "step 2/4: no voice (not wanted)"


def test_a_campaign_uses_the_way_kept_to_whatever_the_import_said(
    session: Session, settings: Settings
) -> None:
    customer = make_customer(session)
    make_item(session, make_vehicle(session, customer), due_by=date(2026, 6, 9))
    keep_to(session, customer, "sms", source="sms: 别打电话", now=NOW)
    customer.preferred_channel = "voice"  # a later import from the DMS
    (planned,) = plan_outreach(
        session, settings, today=date(2026, 6, 2), now=NOW, campaigns=["deferred_work"]
    )
    assert planned.channel == "sms"
