"""Upserting one table by external id in batches: insert, update or leave unchanged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from outreach.importer.report import FileCounts

BATCH = 2000


class Table:
    """A table's rows known by external id, and the writes an import queues for it.

    The existing rows are read once (one query, not one per CSV row); writes go out as
    executemany batches of :data:`BATCH` rows.  ``ids`` and ``rows`` stay current as rows
    are written, so later files can resolve references to rows inserted by earlier ones.
    """

    def __init__(
        self, session: Session, model: Any, fields: tuple[str, ...], counts: FileCounts
    ) -> None:
        self.session = session
        self.model = model
        self.fields = fields
        self.counts = counts
        self.ids: dict[str, int] = {}
        self.rows: dict[str, tuple[Any, ...]] = {}
        columns = [getattr(model, name) for name in fields]
        for external_id, row_id, *values in session.execute(
            select(model.external_id, model.id, *columns)
        ):
            self.ids[external_id] = row_id
            self.rows[external_id] = tuple(values)
        self._inserts: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []

    def current(self, external_id: str) -> dict[str, Any] | None:
        """The stored values of a row (or as queued by this import), None if new."""
        row = self.rows.get(external_id)
        return None if row is None else dict(zip(self.fields, row, strict=True))

    def put(
        self,
        external_id: str,
        values: dict[str, Any],
        *,
        on_insert: dict[str, Any] | None = None,
        on_update: dict[str, Any] | None = None,
    ) -> str:
        """Queue the row; "inserted", "updated" or "unchanged".

        ``on_insert`` / ``on_update`` are written along (timestamps), never compared.
        """
        new = tuple(values[name] for name in self.fields)
        old = self.rows.get(external_id)
        self.rows[external_id] = new
        if old is None:
            self._inserts.append({"external_id": external_id, **values, **(on_insert or {})})
            outcome = "inserted"
        elif old == new:
            outcome = "unchanged"
        else:
            self._updates.append({"id": self.ids[external_id], **values, **(on_update or {})})
            outcome = "updated"
        setattr(self.counts, outcome, getattr(self.counts, outcome) + 1)
        if len(self._inserts) >= BATCH or len(self._updates) >= BATCH:
            self.flush()
        return outcome

    def flush(self) -> None:
        """Write what is queued."""
        if self._inserts:
            statement = insert(self.model).returning(self.model.external_id, self.model.id)
            for external_id, row_id in self.session.execute(statement, self._inserts):
                self.ids[external_id] = row_id
            self._inserts = []
        if self._updates:
            self.session.execute(update(self.model), self._updates)
            self._updates = []
