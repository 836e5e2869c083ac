"""The ``outreach capacity`` command."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy.orm import sessionmaker

from outreach.capacity import book
from outreach.cli import App, main
from tests.capacity.conftest import NOW, capacity_settings, customer_with_vehicle, local


def test_prints_load_per_day(committing_engine, settings):
    """The table shows booked and free hours, arrivals, and closed days with the reason."""
    cap = capacity_settings(settings)
    with sessionmaker(committing_engine)() as session, session.begin():
        c, v = customer_with_vehicle(session)
        book(
            session,
            cap,
            customer_id=c,
            vehicle_id=v,
            jobs=["big"],
            starts_at=local("2026-06-01", "09:00"),
            now=NOW,
        )
    app = App({})
    app.__dict__.update(
        settings=cap, engine=committing_engine, sessions=sessionmaker(committing_engine)
    )
    result = CliRunner().invoke(main, ["capacity", "--from", "2026-05-31", "--days", "3"], obj=app)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "closed (closed weekday)" in lines[1]
    assert lines[2].split()[:5] == ["2026-06-01", "Mon", "2.0", "0.0", "2.0"]
    assert lines[2].split()[6] == "1/64"
    assert lines[3].split()[2:5] == ["0.0", "0.0", "4.0"]
