"""SandboxGateway: every outbound message and call recorded, nothing sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import responses
from sqlalchemy import select

from outreach.db import make_sessionmaker
from outreach.gateways import make_gateway
from outreach.models import SandboxMessage
from outreach.sandbox import SandboxGateway, sandbox_outbox

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)


class TestSandbox:
    def test_sms_is_recorded_with_a_twilio_like_sid(self, session):
        """A message becomes a row with an "SM" sid, its text and status callback."""
        gw = SandboxGateway(session, clock=lambda: NOW)
        result = gw.send_sms(
            "+8613912345678", "明天见", status_callback="https://h/cb", validity_seconds=60
        )
        row = session.scalars(select(SandboxMessage)).one()
        assert result.sid == row.sid and row.sid.startswith("SM") and len(row.sid) == 34
        assert (row.kind, row.to, row.body, row.validity_seconds) == (
            "sms",
            "+8613912345678",
            "明天见",
            60,
        )
        assert row.created_at == NOW

    def test_call_is_recorded_with_its_answer_url(self, session):
        """A call becomes a voice row holding the URL the call would fetch."""
        gw = SandboxGateway(session, clock=lambda: NOW)
        result = gw.place_call(
            "+8613912345678", answer_url="https://h/twilio/voice", status_callback=None
        )
        row = session.scalars(select(SandboxMessage)).one()
        assert result.sid.startswith("CA") and (row.kind, row.body) == (
            "voice",
            "https://h/twilio/voice",
        )

    def test_nothing_reaches_the_network(self, session):
        """The sandbox makes no HTTP request at all."""
        with responses.RequestsMock() as mock:
            SandboxGateway(session).send_sms(
                "+1415", "x", status_callback=None, validity_seconds=None
            )
            assert len(mock.calls) == 0

    def test_find_sent_sees_recorded_messages_only_since(self, session):
        """find_sent matches number and body at or after ``since``."""
        gw = SandboxGateway(session, clock=lambda: NOW)
        sid = gw.send_sms("+14155550123", "hello", status_callback=None, validity_seconds=None).sid
        assert gw.find_sent("+14155550123", "hello", NOW).sid == sid  # type: ignore[union-attr]
        assert gw.find_sent("+14155550123", "hello", NOW + timedelta(seconds=1)) is None
        assert gw.find_sent("+14155550123", "other", NOW) is None

    def test_sessionmaker_mode_commits_each_send(self, committing_engine):
        """Given a sessionmaker, each send is committed on its own and listed newest first."""
        sessions = make_sessionmaker(committing_engine)
        gw = SandboxGateway(sessions)
        gw.send_sms("+14155550123", "one", status_callback=None, validity_seconds=None)
        gw.send_sms("+14155550123", "two", status_callback=None, validity_seconds=None)
        with sessions() as s:
            assert [m.body for m in sandbox_outbox(s, to="+14155550123")] == ["two", "one"]

    def test_factory_defaults_to_sandbox_without_credentials(self, settings, session):
        """make_gateway returns the sandbox when no Twilio credentials are set."""
        assert settings.twilio is None
        assert make_gateway(settings, session).name == "sandbox"
