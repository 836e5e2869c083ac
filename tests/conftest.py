"""Shared fixtures: settings, a database per backend, and a session rolled back after each test.

Database tests run on SQLite and, when ``OUTREACH_TEST_POSTGRES_URL`` is set, on PostgreSQL too.
In CI (``CI`` set) the PostgreSQL URL is required: a missing server fails the run, never skips it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

import outreach.models  # noqa: F401 - registers every table
from outreach.db import Base, make_engine
from outreach.settings import DEFAULT_CONFIG, Settings, load_settings

POSTGRES_URL = os.environ.get("OUTREACH_TEST_POSTGRES_URL", "")
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
]


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI") and not POSTGRES_URL:
        raise pytest.UsageError("CI runs need OUTREACH_TEST_POSTGRES_URL (the PostgreSQL tests)")


def postgres_schema_url() -> str:
    """The URL of a new, empty PostgreSQL schema of its own, so tests never share tables.

    The schema rides in the URL (``options=-csearch_path=…``), so subprocesses reach it too.
    """
    if not POSTGRES_URL:
        pytest.skip("set OUTREACH_TEST_POSTGRES_URL to run the PostgreSQL tests")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    url = make_url(POSTGRES_URL)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


def drop_postgres_schema(url: str) -> None:
    schema = make_url(url).query["options"].split("=", 1)[1]  # type: ignore[union-attr]
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def fresh_database_url(backend: str, tmp_path: Path) -> str:
    """The URL of a new, empty database of ``backend`` (no tables yet)."""
    if backend == "postgresql":
        return postgres_schema_url()
    return f"sqlite:///{tmp_path / 'test.db'}"


@contextmanager
def fresh_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """A new database of ``backend`` with every table created, removed afterwards."""
    url = fresh_database_url(backend, tmp_path)
    engine = make_engine(url)
    try:
        Base.metadata.create_all(engine)
        yield engine
    finally:
        engine.dispose()
        if backend == "postgresql":
            drop_postgres_schema(url)


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    return load_settings({"OUTREACH_CONFIG": str(DEFAULT_CONFIG)})


@pytest.fixture
def settings(base_settings: Settings) -> Settings:
    return base_settings


@pytest.fixture(scope="session", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    with fresh_engine(request.param, tmp_path_factory.mktemp(request.param)) as eng:
        yield eng


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back after the test."""
    with engine.connect() as connection:
        outer = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as s:
            yield s
        outer.rollback()


@pytest.fixture
def committing_engine(request: pytest.FixtureRequest, tmp_path: Path):
    """A fresh database whose commits are real: for tests of concurrency and crashes.

    Parametrize indirectly with "sqlite" or "postgresql"; defaults to SQLite.
    """
    backend = getattr(request, "param", "sqlite")
    with fresh_engine(backend, tmp_path) as eng:
        yield eng
