"""Force one transient database failure, as a deadlock or a busy SQLite file would cause.

The first statement that takes ledger units (an UPDATE of ``capacity_units``) fails with the
backend's own error — PostgreSQL's deadlock victim (40P01), SQLite's "database is locked" —
raised by the driver's exception class, so SQLAlchemy wraps it exactly as it would a real one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Engine, event


def _takes_units(statement: str) -> bool:
    head = statement.lstrip().upper()
    return "CAPACITY_UNITS" in head and head.startswith(("UPDATE", "WITH"))


@contextmanager
def fail_first_unit_update(engine: Engine) -> Iterator[list[str]]:
    """Within the block, the first ledger UPDATE on ``engine`` fails once; yields the failures."""
    failed: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if failed or not _takes_units(statement):
            return
        failed.append(statement)
        if engine.dialect.name == "postgresql":
            raise psycopg.errors.DeadlockDetected("deadlock detected")
        raise sqlite3.OperationalError("database is locked")

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield failed
    finally:
        event.remove(engine, "before_cursor_execute", before)
