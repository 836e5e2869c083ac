"""Importing the customer file a dealer exports from its DMS (``outreach import DIR``).

Four CSV files, read in order: customers.csv, vehicles.csv, visits.csv, deferred_work.csv.
Files are streamed a batch of rows at a time, so memory does not grow with their size (what
must be remembered about every row is kept in a temporary scratch database, see
:mod:`outreach.importer.scratch`).  Rows are upserted by their external ids; a bad row is
reported with its file, line and column and the good rows are kept; rows that depend on a
rejected row are rejected too.  The caller owns the transaction, so a crash half-way writes
nothing.  docs/import-format.md has the format.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from outreach.importer import customers, deferred, vehicles, visits
from outreach.importer.context import Context, TableSpec
from outreach.importer.csvfile import read_header
from outreach.importer.report import FILES, FileCounts, ImportAborted, ImportReport, RowError
from outreach.importer.scratch import Scratch
from outreach.settings import Settings

SPECS: dict[str, TableSpec] = {
    spec.file: spec for spec in (customers.SPEC, vehicles.SPEC, visits.SPEC, deferred.SPEC)
}


def import_directory(
    session: Session, settings: Settings, path: Path, *, now: datetime, progress: bool = False
) -> ImportReport:
    """Import the DMS export files found in ``path``; raises :class:`ImportAborted` when a
    file cannot be read as a whole (then nothing of any file has been written)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    path = Path(path)
    present = [name for name in FILES if (path / name).is_file()]
    if not present:
        raise ImportAborted(
            [
                RowError(
                    str(path),
                    0,
                    "-",
                    "no customers.csv, vehicles.csv, visits.csv or "
                    "deferred_work.csv in this directory",
                )
            ]
        )
    headers: dict[str, list[str]] = {}
    problems: list[RowError] = []
    for name in present:  # every header is checked before anything is written
        try:
            headers[name] = read_header(path / name, SPECS[name].required)
        except ImportAborted as exc:
            problems += exc.errors
    if problems:
        raise ImportAborted(problems)
    scratch = Scratch()
    try:
        ctx = Context(session, settings, path, now, progress, SPECS, headers, scratch)
        for name in present:
            ctx.counts(name)
            SPECS[name].run(ctx)
    finally:
        scratch.close()
    ctx.report.sort_errors()
    return ctx.report


__all__ = ["FILES", "FileCounts", "ImportAborted", "ImportReport", "RowError", "import_directory"]
