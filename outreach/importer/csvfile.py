"""Streaming a DMS export file: header checks, physical line numbers and a progress bar."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from outreach.importer.report import ImportAborted, RowError

ENCODING = "utf-8-sig"  # a BOM, as Excel writes it, is dropped


@dataclass(frozen=True)
class Record:
    """One data row: its first physical line and its cells by column (stripped)."""

    line: int
    values: dict[str, str]
    problem: str | None = None  # the row's shape is wrong (too many cells)


def read_header(path: Path, required: tuple[str, ...]) -> list[str]:
    """The file's column names (stripped, lower case); a missing or repeated column aborts."""
    name = path.name
    with _reading(path, lambda: 1), path.open(encoding=ENCODING, newline="") as f:
        header = next(csv.reader(f), None)
    if header is None:
        raise ImportAborted(
            [RowError(name, 1, "-", "the file is empty; a header line is expected")]
        )
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
    width = len(columns)
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
        reader = csv.reader(f)
        last = 0
        with _reading(path, lambda: last + 1):
            for cells in reader:
                line = last + 1
                bar.update(reader.line_num - last)
                last = reader.line_num
                if line == 1:  # the header
                    continue
                if not any(cell.strip() for cell in cells):
                    continue
                problem = None
                if len(cells) > width and any(cell.strip() for cell in cells[width:]):
                    problem = f"{len(cells)} cells but the header has {width} columns"
                values = {c: cell.strip() for c, cell in zip(columns, cells, strict=False) if c}
                yield Record(line, values, problem)


@contextmanager
def _reading(path: Path, line: Callable[[], int]) -> Iterator[None]:
    """Turn a file that is not UTF-8 text or not CSV into :class:`ImportAborted` at its line."""
    try:
        yield
    except UnicodeDecodeError as exc:
        # Text is decoded in blocks, so the bad byte is at or after the line reached.
        reason = (
            "not UTF-8 text (at or after this line): save the file as UTF-8"
            " (Excel: Save As > CSV UTF-8) and import again"
        )
        raise ImportAborted([RowError(path.name, line(), "-", reason)]) from exc
    except csv.Error as exc:
        reason = f"not readable as CSV: {exc}"
        raise ImportAborted([RowError(path.name, line(), "-", reason)]) from exc


def _count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines
