"""Aliyun's pushes through the real endpoints: SmsUp replies and SmsReport receipts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from outreach.aliyun_push import PushError, parse_sms_report, parse_sms_up
from outreach.db import make_engine, make_sessionmaker
from outreach.migrate import upgrade
from outreach.models import ContactAttempt, Customer, OutboxMessage, PendingStatus, WebhookEvent
from tests.china.conftest import PUSH_SECRET, China
from webhooks import create_app

UP = f"/providers/aliyun/sms-up/{PUSH_SECRET}"
REPORT = f"/providers/aliyun/sms-report/{PUSH_SECRET}"
PHONE = "+8613912345678"
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=12,
)
ITEM = st.fixed_dictionaries(
    {},
    optional={
        "phone_number": st.sampled_from(["13912345678", "", "abc", "+8613912345678", 13912345678]),
        "content": st.text(max_size=30) | st.integers(),
        "send_time": st.text(max_size=20),
        "dest_code": st.text(max_size=6),
        "sequence_id": st.integers(min_value=-5, max_value=10**12) | st.text(max_size=10),
        "biz_id": st.text(max_size=20),
        "success": st.booleans() | st.sampled_from(["true", "false", "yes", 1]),
        "err_code": st.text(max_size=20),
    },
)


@pytest.fixture
def db(china: China) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(china.settings.database_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        session.add(
            Customer(
                external_id="C1", name="王磊", phone=PHONE, locale="zh-CN", consent=True,
                consent_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )  # fmt: skip
    yield sessions
    engine.dispose()


@pytest.fixture
def client(china: China, db: sessionmaker[Session]) -> FlaskClient:
    return create_app(china.settings).test_client()


def up(content: str, sequence_id: int, phone: str = "13912345678") -> list[dict[str, Any]]:
    return [
        {
            "phone_number": phone,
            "content": content,
            "send_time": "2026-12-03 10:15:00",
            "dest_code": "",
            "sequence_id": sequence_id,
        }
    ]


def customer(db: sessionmaker[Session]) -> Customer:
    with db() as session:
        return session.scalars(select(Customer).where(Customer.phone == PHONE)).one()


class TestParsers:
    @given(JSON)
    def test_any_json_is_parsed_or_refused_with_a_reason(self, payload: Any) -> None:
        for parse in (parse_sms_up, parse_sms_report):
            try:
                parse(payload)
            except PushError as exc:
                assert str(exc)

    @given(st.lists(ITEM, max_size=4))
    def test_items_keep_what_matters(self, items: list[dict[str, Any]]) -> None:
        try:
            replies = parse_sms_up(items)
        except PushError as exc:
            assert str(exc).startswith(("item ", "the body", "at most"))
            return
        for reply in replies:
            assert reply.phone.startswith("+") and reply.sequence_id

    def test_a_report(self) -> None:
        [report] = parse_sms_report(
            [{"biz_id": "12345^0", "success": False, "err_code": "USER_REJECT", "out_id": "ab"}]
        )
        assert (report.biz_id, report.success, report.err_code, report.out_id) == (
            "12345^0", False, "USER_REJECT", "ab",
        )  # fmt: skip


class TestSmsUp:
    @pytest.mark.parametrize("word", ["R", "r", "Ｒ", "T", "TD", "退订"])
    def test_opt_out_words(self, client: FlaskClient, db: sessionmaker[Session], word: str) -> None:
        answer = client.post(UP, json=up(word, 7001))
        assert answer.status_code == 200 and answer.get_json()["code"] == 0
        assert customer(db).opted_out_at is not None

    def test_a_reply_is_recorded_once_and_its_answer_queued(
        self, client: FlaskClient, db: sessionmaker[Session]
    ) -> None:
        for _ in range(3):
            assert client.post(UP, json=up("你们几点关门？", 7002)).status_code == 200
        with db() as session:
            inbound = session.scalars(
                select(ContactAttempt).where(ContactAttempt.direction == "in")
            ).all()
            assert [(a.body, a.provider_sid) for a in inbound] == [
                ("你们几点关门？", "aliyun-up:7002")
            ]
            queued = session.scalars(select(OutboxMessage)).all()
            assert len(queued) == 1 and (queued[0].template or "").startswith("conversation:")
            assert queued[0].answers_until is not None  # an answer: not held for the window

    @given(
        secret=st.text(min_size=1, max_size=40).filter(lambda s: s != PUSH_SECRET and "/" not in s)
    )
    @hsettings(
        max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    def test_a_wrong_secret_is_404_and_changes_nothing(
        self, client: FlaskClient, db: sessionmaker[Session], secret: str
    ) -> None:
        answer = client.post(f"/providers/aliyun/sms-up/{secret}", json=up("R", 7003))
        assert answer.status_code in (404, 308)  # 308: Werkzeug normalising the path
        assert customer(db).opted_out_at is None

    @given(payload=JSON)
    @hsettings(
        max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    def test_malformed_bodies_are_400_never_500(self, client: FlaskClient, payload: Any) -> None:
        if isinstance(payload, list):
            payload = [p for p in payload if not isinstance(p, dict)] or "not an array"
        answer = client.post(UP, json=payload)
        assert answer.status_code == 400

    def test_not_json_is_400(self, client: FlaskClient) -> None:
        assert client.post(UP, data=b"\xff\xfe", content_type="application/json").status_code == 400


class TestSmsReport:
    def test_a_report_before_its_send_is_kept_once(
        self, client: FlaskClient, db: sessionmaker[Session]
    ) -> None:
        body = [{"biz_id": "900000000000000001^0", "success": True, "err_code": "DELIVERED"}]
        for _ in range(2):
            answer = client.post(REPORT, json=body)
            assert answer.status_code == 200 and answer.get_json()["code"] == 0
        with db() as session:
            assert session.scalar(select(func.count()).select_from(PendingStatus)) == 1
            assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 1

    def test_wrong_secret(self, client: FlaskClient) -> None:
        assert client.post(REPORT + "x", json=[]).status_code == 404

    def test_not_aliyun_no_route(self, china: China, db: sessionmaker[Session]) -> None:
        sandbox = replace(
            china.settings, gateway_choice=replace(china.settings.gateway_choice, sms="sandbox")
        )
        answer = create_app(sandbox).test_client().post(REPORT, json=[])
        assert answer.status_code == 404
