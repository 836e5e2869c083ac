"""The state of one import run: the tables, the rows rejected so far and the report."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from outreach.importer.cells import CellError, Cells
from outreach.importer.csvfile import read_records
from outreach.importer.report import FileCounts, ImportReport, RowError
from outreach.importer.scratch import Scratch
from outreach.importer.table import BATCH, Table
from outreach.settings import Settings

ID_MAX = 64  # external_id columns are String(64)
T = TypeVar("T")


@dataclass(frozen=True)
class TableSpec:
    """One CSV file and the table it fills."""

    file: str
    model: Any
    id_column: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    fields: tuple[str, ...]  # the columns an import writes and compares
    run: Callable[[Context], None]
    refs: tuple[tuple[str, str], ...] = ()  # (column, file) of the ids a row refers to


@dataclass
class Context:
    session: Session
    settings: Settings
    directory: Path
    now: datetime
    progress: bool
    specs: dict[str, TableSpec]
    headers: dict[str, list[str]]
    scratch: Scratch
    report: ImportReport = field(default_factory=ImportReport)
    # file -> external id -> line, for every row this import rejected
    rejected: dict[str, dict[str, int]] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)

    @property
    def today(self) -> Any:
        return self.now.astimezone(self.settings.tz).date()

    def counts(self, file: str) -> FileCounts:
        return self.report.files.setdefault(file, FileCounts())

    def table(self, file: str) -> Table:
        """The table behind ``file``, its existing rows read on first use."""
        if file not in self.tables:
            spec = self.specs[file]
            self.tables[file] = Table(self.session, spec.model, spec.fields, self.counts(file))
        return self.tables[file]

    def reject(self, file: str, line: int, column: str, reason: str, external_id: str = "") -> None:
        self.report.errors.append(RowError(file, line, column, reason))
        self.counts(file).rejected += 1
        if external_id:
            self.rejected.setdefault(file, {}).setdefault(external_id, line)

    def rows(self, file: str) -> Iterator[tuple[int, str, Cells]]:
        """(line, external id, cells) of each well-formed row; the others are rejected here."""
        spec = self.specs[file]
        path = self.directory / file
        for record in read_records(path, self.headers[file], progress=self.progress):
            cells = Cells(record.values)
            external_id = cells.raw(spec.id_column)
            if record.problem:
                column, reason = record.problem
                self.reject(file, record.line, column, reason, external_id)
                continue
            try:
                cells.text(spec.id_column, ID_MAX)
            except CellError as exc:
                self.reject(file, record.line, exc.column, exc.reason)
                continue
            first = self.scratch.first_line(file, external_id, record.line)
            if first != record.line:
                reason = f"duplicate {spec.id_column} {external_id!r} (first on line {first})"
                # Not recorded as rejected by id: rows that refer to it use the first one.
                self.reject(file, record.line, spec.id_column, reason)
                continue
            yield record.line, external_id, cells

    def parsed(self, file: str, parse: Callable[[int, str, Cells], T]) -> Iterator[tuple[str, T]]:
        """(external id, what ``parse`` made of the row) for each row ``parse`` accepts.

        ``parse(line, external_id, cells)`` raises :class:`CellError` for a cell it cannot
        use: that row is rejected with the column and the reason, and the rest go on.

        Rows come in batches of :data:`BATCH`: the stored rows of a batch's ids, and of the
        ids it refers to (``TableSpec.refs``), are read before it is parsed; what the caller
        queued for the batch is written when it asks for the next row after it.
        """
        spec = self.specs[file]
        batch: list[tuple[int, str, Cells]] = []
        rows = self.rows(file)
        while True:
            batch.clear()
            for row in rows:
                batch.append(row)
                if len(batch) == BATCH:
                    break
            if not batch:
                return
            self.table(file).load(external_id for _, external_id, _ in batch)
            for column, other in spec.refs:
                self.table(other).load(cells.raw(column) for _, _, cells in batch)
            for line, external_id, cells in batch:
                try:
                    value = parse(line, external_id, cells)
                except CellError as exc:
                    self.reject(file, line, exc.column, exc.reason, external_id)
                    continue
                yield external_id, value
            for table in self.tables.values():
                table.forget()

    def resolve(self, cells: Cells, column: str, file: str, noun: str) -> int:
        """The row id that ``column`` refers to in ``file``'s table, or a :class:`CellError`."""
        external_id = cells.text(column)
        line = self.rejected.get(file, {}).get(external_id)
        if line is not None:
            raise CellError(column, f"{noun} {external_id!r} was rejected ({file}:{line})")
        row_id = self.table(file).id_of(external_id)
        if row_id is None:
            raise CellError(column, f"unknown {noun} {external_id!r}")
        return row_id
