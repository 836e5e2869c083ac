"""Property-based fuzzing of the importer (#13): whatever the files hold — broken quoting, rows
of the wrong width, control characters, huge numbers, arbitrary bytes — the import either
reports every bad row with its file, line and column and keeps exactly the good ones, or
refuses a file as a whole; it never raises anything else.

One in-memory SQLite database serves every example; each import is rolled back after it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from outreach.control_chars import CONTROL
from outreach.db import Base, make_engine
from outreach.importer import FILES, ImportAborted, import_directory
from outreach.importer.cells import ODOMETER_MAX_KM
from outreach.models import Advisor, Customer, DeferredItem, Vehicle, Visit
from outreach.settings import Settings

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
EXAMPLES = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
MODELS = {
    "customers.csv": Customer,
    "vehicles.csv": Vehicle,
    "visits.csv": Visit,
    "deferred_work.csv": DeferredItem,
}

any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
tricky = st.sampled_from(['"', '""', ",", "\n", "\r\n", "\r", "\x00", "\x1b", " ", "\ufeff", "，"])
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["2000000", "2000001", "3000000000", str(2**63), "12,345", "１２３", "1e3"]),
)
days = st.one_of(
    st.dates().map(str),
    st.sampled_from(["2025-03-01", "2025/9/1", "0001-01-01", "9999-12-31", "2025-13-01"]),
)


def cell(*likely: str | st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A cell that is usually plausible, sometimes anything at all."""
    plausible = [c if isinstance(c, st.SearchStrategy) else st.just(c) for c in likely]
    return st.one_of(
        *plausible,
        any_text,
        st.lists(st.one_of(tricky, any_text, *plausible), max_size=4).map("".join),
    )


COLUMNS: dict[str, dict[str, st.SearchStrategy[str]]] = {
    "customers.csv": {
        "customer_id": cell("C1", "C2", "C3", st.text(max_size=70)),
        "name": cell("李雷", "Ann Lee", st.text(min_size=190, max_size=210)),
        "phone": cell("13912345678", "+14155550123", "+8613912345679"),
        "locale": cell("zh-CN", "en", "zh", "fr"),
        "consent": cell("yes", "no", "是", "maybe"),
        "consent_at": cell(days, "2025-06-01T10:30", "0001-01-01T00:00+14:00"),
        "timezone": cell("Asia/Shanghai", "America/New_York", "../../etc/passwd", "Mars/Base"),
        "opted_out": cell("yes", "no"),
    },
    "vehicles.csv": {
        "vehicle_id": cell("V1", "V2", "V3"),
        "customer_id": cell("C1", "C2", "C3", "C9"),
        "vin": cell("LSVAU2180N2123456", "1HGCM82633A004352", "VIN-WITH-DASHES!!"),
        "plate": cell("沪A12345", "7ABC123"),
        "model": cell("Lavida", "Accord"),
        "model_year": cell(numbers, "2020"),
        "active": cell("yes", "no"),
    },
    "visits.csv": {
        "visit_id": cell("S1", "S2", "S3", "S4"),
        "vehicle_id": cell("V1", "V2", "V3"),
        "date": cell(days),
        "odometer_km": cell(numbers, "10000", "16000", ""),
        "type": cell("maintenance", "repair", "wash"),
        "advisor": cell("A01", "A02", "", st.text(min_size=39, max_size=42)),
        "advisor_name": cell("王芳", ""),
    },
    "deferred_work.csv": {
        "item_id": cell("D1", "D2", "D3"),
        "vehicle_id": cell("V1", "V2", "V3"),
        "visit_id": cell("S1", "S2", ""),
        "description": cell("后刹车片剩余 30%", "Wiper blades"),
        "severity": cell("safety", "low", "urgent"),
        "due_by": cell(days),
        "done_on": cell(days, ""),
    },
}


@st.composite
def csv_file(draw: st.DrawFn, name: str) -> bytes:
    columns = list(COLUMNS[name])
    header = draw(st.permutations(columns))
    rows = []
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        row = [draw(COLUMNS[name][column]) for column in header]
        shape = draw(st.sampled_from(["same", "same", "same", "extra", "short"]))
        if shape == "extra":
            row.append(draw(st.sampled_from(["", "x"])))
        elif shape == "short" and row:
            row.pop()
        rows.append(row)
    out = io.StringIO(newline="")
    how = draw(st.sampled_from(["csv", "csv", "raw"]))
    if how == "csv":
        quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
        writer = csv.writer(
            out, quoting=quoting, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))
        )
        writer.writerow(header)
        writer.writerows(rows)
    else:  # cells joined as they are: quotes and line breaks in them break the form
        out.write(",".join(header) + "\n")
        for row in rows:
            out.write(",".join(row) + "\n")
    data = out.getvalue().encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return data


exports = st.fixed_dictionaries(
    {},
    optional={name: csv_file(name) for name in FILES},
)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    engine = make_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("export")


def import_once(engine: Engine, settings: Settings, folder: Path, files: dict[str, bytes]) -> None:
    for name in FILES:
        path = folder / name
        path.unlink(missing_ok=True)
        if name in files:
            path.write_bytes(files[name])
    # Physical lines end at LF, CR LF or a lone CR.
    lines = {name: len(re.split(rb"\r\n|\r|\n", data)) for name, data in files.items()}
    with Session(engine) as session, session.begin():
        try:
            report = import_directory(session, settings, folder, now=NOW)
        except ImportAborted as exc:  # a file refused as a whole: the caller rolls back
            assert exc.errors
            for error in exc.errors:
                assert "\n" not in str(error) and error.line >= 0
            session.rollback()
            return
        for error in report.errors:
            assert error.file in files and "\n" not in str(error)
            assert 2 <= error.line <= lines[error.file] and error.column
        for name, model in MODELS.items():
            stored = session.scalar(select(func.count()).select_from(model))
            counts = report.files.get(name)
            assert stored == (counts.inserted if counts else 0), name  # exactly the good rows
        texts = [
            *session.scalars(select(Customer.name)),
            *session.scalars(select(Vehicle.plate)),
            *session.scalars(select(Vehicle.model)),
            *session.scalars(select(DeferredItem.description)),
            *session.scalars(select(Advisor.name)),
        ]
        assert not any(CONTROL.search(text) for text in texts)
        assert all(
            km is None or 0 <= km <= ODOMETER_MAX_KM
            for km in session.scalars(select(Visit.odometer_km))
        )
        session.rollback()


@EXAMPLES
@given(files=exports.filter(bool))
def test_any_export_imports_or_is_refused_cleanly(engine, base_settings, folder, files) -> None:
    import_once(engine, base_settings, folder, files)


@EXAMPLES
@given(
    name=st.sampled_from(FILES),
    header=st.booleans(),
    data=st.binary(max_size=300),
)
def test_any_bytes_import_or_are_refused_cleanly(
    engine, base_settings, folder, name, header, data
) -> None:
    prefix = (",".join(COLUMNS[name]) + "\n").encode() if header else b""
    import_once(engine, base_settings, folder, {name: prefix + data})
