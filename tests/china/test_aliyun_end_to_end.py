"""A Chinese dealership on Aliyun SMS, end to end against the local Dysmsapi stand-in.

Campaigns run, ``outreach dispatch --once`` sends every queued SMS as template code +
variables, a pushed "1" books the offered slot and the confirmation goes out as a template,
a pushed "R" opts out, a replayed push changes nothing, a wrong secret gets 404, and a failing
delivery report is recorded on the message.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from outreach.cli import App, main
from outreach.db import make_engine, make_sessionmaker, transaction
from outreach.demo_data import write_demo_files
from outreach.importer import import_directory
from outreach.jobs import run_campaigns
from outreach.migrate import upgrade
from outreach.models import (
    Appointment,
    CallbackRequest,
    ContactAttempt,
    Customer,
    OutboxMessage,
    WebhookEvent,
)
from tests.china.conftest import CODES, PUSH_SECRET, SIGN, China
from tests.conftest import BACKENDS, drop_postgres_schema, fresh_database_url
from webhooks import ENGINE_KEY, create_app

SMS_UP = f"/providers/aliyun/sms-up/{PUSH_SECRET}"
SMS_REPORT = f"/providers/aliyun/sms-report/{PUSH_SECRET}"
SEND_PARAMS = {"PhoneNumbers", "SignName", "TemplateCode", "TemplateParam", "OutId"}


def dispatch_once(environ: dict[str, str]) -> None:
    app = App(environ)
    result = CliRunner().invoke(main, ["dispatch", "--once"], obj=app)
    if "engine" in app.__dict__:
        app.engine.dispose()
    assert result.exit_code == 0, result.output


def counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Appointment, OutboxMessage, ContactAttempt, CallbackRequest, WebhookEvent)
    )


def push(phone: str, content: str, sequence_id: int) -> list[dict[str, object]]:
    return [
        {
            "phone_number": phone.removeprefix("+86"),
            "content": content,
            "send_time": "2026-12-03 10:15:00",
            "dest_code": "1234",
            "sequence_id": sequence_id,
        }
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_chinese_dealership_runs_on_aliyun_sms(
    china: China, tmp_path: Path, backend: str
) -> None:
    url = fresh_database_url(backend, tmp_path)
    try:
        run_the_dealership(china, tmp_path, url)
    finally:
        if backend == "postgresql":
            drop_postgres_schema(url)


def run_the_dealership(china: China, tmp_path: Path, url: str) -> None:
    settings, standin = replace(china.settings, database_url=url), china.standin
    environ = {**china.environ, "DATABASE_URL": url}
    now = datetime.now(UTC)
    today = now.astimezone(settings.tz).date()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    write_demo_files(tmp_path / "dms", today=today, customers=40, seed=11)
    with transaction(sessions) as session:
        import_directory(session, settings, tmp_path / "dms", now=now)
        # A Chinese dealership's customers: Chinese texts, by SMS.
        session.execute(update(Customer).values(locale="zh-CN", preferred_channel="sms"))
    with transaction(sessions) as session:
        run = run_campaigns(session, settings, today=today, now=now)
    assert len(run.planned) >= 3

    # 1. Every queued SMS goes out as a registered template with its variables.
    dispatch_once(environ)
    with sessions() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert rows and {r.status for r in rows} == {"sent"}, [
            (r.last_error, r.body) for r in rows[:2]
        ]
        sends = [r for r in standin.requests if r["action"] == "SendSms"]
        assert len(sends) == len(rows) == len(standin.messages)
        for row, request, message in zip(rows, sends, standin.messages, strict=True):
            assert request["version"] == "2017-05-25"
            assert request["authorization"].startswith("ACS3-HMAC-SHA256 Credential=")
            params = request["params"]
            assert set(params) == SEND_PARAMS  # no free text anywhere
            assert params["SignName"] == SIGN
            assert params["TemplateCode"] in CODES.values()
            values = json.loads(params["TemplateParam"])
            assert values and all(isinstance(v, str) and len(v) <= 35 for v in values.values())
            assert params["PhoneNumbers"] == row.to.removeprefix("+86")
            # What the customer receives is exactly the text the outbox recorded.
            assert message.content == f"【{SIGN}】{row.body}"
            assert row.provider_sid == message.biz_id
        offers = [r for r in rows if r.template == "offer"]
        assert len(offers) >= 3
        assert all(p["params"]["TemplateCode"] == CODES["offer"] for p in sends[: len(offers)])
        booker, quitter, unreachable = (
            session.get(Customer, offers[n].customer_id) for n in range(3)
        )
        assert booker and quitter and unreachable
        booker_id, quitter_id = booker.id, quitter.id
        booker_phone, quitter_phone = booker.phone, quitter.phone
        unreachable_sid = offers[2].provider_sid

    app = create_app(settings)
    client = app.test_client()

    # 2. The customer replies "1": the offered slot is booked, the confirmation is queued ...
    answer = client.post(SMS_UP, json=push(booker_phone, "1", 90001))
    assert answer.status_code == 200 and answer.get_json()["code"] == 0
    with sessions() as session:
        booked = session.scalars(select(Appointment).where(Appointment.customer_id == booker_id))
        assert len(booked.all()) == 1
        queued = session.scalars(
            select(OutboxMessage).where(OutboxMessage.status == "queued")
        ).all()
        assert [q.template for q in queued] == ["conversation:confirmation"]
    # ... and goes out as the confirmation template.
    dispatch_once(environ)
    last = [r for r in standin.requests if r["action"] == "SendSms"][-1]["params"]
    assert last["TemplateCode"] == CODES["confirmation"]
    assert last["PhoneNumbers"] == booker_phone.removeprefix("+86")
    assert "appointment_starts_at" in json.loads(last["TemplateParam"])

    # 3. A replayed push changes nothing.
    with sessions() as session:
        before = counts(session)
    again = client.post(SMS_UP, json=push(booker_phone, "1", 90001))
    assert again.status_code == 200 and again.get_json()["code"] == 0
    with sessions() as session:
        assert counts(session) == before

    # 4. A wrong secret gets 404 and changes nothing.
    wrong = client.post(SMS_UP[:-1] + "X", json=push(quitter_phone, "R", 90002))
    assert wrong.status_code == 404
    with sessions() as session:
        assert counts(session) == before
        assert session.get(Customer, quitter_id).opted_out_at is None  # type: ignore[union-attr]

    # 5. "R" (拒收请回复R) opts the customer out.
    out = client.post(SMS_UP, json=push(quitter_phone, "R", 90002))
    assert out.status_code == 200
    with sessions() as session:
        assert session.get(Customer, quitter_id).opted_out_at is not None  # type: ignore[union-attr]

    # 6. A failing delivery report is recorded on the message; "out of service" is a bad
    # number for an advisor to check, as Twilio's 21211.
    report = [
        {
            "phone_number": "13800000000",
            "send_time": "2026-12-03 10:00:00",
            "report_time": "2026-12-03 10:00:05",
            "success": False,
            "err_code": "MOBILE_NOT_ON_SERVICE",
            "err_msg": "停机",
            "sms_size": "2",
            "biz_id": unreachable_sid,
            "out_id": "",
        }
    ]
    assert client.post(SMS_REPORT, json=report).get_json()["code"] == 0
    with sessions() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.provider_sid == unreachable_sid)
        ).one()
        assert "MOBILE_NOT_ON_SERVICE" in (row.last_error or "")
        attempt = session.scalars(
            select(ContactAttempt).where(ContactAttempt.provider_sid == unreachable_sid)
        ).one()
        # Too long for the attempt's code column: it keeps the Twilio code it acts as.
        assert (attempt.status, attempt.error_code) == ("undelivered", "30005")
        reasons = session.scalars(
            select(CallbackRequest.reason).where(CallbackRequest.customer_id == row.customer_id)
        ).all()
        assert "bad_number" in reasons
    app.extensions[ENGINE_KEY].dispose()
    engine.dispose()
