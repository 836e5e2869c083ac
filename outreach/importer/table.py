"""Upserting one table by external id in batches: insert, update or leave unchanged."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from outreach.importer.report import FileCounts

BATCH = 2000  # rows written per statement, and rows an import holds in memory at a time
LOOKUP = 1000  # ids per "WHERE external_id IN (…)" (SQLite's variable limit is well above)


class Table:
    """A table's rows by external id, read a batch at a time, and the writes queued for it.

    Only the rows of the batch being imported are held (:meth:`load` reads them, one query for
    the batch, :meth:`forget` drops them), so memory does not grow with the table or the file.
    Writes go out as executemany batches of :data:`BATCH` rows, without the ORM's identity map.
    """

    def __init__(
        self, session: Session, model: Any, fields: tuple[str, ...], counts: FileCounts
    ) -> None:
        self.session = session
        self.model = model
        self.fields = fields
        self.counts = counts
        self._known: dict[str, tuple[int | None, tuple[Any, ...]]] = {}  # id None: new
        self._read: set[str] = set()  # ids looked up in this batch, found or not
        self._inserts: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []

    def load(self, external_ids: Iterable[str]) -> None:
        """Read the stored rows of ``external_ids`` not read yet in this batch."""
        wanted = sorted({e for e in external_ids if e and e not in self._read})
        self._read.update(wanted)
        columns = [getattr(self.model, name) for name in self.fields]
        for start in range(0, len(wanted), LOOKUP):
            chunk = wanted[start : start + LOOKUP]
            statement = select(self.model.external_id, self.model.id, *columns).where(
                self.model.external_id.in_(chunk)
            )
            for external_id, row_id, *values in self.session.execute(statement):
                self._known[external_id] = (row_id, tuple(values))

    def forget(self) -> None:
        """Write what is queued and drop the rows held for the batch."""
        self.flush()
        self._known.clear()
        self._read.clear()

    def id_of(self, external_id: str) -> int | None:
        """The row id of a row read by :meth:`load` (None for one inserted in this batch)."""
        known = self._known.get(external_id)
        return None if known is None else known[0]

    def current(self, external_id: str) -> dict[str, Any] | None:
        """The stored values of a row (or as queued by this import), None if new."""
        known = self._known.get(external_id)
        return None if known is None else dict(zip(self.fields, known[1], strict=True))

    def put(
        self,
        external_id: str,
        values: dict[str, Any],
        *,
        on_insert: dict[str, Any] | None = None,
        on_update: dict[str, Any] | None = None,
    ) -> str:
        """Queue the row (its stored version read by :meth:`load`); "inserted", "updated" or
        "unchanged".  ``on_insert`` / ``on_update`` are written along, never compared.
        """
        new = tuple(values[name] for name in self.fields)
        known = self._known.get(external_id)
        if known is None:
            self._known[external_id] = (None, new)
            self._inserts.append({"external_id": external_id, **values, **(on_insert or {})})
            outcome = "inserted"
        elif known[1] == new:
            outcome = "unchanged"
        else:
            row_id = known[0]
            self._known[external_id] = (row_id, new)
            self._updates.append({"id": row_id, **values, **(on_update or {})})
            outcome = "updated"
        setattr(self.counts, outcome, getattr(self.counts, outcome) + 1)
        if len(self._inserts) >= BATCH or len(self._updates) >= BATCH:
            self.flush()
        return outcome

    def flush(self) -> None:
        """Write what is queued."""
        if self._inserts:
            # Plain executemany, no RETURNING: later batches and files read the new ids back
            # with the rows they refer to (RETURNING over many rows costs quadratic time).
            self.session.execute(insert(self.model.__table__), self._inserts)
            self._inserts = []
        if self._updates:
            self.session.execute(update(self.model), self._updates)
            self._updates = []
