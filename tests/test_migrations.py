"""The migrations: one line of revisions, ``0001`` never changes, and head matches the models.

Dealerships have installed the schema, so every change after ``0001`` is a revision of its own;
these tests fail when a model changes without one, when two branches leave two heads, or when
the first revision is edited in place.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from outreach.db import Base, make_engine
from outreach.migrate import MIGRATIONS, alembic_config, upgrade
from tests.conftest import drop_postgres_schema, postgres_schema_url

# The first revision as dealerships installed it; a new schema change is a new revision.
FROZEN_0001_SHA256 = "72891daa1e8d6c8e70a43b02defae41311c255f0e08d9a40d580a6fa9a637239"


def differences_after_upgrade(engine: Engine) -> list[object]:
    """What autogenerate would still write after upgrading ``engine``'s empty database to head."""
    upgrade(engine)
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))


def test_there_is_exactly_one_head():
    """The revisions form one line, so ``outreach db upgrade`` knows where head is."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several heads: {sorted(heads)}; re-point one down_revision"


def test_the_first_revision_is_frozen():
    """``0001`` is byte for byte what dealerships installed: changes go in new revisions."""
    path = MIGRATIONS / "versions" / "0001_initial_schema.py"
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == FROZEN_0001_SHA256


def test_head_matches_the_models_on_sqlite(tmp_path):
    """Upgrading an empty SQLite database to head leaves autogenerate nothing to add."""
    engine = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    try:
        assert differences_after_upgrade(engine) == []
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_head_matches_the_models_on_postgresql():
    """Upgrading an empty PostgreSQL schema to head leaves autogenerate nothing to add."""
    url = postgres_schema_url()
    engine = make_engine(url)
    try:
        assert differences_after_upgrade(engine) == []
    finally:
        engine.dispose()
        drop_postgres_schema(url)
