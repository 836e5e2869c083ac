"""Strict import (#13): malformed rows are row errors with file, line and column, good rows kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.cli import App, main
from outreach.db import make_engine
from outreach.migrate import upgrade
from outreach.models import Customer, DeferredItem, Visit
from tests.conftest import BACKENDS, drop_postgres_schema, fresh_database_url
from tests.test_importer import (
    CUSTOMERS,
    DEFERRED,
    VISITS,
    count,
    full_export,
    messages,
    run,
)


def visit_ids(session: Session) -> list[str]:
    return sorted(session.scalars(select(Visit.external_id)))


class TestShape:
    def test_an_extra_trailing_cell_is_a_row_error(self, session, settings, tmp_path):
        """An empty extra cell was read as if it were not there; the rows after are kept."""
        customers = CUSTOMERS + "C3,王五,13912345670,zh,\nC4,赵六,13912345671,zh\n"
        report = run(session, settings, full_export(tmp_path, customers=customers))
        assert messages(report) == ["customers.csv:4:-: 5 cells but the header has 4 columns"]
        names = sorted(session.scalars(select(Customer.external_id)))
        assert names == ["C1", "C2", "C4"]

    def test_missing_cells_are_a_row_error_naming_the_first_missing_column(
        self, session, settings, tmp_path
    ):
        """A row cut short used to take empty optional cells for the missing ones."""
        visits = VISITS + "S4,V2,2025-06-01,20000,repair\n"
        report = run(session, settings, full_export(tmp_path, visits=visits))
        assert messages(report) == ["visits.csv:5:advisor: 5 cells but the header has 7 columns"]
        assert visit_ids(session) == ["S1", "S2", "S3"]

    def test_an_unclosed_quote_does_not_swallow_the_rows_after_it(
        self, session, settings, tmp_path
    ):
        """The quote ran on to the end of the file: every later row became part of one cell
        and the import said "no rows rejected"."""
        visits = VISITS.replace("A01,王芳", 'A01,"王芳')
        report = run(session, settings, full_export(tmp_path, visits=visits))
        assert messages(report) == [
            "visits.csv:2:advisor_name: unclosed quote (opened at character 40); the row is "
            "skipped and reading goes on with the next line",
        ]
        assert visit_ids(session) == ["S2", "S3"]

    def test_an_unclosed_quote_closed_rows_later_is_still_found(self, session, settings, tmp_path):
        """A quote closed by a later row's quote gives a row of the wrong width: the opening
        row is rejected and the rows in between are read as rows."""
        visits = VISITS.replace("A01,王芳", 'A01,"王芳') + 'S4,V2,2025-06-01,1,repair,A02,"x"\n'
        report = run(session, settings, full_export(tmp_path, visits=visits))
        assert [str(e).split(":")[:3] for e in report.errors] == [
            ["visits.csv", "2", "advisor_name"]
        ]
        assert visit_ids(session) == ["S2", "S3", "S4"]

    def test_a_quoted_cell_may_span_lines(self, session, settings, tmp_path):
        """A description with line breaks, quoted, is one cell; later rows keep their lines."""
        deferred = DEFERRED.replace("后刹车片剩余 30%", '"后刹车片\n剩余 30%,\n两个月内更换"')
        deferred += "D3,V2,,Tyres,medium,2026-07-01,extra\n"
        report = run(session, settings, full_export(tmp_path, deferred_work=deferred))
        assert messages(report) == ["deferred_work.csv:6:-: 7 cells but the header has 6 columns"]
        item = session.scalars(select(DeferredItem).where(DeferredItem.external_id == "D1")).one()
        assert item.description == "后刹车片\n剩余 30%,\n两个月内更换"

    def test_text_after_a_closing_quote_is_a_row_error(self, session, settings, tmp_path):
        customers = CUSTOMERS.replace("李雷,", '"李"雷,')
        report = run(session, settings, full_export(tmp_path, customers=customers))
        assert messages(report)[0].startswith("customers.csv:2:-: not readable as CSV: ")
        assert count(session, Customer) == 1


class TestCells:
    @pytest.mark.parametrize("km", ["2000001", "3000000000", str(2**63), "9" * 30])
    def test_an_odometer_out_of_range_is_a_row_error(self, session, settings, tmp_path, km):
        """3,000,000,000 overflowed PostgreSQL's INTEGER and 2^63 SQLite's: a traceback."""
        visits = VISITS.replace("16000", km)
        report = run(session, settings, full_export(tmp_path, visits=visits))
        assert messages(report)[0] == (
            f"visits.csv:3:odometer_km: {int(km)} km is above 2,000,000 km"
        )
        assert visit_ids(session) == ["S1", "S3"]

    def test_the_highest_odometer_is_kept(self, session, settings, tmp_path):
        report = run(
            session, settings, full_export(tmp_path, visits=VISITS.replace("16000", '"2,000,000"'))
        )
        assert messages(report) == []

    @pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\x85"])
    def test_a_control_character_in_a_cell_is_a_row_error(self, session, settings, tmp_path, char):
        """A NUL in a text cell failed on PostgreSQL with a traceback."""
        customers = CUSTOMERS.replace("李雷", f"李{char}雷")
        deferred = DEFERRED.replace("Wiper blades", f"Wiper{char}blades")
        report = run(
            session, settings, full_export(tmp_path, customers=customers, deferred_work=deferred)
        )
        code = f"U+{ord(char):04X}"
        assert messages(report)[0] == f"customers.csv:2:name: control character {code}"
        assert f"deferred_work.csv:3:description: control character {code}" in messages(report)

    @pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "3000-01-01"])
    def test_a_date_out_of_range_is_a_row_error(self, session, settings, tmp_path, day):
        """0001-01-01 as a done_on in a zone east of UTC overflowed with a traceback."""
        deferred = (
            DEFERRED.replace("due_by\n", "due_by,done_on\n")
            .replace("2026-06-01\n", f"2026-06-01,{day}\n")
            .replace("2026-05-01\n", "2026-05-01,\n")
        )
        report = run(session, settings, full_export(tmp_path, deferred_work=deferred))
        assert messages(report) == [
            f"deferred_work.csv:3:done_on: {day} is not between 1900 and 2999"
        ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_command_exits_1_keeping_the_good_rows(tmp_path: Path, backend: str) -> None:
    """Every finding at once through `outreach import`: exit 1 (good rows kept), no traceback."""
    url = fresh_database_url(backend, tmp_path)
    engine = make_engine(url)
    try:
        upgrade(engine)
        export = tmp_path / "export"
        export.mkdir()
        customers = CUSTOMERS + "C5,李\x00雷,13912345672,zh\nC3,王五,13912345670,zh,\n"
        visits = VISITS.replace("16000", str(2**63)).replace("S3,V2,", 'S3,"V2,')
        visits += "S4,V2,2025-06-01,3000000000,repair,,\nS5,V2,2025-07-01,21000,repair,,\n"
        full_export(export, customers=customers, visits=visits)
        command = App({"DATABASE_URL": url})
        result = CliRunner().invoke(main, ["import", "--quiet", str(export)], obj=command)
        command.engine.dispose()
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        for expected in [
            "customers.csv:4:name: control character U+0000",
            "customers.csv:5:-: 5 cells but the header has 4 columns",
            "visits.csv:3:odometer_km: 9223372036854775808 km is above 2,000,000 km",
            "visits.csv:4:vehicle_id: unclosed quote",
            "visits.csv:5:odometer_km: 3000000000 km is above 2,000,000 km",
        ]:
            assert expected in result.stderr
        with Session(engine) as session:
            assert sorted(session.scalars(select(Customer.external_id))) == ["C1", "C2"]
            assert sorted(session.scalars(select(Visit.external_id))) == ["S1", "S5"]
    finally:
        engine.dispose()
        if backend == "postgresql":
            drop_postgres_schema(url)
