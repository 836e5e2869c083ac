"""Importing the DMS export: good rows kept, bad rows named by file:line:column, idempotent."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach import consent
from outreach.cli import App, main
from outreach.db import make_sessionmaker, transaction
from outreach.importer import ImportAborted, import_directory, vehicles
from outreach.models import (
    Advisor,
    Customer,
    DeferredItem,
    Vehicle,
    VehicleHistory,
    Visit,
)
from outreach.settings import ImportDefaults, Settings
from tests.factories import make_customer, make_vehicle, make_visit

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)

CUSTOMERS = """customer_id,name,phone,locale
C1,李雷,13912345678,zh-CN
C2,Ann Lee,+14155550123,en
"""
VEHICLES = """vehicle_id,customer_id,vin,plate,model
V1,C1,LSVAU2180N2123456,沪A12345,Volkswagen Lavida
V2,C2,1HGCM82633A004352,7ABC123,Honda Accord
"""
VISITS = """visit_id,vehicle_id,date,odometer_km,type,advisor,advisor_name
S1,V1,2025-03-01,10000,maintenance,A01,王芳
S2,V1,2025-09-01,16000,repair,A01,
S3,V2,2025-05-01,,inspection,,
"""
DEFERRED = """item_id,vehicle_id,visit_id,description,severity,due_by
D1,V1,S2,后刹车片剩余 30%,safety,2026-05-01
D2,V2,,Wiper blades,low,2026-06-01
"""


def write(directory: Path, **files: str) -> Path:
    """Write CSV files named by keyword (customers=… → customers.csv) into ``directory``."""
    for name, text in files.items():
        (directory / f"{name}.csv").write_text(text, encoding="utf-8")
    return directory


def full_export(directory: Path, **overrides: str) -> Path:
    files = {
        "customers": CUSTOMERS,
        "vehicles": VEHICLES,
        "visits": VISITS,
        "deferred_work": DEFERRED,
    }
    files.update(overrides)
    return write(directory, **files)


def consenting(customers: str) -> str:
    """``customers.csv`` text with a consent column saying yes for every row."""
    return (
        customers.replace("locale\n", "locale,consent\n")
        .replace("zh-CN\n", "zh-CN,yes\n")
        .replace(",en\n", ",en,yes\n")
    )


def run(session: Session, settings: Settings, directory: Path, now: datetime = NOW):
    return import_directory(session, settings, directory, now=now)


def messages(report) -> list[str]:
    return [str(error) for error in report.errors]


def customer(session: Session, external_id: str) -> Customer:
    return session.scalars(select(Customer).where(Customer.external_id == external_id)).one()


def count(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


class TestGoodRows:
    def test_every_file_is_imported_and_linked(self, session, settings, tmp_path):
        """A clean export inserts every row, linked by the external ids."""
        report = run(session, settings, full_export(tmp_path))
        assert report.errors == []
        assert {name: c.inserted for name, c in report.files.items()} == {
            "customers.csv": 2,
            "vehicles.csv": 2,
            "visits.csv": 3,
            "deferred_work.csv": 2,
        }
        item = session.scalars(select(DeferredItem).where(DeferredItem.external_id == "D1")).one()
        assert item.vehicle.customer.external_id == "C1"
        visit = session.get(Visit, item.visit_id)
        assert visit.external_id == "S2"
        assert visit.advisor.code == "A01"
        assert visit.advisor.name == "王芳"
        assert report.advisors_created == 1

    def test_phones_are_stored_in_e164(self, session, settings, tmp_path):
        """A national number is read in the configured region and stored as E.164."""
        run(session, settings, full_export(tmp_path))
        assert customer(session, "C1").phone == "+8613912345678"
        assert customer(session, "C2").phone == "+14155550123"

    def test_absent_optional_columns_take_the_configured_defaults(
        self, session, settings, tmp_path
    ):
        """Without consent/timezone/preferred_channel columns the [import] defaults apply."""
        configured = replace(
            settings,
            import_defaults=ImportDefaults(
                phone_region="US",
                consent=True,
                timezone="America/Chicago",
                preferred_channel="voice",
            ),
        )
        write(tmp_path, customers="customer_id,name,phone,locale\nC1,Ann,(415) 555-0123,en\n")
        run(session, configured, tmp_path)
        c = customer(session, "C1")
        assert (c.phone, c.consent, c.timezone, c.preferred_channel) == (
            "+14155550123",
            True,
            "America/Chicago",
            "voice",
        )
        assert c.consent_at == NOW
        assert c.opted_out_at is None

    def test_empty_optional_cells_take_the_configured_defaults(self, session, settings, tmp_path):
        """An empty consent/timezone/preferred_channel cell is the same as an absent column."""
        write(
            tmp_path,
            customers="customer_id,name,phone,locale,consent,timezone,preferred_channel\n"
            "C1,李雷,13912345678,zh,,,\n"
            "C2,韩梅梅,13912345679,zh,yes,Asia/Urumqi,voice\n",
        )
        run(session, settings, tmp_path)
        defaults = settings.import_defaults
        c1, c2 = customer(session, "C1"), customer(session, "C2")
        assert (c1.consent, c1.timezone, c1.preferred_channel) == (
            defaults.consent,
            defaults.timezone,
            defaults.preferred_channel,
        )
        assert (c2.consent, c2.timezone, c2.preferred_channel) == (True, "Asia/Urumqi", "voice")

    def test_locale_spellings_are_normalised(self, session, settings, tmp_path):
        """zh, zh_CN and cn read as zh-CN; en_US reads as en."""
        write(
            tmp_path,
            customers="customer_id,name,phone,locale\n"
            "C1,a,13912345671,zh\nC2,b,13912345672,zh_CN\nC3,c,13912345673,cn\n"
            "C4,d,13912345674,en_US\n",
        )
        run(session, settings, tmp_path)
        locales = [customer(session, f"C{n}").locale for n in range(1, 5)]
        assert locales == ["zh-CN", "zh-CN", "zh-CN", "en"]

    def test_a_bom_before_the_header_is_ignored(self, session, settings, tmp_path):
        """A file saved by Excel (UTF-8 with BOM) reads like one without."""
        (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8-sig")
        report = run(session, settings, tmp_path)
        assert report.errors == []
        assert report.files["customers.csv"].inserted == 2

    def test_slashed_dates_and_empty_odometers_are_accepted(self, session, settings, tmp_path):
        """YYYY/MM/DD is a date too, and an empty odometer is stored as unknown."""
        full_export(
            tmp_path,
            visits="visit_id,vehicle_id,date,odometer_km,type\nS1,V1,2025/03/01,,maintenance\n",
            deferred_work="item_id,vehicle_id,visit_id,description,severity,due_by\n",
        )
        report = run(session, settings, tmp_path)
        assert report.errors == []
        visit = session.scalars(select(Visit).where(Visit.external_id == "S1")).one()
        assert (visit.visited_on, visit.odometer_km) == (date(2025, 3, 1), None)

    def test_vehicle_history_is_rebuilt_from_the_imported_visits(self, session, settings, tmp_path):
        """The maintenance campaign's summary row reflects the imported visits."""
        run(session, settings, full_export(tmp_path))
        v1 = session.scalars(select(Vehicle).where(Vehicle.external_id == "V1")).one()
        history = session.get(VehicleHistory, v1.id)
        assert (history.last_visit_on, history.last_service_on, history.last_km) == (
            date(2025, 9, 1),
            date(2025, 3, 1),
            16000,
        )


class TestBadRows:
    @pytest.mark.parametrize(
        ("files", "expected"),
        [
            (
                {"customers": CUSTOMERS.replace("13912345678", "12345")},
                "customers.csv:2:phone: not a valid phone number: '12345'",
            ),
            (
                {"customers": CUSTOMERS.replace("zh-CN", "fr")},
                "customers.csv:2:locale: unknown locale 'fr'; expected zh-CN or en",
            ),
            (
                {"customers": CUSTOMERS.replace("李雷", "")},
                "customers.csv:2:name: required value is empty",
            ),
            (
                {"visits": VISITS.replace("2025-09-01", "2025-13-01")},
                "visits.csv:3:date: not a date (YYYY-MM-DD): '2025-13-01'",
            ),
            (
                {"visits": VISITS.replace("16000", "-5")},
                "visits.csv:3:odometer_km: negative odometer: -5",
            ),
            (
                {"visits": VISITS.replace("repair", "wash")},
                "visits.csv:3:type: unknown visit type 'wash'; expected one of maintenance, "
                "inspection, repair, accident, detailing",
            ),
            (
                {"visits": VISITS.replace("S3,V2", "S3,V9")},
                "visits.csv:4:vehicle_id: unknown vehicle 'V9'",
            ),
            (
                {"vehicles": VEHICLES.replace("V2,C2", "V2,C7")},
                "vehicles.csv:3:customer_id: unknown customer 'C7'",
            ),
            (
                {"deferred_work": DEFERRED.replace("V1,S2", "V1,S8")},
                "deferred_work.csv:2:visit_id: unknown visit 'S8'",
            ),
            (
                {"deferred_work": DEFERRED.replace("V1,S2", "V2,S2")},
                "deferred_work.csv:2:visit_id: visit 'S2' is not a visit of vehicle 'V2'",
            ),
            (
                {"deferred_work": DEFERRED.replace("low", "whenever")},
                "deferred_work.csv:3:severity: unknown severity 'whenever'; expected one of "
                "safety, high, medium, low",
            ),
            (
                {"deferred_work": DEFERRED.replace("2026-06-01", "June")},
                "deferred_work.csv:3:due_by: not a date (YYYY-MM-DD): 'June'",
            ),
            (
                {"vehicles": VEHICLES + "V1,C1,LSVAU2180N2999999,沪B1,Lavida\n"},
                "vehicles.csv:4:vehicle_id: duplicate vehicle_id 'V1' (first on line 2)",
            ),
            (
                {"customers": CUSTOMERS + "C3,王,13912345670,zh,extra\n"},
                "customers.csv:4:-: 5 cells but the header has 4 columns",
            ),
        ],
    )
    def test_a_bad_row_is_named_by_file_line_and_column(
        self, session, settings, tmp_path, files, expected
    ):
        """Each kind of bad row is reported with its file, line, column and reason.

        Rows that depend on it follow; they are pinned by the dependency test.
        """
        report = run(session, settings, full_export(tmp_path, **files))
        assert messages(report)[0] == expected
        assert messages(report).count(expected) == 1

    def test_good_rows_beside_a_bad_one_are_kept(self, session, settings, tmp_path):
        """Rejecting one customer keeps the others and everything that hangs on them."""
        report = run(
            session, settings, full_export(tmp_path, customers=CUSTOMERS.replace("+1415", "+1"))
        )
        assert report.files["customers.csv"].inserted == 1
        assert report.files["customers.csv"].rejected == 1
        assert customer(session, "C1").vehicles[0].external_id == "V1"
        assert count(session, Visit) == 2

    def test_rows_of_a_rejected_row_are_rejected_naming_it(self, session, settings, tmp_path):
        """A vehicle of a rejected customer, and its visits and items, name what they depend on."""
        report = run(
            session, settings, full_export(tmp_path, customers=CUSTOMERS.replace("+1415", "+1"))
        )
        assert messages(report) == [
            "customers.csv:3:phone: not a valid phone number: '+14155550123'".replace(
                "+1415", "+1"
            ),
            "vehicles.csv:3:customer_id: customer 'C2' was rejected (customers.csv:3)",
            "visits.csv:4:vehicle_id: vehicle 'V2' was rejected (vehicles.csv:3)",
            "deferred_work.csv:3:vehicle_id: vehicle 'V2' was rejected (vehicles.csv:3)",
        ]

    def test_decreasing_odometer_in_the_file_rejects_both_readings(
        self, session, settings, tmp_path
    ):
        """Two readings out of order cannot tell which is wrong: both are rejected."""
        visits = VISITS.replace("16000", "9000")
        report = run(session, settings, full_export(tmp_path, visits=visits))
        assert messages(report)[:2] == [
            "visits.csv:2:odometer_km: decreasing odometer: 10000 km on 2025-03-01 is above "
            "9000 km on the later 2025-09-01 (visit S2)",
            "visits.csv:3:odometer_km: decreasing odometer: 9000 km on 2025-09-01 is below "
            "10000 km on 2025-03-01 (visit S1)",
        ]
        assert messages(report)[2] == (
            "deferred_work.csv:2:visit_id: visit 'S2' was rejected (visits.csv:3)"
        )

    def test_decreasing_odometer_against_stored_visits(self, session, settings, tmp_path):
        """A reading below an earlier stored visit, or above a later one, is rejected."""
        owner = make_customer(session, external_id="C1")
        vehicle = make_vehicle(session, owner, external_id="V1")
        for external_id, on, km in (
            ("OLD1", date(2025, 1, 1), 12000),
            ("OLD2", date(2025, 12, 1), 20000),
        ):
            make_visit(session, vehicle, on, km).external_id = external_id
        session.flush()
        write(
            tmp_path,
            visits="visit_id,vehicle_id,date,odometer_km,type\n"
            "S1,V1,2025-06-01,11000,repair\n"
            "S2,V1,2025-07-01,25000,repair\n"
            "S3,V1,2025-08-01,15000,repair\n",
        )
        report = run(session, settings, tmp_path)
        assert messages(report) == [
            "visits.csv:2:odometer_km: decreasing odometer: 11000 km on 2025-06-01 is below "
            "12000 km on 2025-01-01 (visit OLD1)",
            "visits.csv:3:odometer_km: decreasing odometer: 25000 km on 2025-07-01 is above "
            "20000 km on the later 2025-12-01 (visit OLD2)",
        ]
        assert report.files["visits.csv"].inserted == 1

    def test_a_visit_dated_after_today_is_rejected(self, session, settings, tmp_path):
        """A visit cannot have happened after the import's day."""
        visits = VISITS.replace("2025-09-01", "2026-03-02")
        report = run(session, settings, full_export(tmp_path, visits=visits))
        assert messages(report)[0] == "visits.csv:3:date: 2026-03-02 is in the future"

    def test_line_numbers_count_physical_lines(self, session, settings, tmp_path):
        """A quoted cell spanning two lines moves the following rows' line numbers."""
        write(
            tmp_path,
            customers='customer_id,name,phone,locale\nC1,"Li\nLei",13912345678,zh\n\n'
            "C2,Ann,555,en\n",
        )
        report = run(session, settings, tmp_path)
        assert messages(report) == ["customers.csv:5:phone: not a valid phone number: '555'"]
        assert customer(session, "C1").name == "Li\nLei"


class TestReimport:
    def test_the_same_files_again_change_nothing(self, session, settings, tmp_path):
        """A second import of the same export reports every row unchanged."""
        full_export(tmp_path)
        run(session, settings, tmp_path)
        again = run(session, settings, tmp_path, now=datetime(2026, 3, 2, tzinfo=UTC))
        assert again.errors == []
        assert {name: (c.inserted, c.updated) for name, c in again.files.items()} == {
            name: (0, 0) for name in again.files
        }
        assert [c.unchanged for c in again.files.values()] == [2, 2, 3, 2]
        assert count(session, Advisor) == 1

    def test_a_changed_row_is_updated(self, session, settings, tmp_path):
        """A changed cell updates the stored row and counts as updated, the rest unchanged."""
        run(session, settings, full_export(tmp_path))
        full_export(
            tmp_path,
            customers=CUSTOMERS.replace("Ann Lee", "Ann Li"),
            visits=VISITS.replace("16000", "17000"),
        )
        report = run(session, settings, tmp_path)
        assert (report.files["customers.csv"].updated, report.files["customers.csv"].unchanged) == (
            1,
            1,
        )
        assert report.files["visits.csv"].updated == 1
        assert customer(session, "C2").name == "Ann Li"
        v1 = session.scalars(select(Vehicle).where(Vehicle.external_id == "V1")).one()
        assert session.get(VehicleHistory, v1.id).last_km == 17000

    def test_an_opt_out_recorded_by_the_product_is_not_undone(self, session, settings, tmp_path):
        """A customer who texted STOP stays opted out when the DMS export says nothing of it."""
        write(tmp_path, customers=consenting(CUSTOMERS))
        run(session, settings, tmp_path)
        c1 = customer(session, "C1")
        stopped_at = datetime(2026, 3, 5, tzinfo=UTC)
        consent.opt_out(session, c1, source="sms: STOP", now=stopped_at)
        session.flush()
        report = run(session, settings, tmp_path, now=datetime(2026, 3, 6, tzinfo=UTC))
        session.expire_all()
        c1 = customer(session, "C1")
        assert (c1.opted_out_at, c1.opt_out_source) == (stopped_at, "sms: STOP")
        assert report.files["customers.csv"].unchanged == 2

    def test_a_wrong_number_block_is_lifted_by_a_new_number_only(self, session, settings, tmp_path):
        """ "Wrong number" blocks the number, not the customer: the same number stays blocked,
        a corrected one may be written to."""
        write(tmp_path, customers=consenting(CUSTOMERS))
        run(session, settings, tmp_path)
        c1 = customer(session, "C1")
        old_phone = c1.phone
        source = consent.WRONG_NUMBER + "sms: 打错了"
        consent.opt_out(session, c1, source=source, now=datetime(2026, 3, 5, tzinfo=UTC))
        session.flush()
        run(session, settings, tmp_path, now=datetime(2026, 3, 6, tzinfo=UTC))
        session.expire_all()
        assert customer(session, "C1").opt_out_source == source
        fixed = CUSTOMERS.replace(old_phone.removeprefix("+86"), "13900001111")
        write(tmp_path, customers=consenting(fixed))
        run(session, settings, tmp_path, now=datetime(2026, 3, 7, tzinfo=UTC))
        session.expire_all()
        c1 = customer(session, "C1")
        assert c1.phone == "+8613900001111"
        assert (c1.opted_out_at, c1.opt_out_source) == (None, None) and c1.contactable

    def test_an_opt_out_in_the_export_is_recorded(self, session, settings, tmp_path):
        """opted_out=yes records an opt-out; it is stable across re-imports."""
        text = "customer_id,name,phone,locale,consent,opted_out\nC1,李雷,13912345678,zh,yes,yes\n"
        write(tmp_path, customers=text)
        run(session, settings, tmp_path)
        again = run(session, settings, tmp_path, now=datetime(2026, 4, 1, tzinfo=UTC))
        c1 = customer(session, "C1")
        assert c1.opted_out_at == NOW
        assert not c1.contactable
        assert again.files["customers.csv"].unchanged == 1

    def test_work_closed_by_the_product_is_not_reopened(self, session, settings, tmp_path):
        """An item marked done stays done when the export has no done_on for it."""
        run(session, settings, full_export(tmp_path))
        item = session.scalars(select(DeferredItem).where(DeferredItem.external_id == "D1")).one()
        item.done_at = datetime(2026, 3, 10, tzinfo=UTC)
        session.flush()
        report = run(session, settings, tmp_path)
        session.expire_all()
        assert session.get(DeferredItem, item.id).done_at == datetime(2026, 3, 10, tzinfo=UTC)
        assert report.files["deferred_work.csv"].unchanged == 2


class TestWholeFiles:
    def test_a_file_that_is_not_utf8_aborts(self, session, settings, tmp_path):
        """A file in another encoding imports nothing and says which file."""
        (tmp_path / "customers.csv").write_bytes(CUSTOMERS.encode("gb18030"))
        with pytest.raises(ImportAborted) as caught:
            run(session, settings, tmp_path)
        assert str(caught.value.errors[0]).startswith("customers.csv:")
        assert "not UTF-8 text" in str(caught.value.errors[0])
        assert count(session, Customer) == 0

    def test_a_missing_required_column_aborts_naming_file_and_column(
        self, session, settings, tmp_path
    ):
        """A file without a required column imports nothing, and the error names both."""
        full_export(tmp_path, visits="visit_id,vehicle_id,date,type\nS1,V1,2025-03-01,repair\n")
        with pytest.raises(ImportAborted) as caught:
            run(session, settings, tmp_path)
        assert [str(e) for e in caught.value.errors] == [
            "visits.csv:1:odometer_km: required column is missing"
        ]
        assert count(session, Customer) == 0

    def test_an_absent_file_is_skipped(self, session, settings, tmp_path):
        """An export of customers only imports customers."""
        write(tmp_path, customers=CUSTOMERS)
        report = run(session, settings, tmp_path)
        assert list(report.files) == ["customers.csv"]
        assert count(session, Customer) == 2

    @pytest.mark.parametrize(
        "committing_engine",
        ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
        indirect=True,
    )
    def test_a_crash_half_way_writes_nothing(
        self, committing_engine, settings, tmp_path, monkeypatch
    ):
        """An error in the second file rolls back the first one too."""
        full_export(tmp_path)
        real = vehicles._values
        calls = []

        def crash_on_second_row(ctx, cells):
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("disk on fire")
            return real(ctx, cells)

        monkeypatch.setattr(vehicles, "_values", crash_on_second_row)
        sessions = make_sessionmaker(committing_engine)
        with pytest.raises(RuntimeError), transaction(sessions) as session:
            run(session, settings, tmp_path)
        with sessions() as session:
            assert count(session, Customer) == 0
            assert count(session, Vehicle) == 0


class TestCommand:
    def test_rejected_rows_make_a_non_zero_exit_after_keeping_the_good_ones(self, tmp_path):
        """`outreach import` lists each rejected row, prints the summary and exits 1."""
        from outreach.db import make_engine
        from outreach.migrate import upgrade

        url = f"sqlite:///{tmp_path / 'cli.db'}"
        engine = make_engine(url)
        upgrade(engine)
        export = tmp_path / "export"
        export.mkdir()
        full_export(export, visits=VISITS.replace("repair", "wash"))
        result = CliRunner().invoke(
            main, ["import", "--quiet", str(export)], obj=App({"DATABASE_URL": url})
        )
        assert result.exit_code == 1
        assert "visits.csv:3:type: unknown visit type 'wash'" in result.stderr
        assert "visits.csv         inserted 2, updated 0, unchanged 0, rejected 1" in result.stdout
        with Session(engine) as session:
            assert count(session, Customer) == 2
        engine.dispose()
