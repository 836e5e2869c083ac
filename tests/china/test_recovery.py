"""The crash rule on Aliyun: a send cut off before it was recorded is looked up, not resent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from outreach import outbox
from outreach.aliyun_push import PushedReport, take_report
from outreach.aliyun_sms import AliyunGateway
from outreach.db import make_engine, make_sessionmaker, transaction
from outreach.migrate import upgrade
from outreach.models import ContactAttempt, Customer, OutboxMessage
from outreach.scheduler import outbox_hooks
from tests.china.conftest import China

BODY = "您12月3日（周四）下午2:00的预约已取消。需要时回复“预约”即可重新安排。"


def test_a_send_cut_off_is_found_by_query_send_details(china: China) -> None:
    settings, standin = china.settings, china.standin
    engine = make_engine(settings.database_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    gateway = AliyunGateway(settings)
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        customer = Customer(
            external_id="C1", name="王磊", phone="+8613912345678", consent=True, consent_at=now
        )
        session.add(customer)
        session.flush()
        outbox.enqueue(
            session, settings, customer=customer, channel="sms", body=BODY,
            idempotency_key="cancel-1", now=now, template="cancelled",
        )  # fmt: skip
    with transaction(sessions) as session:
        [claim] = outbox.claim_batch(session, settings, worker="w1", now=now)
    outbox.send(gateway, claim, settings)  # reaches Aliyun; the sender dies before recording
    assert len(standin.messages) == 1

    later = now + timedelta(seconds=settings.sending.lease_seconds + 1)
    with transaction(sessions) as session:
        counts = outbox.recover_stuck(session, gateway, settings, later, hooks=outbox_hooks())
    assert counts == {"sent": 1, "requeued": 0, "handed_off": 0, "waiting": 0}
    assert len(standin.messages) == 1  # nothing resent
    assert [r["action"] for r in standin.requests] == ["SendSms", "QuerySendDetails"]

    # The receipt names the BizId; the row was recorded under the OutId the look-up found.
    message = standin.messages[0]
    report = PushedReport(message.biz_id, False, "USER_REJECT", "用户拒收", "", message.out_id)
    with transaction(sessions) as session:
        assert take_report(session, report, now=later) == "opted out"
    with sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert (row.status, row.provider_sid) == ("sent", message.out_id)
        assert "USER_REJECT" in (row.last_error or "")
        attempt = session.scalars(
            select(ContactAttempt).where(ContactAttempt.provider_sid == message.out_id)
        ).one()
        assert attempt.status == "undelivered"
        assert session.scalars(select(Customer)).one().opted_out_at is not None
    engine.dispose()
