"""Property-based fuzzing of the signed webhooks (#13): whatever a correctly signed request
carries — any unicode, control characters, huge numbers, junk fields — the answer is never a
500, nothing is logged as an error, and the database holds either the whole effect or nothing.

One app and one SQLite database serve every example (the real conversation behind /twilio/sms).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from desk.context import install
from outreach.control_chars import CONTROL
from outreach.db import Base, make_engine, make_sessionmaker
from outreach.models import ContactAttempt, Customer, PendingStatus, WebhookEvent
from outreach.settings import Settings
from tests.webhooks.conftest import NOW, OUR_NUMBER, PHONE, TwilioPoster, make_app, new_sid
from webhooks.handlers import conversation_handlers

EXAMPLES = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
KNOWN_FIELDS = {"AccountSid", "MessageSid", "From", "To", "Body", "MessageStatus", "ErrorCode"}
STATUS_WORD = re.compile(r"[a-z][a-z_-]{0,19}")

# Text as it may come: anything unicode can encode, with control characters and the words the
# conversation acts on mixed in.
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=120)
controls = st.text(st.characters(max_codepoint=0x9F).filter(CONTROL.match), min_size=1, max_size=3)
keywords = st.sampled_from(
    [
        "STOP",
        "stop",
        "退订",
        "TD",
        "START",
        "HELP",
        "1",
        "2",
        "３",
        "明天上午",
        "周三下午3点",
        "是",
        "改期",
    ]
)
body = st.one_of(
    any_text,
    st.builds(
        lambda a, b, c: a + b + c,
        st.one_of(controls, st.just("")),
        keywords,
        st.one_of(controls, st.just("")),
    ),
    st.lists(st.one_of(keywords, controls, any_text), max_size=5).map("".join),
)
huge_numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["²", "３０００５", "1e9", "0x10", "30003\x00", " 30005 ", "-0", ""]),
)
junk_fields = st.dictionaries(
    st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12).filter(
        lambda name: name not in KNOWN_FIELDS
    ),
    any_text,
    max_size=3,
)


class ErrorLog(logging.Handler):
    """Records logged at ERROR or above (a traceback means something broke)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Rig:
    twilio: TwilioPoster
    engine: Engine
    errors: ErrorLog
    sent_sids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sessions = make_sessionmaker(self.engine)

    def session(self) -> Session:
        return self._sessions()

    def counts(self) -> tuple[int, int, int]:
        """Rows in webhook_events, contact_attempts and pending_statuses."""
        with self.session() as s:
            row = s.execute(
                select(
                    select(func.count()).select_from(WebhookEvent).scalar_subquery(),
                    select(func.count()).select_from(ContactAttempt).scalar_subquery(),
                    select(func.count()).select_from(PendingStatus).scalar_subquery(),
                )
            ).one()
            return row[0], row[1], row[2]


@pytest.fixture(scope="module")
def rig(base_settings: Settings) -> Iterator[Rig]:
    # One in-memory database shared by the app's requests and the checks (one connection).
    engine = make_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    Base.metadata.create_all(engine)
    app = make_app(base_settings, engine, HANDLERS=conversation_handlers())
    app.extensions["outreach.engine"].dispose()  # its own engine would open another database
    app.extensions["outreach.engine"] = engine
    install(app, make_sessionmaker(engine))
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    rig = Rig(TwilioPoster(app.test_client(), base_settings.sandbox_auth_token), engine, errors)
    with rig.session() as s:
        customer = Customer(external_id="C1", name="李雷", phone=PHONE, consent=True)
        s.add(customer)
        s.flush()
        for _ in range(5):
            sid = new_sid()
            s.add(
                ContactAttempt(
                    customer_id=customer.id, at=NOW, channel="sms", direction="out",
                    kind="offer", status="sent", provider_sid=sid,
                )
            )  # fmt: skip
            rig.sent_sids.append(sid)
        s.commit()
    yield rig
    logging.getLogger().removeHandler(errors)
    engine.dispose()


def no_errors_logged(rig: Rig) -> None:
    found = [r.getMessage()[:200] for r in rig.errors.records]
    rig.errors.records.clear()
    assert not found, found


@EXAMPLES
@given(
    text=body,
    sender=st.one_of(
        st.just(PHONE),
        st.sampled_from(["+8613800138000", "+14155550123", "+447911123456"]),
        any_text,
    ),
    to=st.one_of(st.just(OUR_NUMBER), any_text),
    extra=junk_fields,
    good_sid=st.booleans(),
)
def test_inbound_sms_never_fails(rig: Rig, text, sender, to, extra, good_sid) -> None:
    sid = new_sid() if good_sid else "SM" + uuid.uuid4().hex[:10]
    before = rig.counts()
    data = {**extra, "MessageSid": sid, "From": sender, "To": to, "Body": text}
    response = rig.twilio.post("/twilio/sms", data)
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
    no_errors_logged(rig)
    events, attempts, pending = rig.counts()
    if response.status_code != 200:
        assert (events, attempts, pending) == before  # refused: nothing written
        return
    assert events == before[0] + 1  # one handled-once row with the answer, and its effect:
    with rig.session() as s:
        inbound = s.scalars(
            select(ContactAttempt).where(
                ContactAttempt.provider_sid == sid, ContactAttempt.direction == "in"
            )
        ).all()
        assert len(inbound) == 1
        assert not CONTROL.search(inbound[0].body or "")
    # A retried copy answers the same and writes nothing.
    again = rig.twilio.post("/twilio/sms", data)
    assert again.status_code == 200 and again.data == response.data
    assert rig.counts() == (events, attempts, pending)
    no_errors_logged(rig)


@EXAMPLES
@given(
    known=st.booleans(),
    pick=st.integers(min_value=0, max_value=4),
    status=st.one_of(
        st.sampled_from(["queued", "sent", "delivered", "undelivered", "failed", "read"]),
        any_text.filter(lambda s: s != ""),
        st.builds(lambda s, c: s + c, st.sampled_from(["delivered", "failed"]), controls),
        st.text(min_size=120, max_size=400),
    ),
    code=st.one_of(st.none(), huge_numbers, any_text),
    answered_by=st.one_of(st.none(), any_text),
    extra=junk_fields,
)
def test_message_status_never_fails(
    rig: Rig, known, pick, status, code, answered_by, extra
) -> None:
    sid = rig.sent_sids[pick] if known else new_sid()
    data = {**extra, "MessageSid": sid, "MessageStatus": status}
    if code is not None:
        data["ErrorCode"] = code
    if answered_by is not None:
        data["AnsweredBy"] = answered_by
    before = rig.counts()
    response = rig.twilio.post("/twilio/message-status", data)
    no_errors_logged(rig)
    if CONTROL.sub("", status) == "":
        assert response.status_code in (204, 400)
    else:
        assert response.status_code == 204, response.get_data(as_text=True)[:300]
    events, attempts, pending = rig.counts()
    assert attempts >= before[1]
    assert events - before[0] in (0, 1)  # recorded once, or recognised as a replay
    assert pending - before[2] in (0, 1)
    if not known and events > before[0]:
        assert pending == before[2] + 1  # a status for a SID not sent yet waits, whole
    with rig.session() as s:
        stored = select(ContactAttempt.status, ContactAttempt.error_code).where(
            ContactAttempt.provider_sid == sid
        )
        for stored_status, stored_code in s.execute(stored):
            assert STATUS_WORD.fullmatch(stored_status or ""), stored_status
            assert stored_code is None or re.fullmatch(r"[0-9]{1,10}|unknown", stored_code)
    # The same callback again is recognised as handled, however long its key.
    again = rig.twilio.post("/twilio/message-status", data)
    assert again.status_code == response.status_code
    assert rig.counts()[0] == events
    no_errors_logged(rig)
