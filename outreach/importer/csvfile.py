"""Streaming a DMS export file: header checks, strict rows, physical line numbers, progress.

Rows are read strictly (RFC 4180 with the usual leniency for spaces): a row whose number of
cells differs from the header's, a quote that is never closed, text after a closing quote or a
control character in a cell makes that row a :class:`Record` with a ``problem``; reading goes
on.  A quoted cell may span lines, but an opening quote whose cell would swallow the rows after
it (the quote is still open at the end of the file, or after :data:`MAX_RECORD_LINES` lines, or
closing it does not give a row of the header's width) is reported on its own line and reading
goes on with the next line.
"""

from __future__ import annotations

import csv
import sys
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from outreach.control_chars import CONTROL, first_control
from outreach.importer.report import ImportAborted, RowError

ENCODING = "utf-8-sig"  # a BOM, as Excel writes it, is dropped
MAX_RECORD_LINES = 50  # the most physical lines one row (a quoted cell with line breaks) spans


@dataclass(frozen=True)
class Record:
    """One data row: its first physical line and its cells by column (stripped)."""

    line: int
    values: dict[str, str]
    problem: tuple[str, str] | None = None  # (column, reason): the row's shape is wrong


def read_header(path: Path, required: tuple[str, ...]) -> list[str]:
    """The file's column names (stripped, lower case); a missing or repeated column aborts."""
    name = path.name
    with _reading(path, lambda: 1), path.open(encoding=ENCODING, newline="") as f:
        first = f.readline()
    if not first.strip():
        raise ImportAborted(
            [RowError(name, 1, "-", "the file is empty; a header line is expected")]
        )
    try:
        header = next(csv.reader([first], strict=True))
    except csv.Error as exc:
        raise ImportAborted([RowError(name, 1, "-", f"the header is not CSV: {exc}")]) from None
    columns = [cell.strip().lower() for cell in header]
    errors = [
        RowError(name, 1, column, "required column is missing")
        for column in required
        if column not in columns
    ]
    errors += [
        RowError(name, 1, column, "column appears more than once")
        for n, column in enumerate(columns)
        if column and column in columns[:n]
    ]
    if errors:
        raise ImportAborted(errors)
    return columns


def read_records(path: Path, columns: list[str], *, progress: bool) -> Iterator[Record]:
    """The data rows in file order; blank lines are skipped."""
    total = _count_lines(path) if progress else None
    with (
        path.open(encoding=ENCODING, newline="") as f,
        tqdm(
            total=total,
            desc=path.name,
            unit=" lines",
            disable=not progress,
            file=sys.stderr,
            dynamic_ncols=True,
        ) as bar,
    ):
        reader = _Lines(f, bar.update if progress else None)
        with _reading(path, lambda: reader.last + 1):
            reader.next()  # the header, checked by read_header
            while (first := reader.next()) is not None:
                record = _record(reader, first, columns)
                if record is not None:
                    yield record


class _Lines:
    """Physical lines with their numbers; lines read ahead can be put back."""

    def __init__(self, f: TextIO, tick: Callable[[int], object] | None) -> None:
        self._f = f
        self._tick = tick
        self._back: deque[tuple[int, str]] = deque()
        self.last = 0  # the number of the last line read from the file

    def next(self) -> tuple[int, str] | None:
        if self._back:
            return self._back.popleft()
        text = self._f.readline()
        if not text:
            return None
        self.last += 1
        if self._tick is not None:
            self._tick(1)
        return self.last, text

    def put_back(self, lines: list[tuple[int, str]]) -> None:
        self._back.extendleft(reversed(lines))


def _record(reader: _Lines, first: tuple[int, str], columns: list[str]) -> Record | None:
    """The row starting at line ``first``; None for a blank line."""
    number, text = first
    if '"' in text:
        cells, text, problem = _quoted(reader, first, columns)
        if problem is not None:
            return Record(number, {}, problem)
    else:
        cells = text.rstrip("\r\n").split(",")
    if not any(cell.strip() for cell in cells):
        return None
    values = {c: cell.strip() for c, cell in zip(columns, cells, strict=False) if c}
    width = len(columns)
    if len(cells) < width:
        reason = f"{len(cells)} cells but the header has {width} columns"
        return Record(number, values, (columns[len(cells)] or "-", reason))
    if len(cells) > width:
        reason = f"{len(cells)} cells but the header has {width} columns"
        return Record(number, values, ("-", reason))
    if CONTROL.search(text):
        for column, cell in zip(columns, cells, strict=True):
            found = first_control(cell)
            if found is not None:
                return Record(number, values, (column or "-", f"control character {found}"))
    return Record(number, values)


def _quoted(
    reader: _Lines, first: tuple[int, str], columns: list[str]
) -> tuple[list[str], str, tuple[str, str] | None]:
    """(cells, the row's text, problem) of a row with quotes, which may span lines."""
    text = first[1]
    taken = [first]
    # An odd number of quotes: a quoted cell may go on on the next line.
    while text.count('"') % 2 and len(taken) < MAX_RECORD_LINES and _open_quote(text):
        more = reader.next()
        if more is None:
            break
        taken.append(more)
        text += more[1]
    try:
        rows = list(csv.reader(text.splitlines(keepends=True), strict=True))
        problem = None
    except csv.Error as exc:
        rows = []
        problem = ("-", f"not readable as CSV: {exc}")
    if problem is None and (len(rows) != 1 or (len(taken) > 1 and len(rows[0]) != len(columns))):
        problem = ("-", "not readable as CSV")
    if problem is None:
        return rows[0], text, None
    reader.put_back(taken[1:])  # the lines after it are rows of their own
    opened = _open_quote(first[1])
    if opened is not None:
        cell, at = opened
        column = columns[cell] if cell < len(columns) and columns[cell] else "-"
        reason = (
            f"unclosed quote (opened at character {at}); the row is skipped and reading "
            "goes on with the next line"
        )
        problem = (column, reason)
    return [], text, problem


def _open_quote(text: str) -> tuple[int, int] | None:
    """(cell index, 1-based character) of a quote still open at the end of ``text``."""
    cell, opened, quoted, at_start = 0, 0, False, True
    i = 0
    while i < len(text):
        char = text[i]
        if quoted:
            if char == '"':
                if text[i + 1 : i + 2] == '"':
                    i += 1
                else:
                    quoted = False
        elif char == ",":
            cell += 1
            at_start = True
            i += 1
            continue
        elif char == '"' and at_start:
            quoted, opened = True, i + 1
        if not char.isspace():
            at_start = False
        i += 1
    return (cell, opened) if quoted else None


@contextmanager
def _reading(path: Path, line: Callable[[], int]) -> Iterator[None]:
    """Turn a file that is not UTF-8 text into :class:`ImportAborted` at its line."""
    try:
        yield
    except UnicodeDecodeError as exc:
        # Text is decoded in blocks, so the bad byte is at or after the line reached.
        reason = (
            "not UTF-8 text (at or after this line): save the file as UTF-8"
            " (Excel: Save As > CSV UTF-8) and import again"
        )
        raise ImportAborted([RowError(path.name, line(), "-", reason)]) from exc


def _count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines
