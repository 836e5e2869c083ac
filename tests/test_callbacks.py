"""The advisor-queue vocabulary: one table of reasons, one way to file."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from outreach import callbacks
from outreach.models import ContactAttempt
from tests.factories import make_customer

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent
# A reason code passed as a literal to anything that files a callback.
_FILED = re.compile(
    r"(?:queue_callback|hand_off|_hand_off|queue_for_advisor)\([^)]*?"
    r"(?:reason=)?\"([a-z_]+)\"",
    re.DOTALL,
)


def _filed_in_code() -> set[str]:
    found: set[str] = set()
    for folder in ("outreach", "webhooks", "desk"):
        for path in (ROOT / folder).rglob("*.py"):
            found.update(_FILED.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_reason_filed_has_a_row():
    """Every reason code the product files is in the table (so it has labels and a target)."""
    filed = _filed_in_code() | {"complaint", "call_me"}  # these two by the reply's intent
    assert {"send_unknown", "bot_error", "unanswered", "bad_number"} <= filed
    assert filed - set(callbacks.REASONS) == set()


def test_every_reason_has_both_labels_and_a_target():
    """No reason shows a raw code or falls back to a default target."""
    for code, reason in callbacks.REASONS.items():
        assert reason.code == code
        assert reason.zh and reason.en and reason.zh != code
        assert reason.target_minutes > 0


def test_a_complaint_outranks_everything():
    """A complaint is the most urgent reason and has the shortest target."""
    complaint = callbacks.REASONS["complaint"]
    assert all(complaint.priority <= r.priority for r in callbacks.REASONS.values())
    assert all(complaint.target_minutes <= r.target_minutes for r in callbacks.REASONS.values())


def test_filing_takes_priority_from_the_table(session):
    """A filed callback carries its reason's priority and the given detail."""
    customer = make_customer(session)
    request = callbacks.queue_callback(
        session, customer=customer, reason="call_me", now=NOW, detail="请回电"
    )
    assert (request.reason, request.priority, request.detail) == ("call_me", 30, "请回电")


def test_an_unknown_reason_is_refused(session):
    """Filing a reason that is not in the table fails loudly instead of defaulting."""
    customer = make_customer(session)
    with pytest.raises(callbacks.UnknownReason, match="asked_for_call"):
        callbacks.queue_callback(session, customer=customer, reason="asked_for_call", now=NOW)


def test_an_old_code_reads_as_other():
    """A code an older version filed is shown as "other", never as a raw code."""
    assert callbacks.reason("no_longer_filed").zh == "其他"


def test_a_filed_entry_reads_as_the_customer_s_last_words(session):
    """Without a detail, the queue line is the customer's last messages, not a transcript of
    the bot's long confirmation, cut from the front to one line."""
    now = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
    customer = make_customer(session)
    session.flush()
    for minutes, direction, body in (
        (5, "in", "1"),
        (4, "out", "您的预约已确认：到店时间 3月11日 周二 09:30 …" * 5),
        (3, "in", "我要投诉，上次洗车  不干净"),
    ):
        session.add(
            ContactAttempt(
                customer_id=customer.id,
                at=now - timedelta(minutes=minutes),
                channel="sms",
                direction=direction,
                kind="x",
                body=body,
            )
        )
    entry = callbacks.queue_callback(session, customer=customer, reason="complaint", now=now)
    assert entry.detail == "1 / 我要投诉，上次洗车 不干净"
    session.add(
        ContactAttempt(
            customer_id=customer.id, at=now, channel="sms", direction="in", kind="x",
            body="很长" * 100,
        )
    )  # fmt: skip
    long = callbacks.queue_callback(session, customer=customer, reason="complaint", now=now)
    assert len(long.detail) == callbacks.DETAIL_CHARS and long.detail.endswith("很长")
