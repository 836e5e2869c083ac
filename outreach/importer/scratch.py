"""What an import must remember about every row, kept on disk instead of in memory.

A DMS export can hold millions of rows (1,000,000 vehicles, 5,000,000 visits); an import keeps
in memory only one batch of rows at a time.  What it needs about all of them — which ids a file
has already had (duplicates), the parsed visits until the odometer rule has seen every reading
of a vehicle, the vehicles whose history changed — goes to a temporary SQLite database that is
deleted when the import ends.  It is the importer's own scratch space, never the product's
database, and holds nothing once the import is over.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE seen (file TEXT, id TEXT, line INTEGER, PRIMARY KEY (file, id)) WITHOUT ROWID;
CREATE TABLE staged_visits (
    visit TEXT PRIMARY KEY, line INTEGER, vehicle_id INTEGER, old_vehicle_id INTEGER,
    day INTEGER, km INTEGER, type TEXT, advisor TEXT, rejected INTEGER DEFAULT 0
);
CREATE INDEX staged_visits_vehicle ON staged_visits (vehicle_id);
CREATE TABLE touched_vehicles (vehicle_id INTEGER PRIMARY KEY);
"""


class Scratch:
    """A temporary SQLite database for one import run; :meth:`close` deletes it."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="outreach-import-")
        self.db = sqlite3.connect(Path(self._dir.name) / "scratch.db", isolation_level=None)
        # Nothing here has to survive a crash: no journal, no syncing, a bounded page cache.
        self.db.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -32000;"
            + SCHEMA
            + "BEGIN;"
        )

    def close(self) -> None:
        self.db.close()
        self._dir.cleanup()

    def first_line(self, file: str, external_id: str, line: int) -> int:
        """The line ``external_id`` was first seen on in ``file`` (``line`` if it is new)."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO seen VALUES (?, ?, ?)", (file, external_id, line)
        )
        if cursor.rowcount:
            return line
        row = self.db.execute(
            "SELECT line FROM seen WHERE file = ? AND id = ?", (file, external_id)
        ).fetchone()
        return int(row[0])

    def execute(self, sql: str, parameters: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self.db.execute(sql, tuple(parameters))

    def executemany(self, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
        self.db.executemany(sql, rows)

    def where_in(self, sql: str, values: list[Any], *extra: Any) -> Iterator[Any]:
        """The rows of ``sql``, whose ``{marks}`` is filled with one placeholder per value
        (``… WHERE visit IN ({marks})``), for ``values`` 500 at a time; ``extra`` follow."""
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            query = sql.format(marks=",".join("?" * len(chunk)))  # placeholders only
            yield from self.db.execute(query, (*chunk, *extra))

    def pages(self, sql: str, size: int) -> Iterator[list[Any]]:
        """The rows of ``sql`` (which selects a unique integer key first and takes ``?`` for
        "greater than" and ``LIMIT ?`` after its ORDER BY on that key), ``size`` at a time."""
        last = -(2**63)
        while True:
            rows = self.db.execute(sql, (last, size)).fetchall()
            if not rows:
                return
            yield rows
            last = rows[-1][0]
