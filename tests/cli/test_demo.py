"""The demo at any hour: messages go out, customers answer, the desk has a morning to show."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.cli import App, main
from outreach.cli.demo import this_command
from outreach.db import make_engine
from outreach.demo import demo_clock, run_demo
from outreach.models import (
    Appointment,
    CallbackRequest,
    ContactAttempt,
    OutboxMessage,
    Outreach,
)
from outreach.stats import campaign_stats

SHANGHAI_EVENING = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
SHANGHAI_NIGHT = datetime(2026, 12, 2, 19, 5, tzinfo=UTC)  # 03:05 in Shanghai
SUNDAY_NIGHT = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)  # Sunday 23:00 in Shanghai


def _run(settings, tmp_path: Path, now: datetime, lines: list[str]):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = run_demo(
        settings,
        database_url=url,
        directory=tmp_path / "data",
        now=now,
        customers=150,
        seed=7,
        echo=lines.append,
        show=3,
        desk_command=".venv/bin/outreach serve",
    )
    return url, result


@pytest.mark.parametrize("now", [SHANGHAI_EVENING, SHANGHAI_NIGHT, SUNDAY_NIGHT])
def test_the_demo_shows_a_morning_at_any_hour(settings, tmp_path, now):
    lines: list[str] = []
    url, result = _run(settings, tmp_path, now, lines)
    local = result.now.astimezone(settings.tz)
    assert local.hour == 10 and result.now + timedelta(hours=1, minutes=40) <= now
    assert result.sent >= 10
    engine = make_engine(url)
    with Session(engine) as session:
        sent = session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")
        )
        assert sent == result.sent
        # The desk's queue: the complaint is waiting for a person.
        assert session.scalar(select(func.count()).select_from(CallbackRequest)) >= 1
        # The board: the booking.
        booked = session.scalars(select(Appointment)).all()
        assert booked
        assert all(a.starts_at > now for a in booked)  # still ahead when the desk opens
        # ... with the recommended work its offer named, as job lines parts staff can prepare.
        assert any(a.job_lines for a in booked)
        # Nobody books an offer they never received.
        for appointment in booked:
            offer = session.scalars(
                select(OutboxMessage).where(OutboxMessage.outreach_id == appointment.outreach_id)
            ).first()
            assert offer is not None and offer.status == "sent"
        # Stats reconcile, for every campaign contacted.
        today = local.date()
        weeks = campaign_stats(session, since=today - timedelta(days=7), until=today)
        assert weeks
        for row in weeks:
            assert row.due >= row.contacted >= row.delivered >= row.replied >= row.booked
            assert row.delivered == row.contacted  # the sandbox delivers all it sends
        # An offer counts for every campaign it names, so three replies count at least three times.
        assert sum(row.replied for row in weeks) >= 3
        # The simulator's threads: what each customer received and answered.
        replies = session.scalars(
            select(ContactAttempt).where(ContactAttempt.direction == "in")
        ).all()
        assert len(replies) == 3
        planned = {o.campaign for o in session.scalars(select(Outreach))}
        assert planned <= {row.campaign for row in weeks}  # every enabled campaign has a row
    engine.dispose()
    kinds = [kind for kind, *_ in result.replies]
    assert kinds == ["booking", "complaint", "question"]
    text = "\n".join(lines)
    assert f"DATABASE_URL={url} .venv/bin/outreach serve" in text
    assert "0 wait for the customer's contact window" in text or "wait for" in text


def test_the_budget_is_explained(settings, tmp_path):
    lines: list[str] = []
    _run(settings, tmp_path, SHANGHAI_EVENING, lines)
    text = "\n".join(lines)
    assert "Workshop capacity: the next 7 days can still take about" in text
    assert "customers may be invited today" in text
    assert "wait for a later day, earliest due first" in text
    assert "queued" not in text.split("Workshop capacity")[1].split("\n\n")[0]


def test_a_customer_in_another_zone_is_labelled(settings, tmp_path):
    """A Los Angeles customer's time is theirs, and says so."""
    lines: list[str] = []
    _run(settings, tmp_path, SHANGHAI_EVENING, lines)
    la = [line for line in lines if "America/Los_Angeles" in line]
    assert all("their time (America/Los_Angeles)" in line for line in la)


def test_clock_is_never_in_the_future(settings):
    """At every hour: 10:00 local on a recent day, with the replies' time already past."""
    for hour in range(24):
        now = datetime(2026, 12, 3, hour, tzinfo=UTC)
        clock = demo_clock(settings, now)
        assert clock + timedelta(hours=1, minutes=40) <= now
        assert clock.astimezone(settings.tz).hour == 10
        assert clock.astimezone(settings.tz).date() >= date(2026, 12, 2)


def test_the_hint_names_this_installation():
    """After the README's install, `outreach` is not on PATH: the hint names the venv's."""
    command = this_command()
    assert command.endswith("outreach") or command.endswith("-m outreach.cli")


def test_demo_command_prints_the_desk_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["demo", "--customers", "80", "--show", "1"], obj=App({}))
    assert result.exit_code == 0, result.output
    assert "DATABASE_URL=sqlite:///outreach-demo.db" in result.output
    assert f"{this_command()} serve" in result.output


def test_demo_serve_opens_the_desk(tmp_path, monkeypatch):
    served: list[tuple[str, str, int]] = []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        "outreach.cli.demo.run_server",
        lambda app, host, port: served.append((app.settings.database_url, host, port)),
    )
    result = CliRunner().invoke(
        main, ["demo", "--customers", "80", "--serve", "--port", "5077"], obj=App({})
    )
    assert result.exit_code == 0, result.output
    assert served == [("sqlite:///outreach-demo.db", "127.0.0.1", 5077)]
    assert "serve --port 5077" in result.output
    assert "http://127.0.0.1:5077/" in result.output
