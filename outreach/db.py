"""Engine, sessions and the column types every model shares.

One engine and one ``sessionmaker`` are made per process from settings; the entry point (a web
request, a scheduler job, a CLI command) owns the transaction, domain functions only take a session.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import BigInteger, DateTime, Engine, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

SQLITE_BUSY_TIMEOUT_MS = 30_000
RETRY_ATTEMPTS = 4  # a transaction aborted by a transient failure runs at most this many times
T = TypeVar("T")
log = logging.getLogger(__name__)


class UTCDateTime(TypeDecorator[datetime]):
    """An instant stored as UTC and always returned timezone-aware.

    SQLite keeps no zone, so naive values read back are UTC by construction; naive values
    written are refused, because guessing their zone is how reminders land at 3 a.m.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware instants")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def transaction_memo(session: Session) -> dict[str, Any]:
    """A dict that lives as long as the session's current (outermost) transaction.

    For facts that cannot change within one transaction once read or done — the advisor rows,
    "no hold has expired at ``now``" — so a request that offers twice does not ask twice.
    """
    transaction = session.get_transaction()
    held = session.info.get("outreach.memo")
    if held is None or held[0] is not transaction:
        held = (transaction, {})
        session.info["outreach.memo"] = held
    return held[1]


def utcnow() -> datetime:
    """The current instant, for column defaults only: domain code takes ``now`` as an argument."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class days_between(FunctionElement[int]):
    """Whole days from ``start`` to ``end`` (``end - start``) for two DATE expressions."""

    type = BigInteger()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)}) AS INTEGER)"
    )


@compiles(days_between)
def _days_between_default(element: days_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    # BIGINT: the km rule multiplies days by kilometres, which overflows PostgreSQL's int4.
    return f"CAST(({compiler.process(end, **kw)} - {compiler.process(start, **kw)}) AS BIGINT)"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    # No ping before every checkout (a round trip on every request): a connection the server
    # dropped fails its first statement instead, the pool throws away every connection as
    # old as it, and callers retry once (see ``is_disconnect``).  Connections are renewed
    # hourly all the same, ahead of idle timeouts in proxies between here and the server.
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("pool_recycle", 3600)
    return create_engine(url, **kwargs)


def is_disconnect(exc: BaseException) -> bool:
    """True when ``exc`` is the database connection being lost: the work is safe to retry.

    Nothing of that transaction was committed, and the pool has already replaced the
    connection, so one retry with a fresh session runs on a live connection.
    """
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` aborted a transaction that is safe to run again from the start.

    PostgreSQL's serialization failure (40001) and deadlock victim (40P01), SQLite's "database
    is locked" after its busy timeout, and a lost connection: nothing of the transaction was
    committed, so running it again is the whole remedy.
    """
    if not isinstance(exc, DBAPIError):
        return False
    if is_disconnect(exc):
        return True
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return state in ("40001", "40P01") or "database is locked" in str(exc.orig)


def retry_pause(attempt: int) -> None:
    """Wait a little before attempt ``attempt + 1``, longer each time, so the winners finish."""
    time.sleep(0.01 * attempt)


def run_with_retries(
    sessions: sessionmaker[Session], work: Callable[[Session], T], *, attempts: int = RETRY_ATTEMPTS
) -> T:
    """Run ``work`` in a transaction of its own; on a transient failure, again (bounded).

    The entry points that change capacity (webhook replies, the desk, the scheduler's jobs)
    run their transaction through this or :func:`commit_with_retries`: a deadlock or
    serialization failure costs a retry, never the customer's booking.
    """
    for attempt in range(1, attempts + 1):
        try:
            with sessions() as session, session.begin():
                return work(session)
        except DBAPIError as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            log.warning("transient database failure, attempt %d of %d: %s", attempt, attempts, exc)
            retry_pause(attempt)
    raise AssertionError("unreachable")


def commit_with_retries(
    session: Session, work: Callable[[], T], *, attempts: int = RETRY_ATTEMPTS
) -> T:
    """Run ``work`` on ``session`` and commit; on a transient failure roll back and run it again.

    For an entry point that owns one session for its whole request (the desk): ``work`` must
    do all of the request's writes, so that running it again redoes exactly what was lost.
    """
    for attempt in range(1, attempts + 1):
        try:
            result = work()
            session.commit()
            return result
        except DBAPIError as exc:
            session.rollback()
            if attempt == attempts or not is_transient(exc):
                raise
            log.warning("transient database failure, attempt %d of %d: %s", attempt, attempts, exc)
            retry_pause(attempt)
    raise AssertionError("unreachable")


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Take transaction control from the sqlite3 module so that "begin" below can say
    # BEGIN IMMEDIATE: the write lock is taken when the transaction starts, so two processes
    # booking the last place serialize instead of failing later with "database is locked".
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    with factory() as session, session.begin():
        yield session


__all__ = [
    "Base",
    "UTCDateTime",
    "commit_with_retries",
    "days_between",
    "is_transient",
    "make_engine",
    "make_sessionmaker",
    "run_with_retries",
    "transaction",
    "utcnow",
]
