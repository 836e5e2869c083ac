"""The ``due`` and ``campaigns run`` commands on a SQLite file."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from outreach.cli import App, main
from outreach.db import make_engine
from outreach.migrate import upgrade
from tests.factories import make_customer, make_item, make_vehicle, make_visit


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session, session.begin():
        c = make_customer(session, external_id="C1")
        v = make_vehicle(session, c, external_id="V1")
        make_visit(session, v, date(2026, 8, 1), 20_000)
        make_item(session, v, date(2026, 12, 1), external_id="D1")
    engine.dispose()
    return url


def invoke(url, *args):
    return CliRunner().invoke(main, list(args), obj=App({"DATABASE_URL": url}))


class TestDue:
    def test_json_lists_each_reason_with_its_ids(self, db):
        """--json gives one object per reason with the dealer's customer and vehicle ids."""
        result = invoke(db, "due", "--on", "2026-11-28", "--json")
        assert result.exit_code == 0, result.output
        items = json.loads(result.stdout)
        assert {i["campaign"] for i in items} == {
            "maintenance_interval",
            "deferred_work",
            "seasonal",
        }
        assert all(i["customer_id"] == "C1" and i["vehicle_id"] == "V1" for i in items)
        assert all(i["reason"] for i in items)

    def test_campaign_filter(self, db):
        """--campaign limits the list to that campaign."""
        result = invoke(db, "due", "--on", "2026-11-28", "--campaign", "deferred_work", "--json")
        assert [i["campaign"] for i in json.loads(result.stdout)] == ["deferred_work"]

    def test_unknown_campaign_is_refused(self, db):
        """An unknown campaign name is a usage error naming the known ones."""
        result = invoke(db, "due", "--campaign", "nope")
        assert result.exit_code == 2
        assert "maintenance_interval" in result.output

    def test_text_output_ends_with_a_summary(self, db):
        """The plain listing has a line per reason and a count per campaign."""
        result = invoke(db, "due", "--on", "2026-11-28")
        assert result.exit_code == 0
        assert "3 due on 2026-11-28" in result.output


class TestCampaignsRun:
    def test_plans_one_merged_outreach(self, db):
        """Running the campaigns plans one outreach for the customer with three reasons."""
        result = invoke(db, "campaigns", "run", "--on", "2026-11-28")
        assert result.exit_code == 0, result.output
        assert "planned 1 outreach" in result.output
        again = invoke(db, "campaigns", "run", "--on", "2026-11-28")
        assert "planned 0 outreach" in again.output


class TestEmptyDatabase:
    def test_a_database_without_tables_gets_a_clear_hint(self, tmp_path):
        """Commands on a database never upgraded say to run `outreach db upgrade`."""
        result = invoke(f"sqlite:///{tmp_path / 'empty.db'}", "due")
        assert result.exit_code == 1
        assert "outreach db upgrade" in result.output
