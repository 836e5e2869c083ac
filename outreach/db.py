"""Engine, sessions and the column types every model shares.

One engine and one ``sessionmaker`` are made per process from settings; the entry point (a web
request, a scheduler job, a CLI command) owns the transaction, domain functions only take a session.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Engine,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    inspect,
    literal,
    literal_column,
    make_url,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import URL, Dialect, ExceptionContext
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

SQLITE_BUSY_TIMEOUT_MS = 30_000
PING_AFTER_IDLE_S = 1.0  # a pooled connection idle longer than this is pinged before use
_IDLE_SINCE = "outreach.idle_since"
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


_CONSTANT = re.compile(r"^[A-Za-z0-9_]+$")


def one_of(column: Any, values: Iterable[str]) -> ColumnElement[bool]:
    """``column IN ('a', 'b')`` for a fixed set of the code's own constants (statuses, reasons),
    written into the SQL: no expanding parameter to render on every execution, and the planner
    sees the values (a partial index on them can be used)."""
    names = list(values)
    for name in names:
        if not _CONSTANT.match(name):
            raise ValueError(f"one_of takes the code's constants only, got {name!r}")
    return column.in_([literal_column(f"'{name}'") for name in names])


def any_in(column: Any, values: Iterable[Any], *, postgres: bool) -> ColumnElement[bool]:
    """``column`` among ``values`` (a list that varies per call): on PostgreSQL ``column =
    ANY(:array)``, one parameter and the same SQL whatever the number of values (built and
    prepared once); elsewhere ``column IN (…)``."""
    listed = list(values)
    if postgres:
        return column == any_(literal(listed, ARRAY(column.type)))
    return column.in_(listed)


def unnested(columns: dict[str, Any], name: str) -> Any:
    """``SELECT * FROM unnest(:a, :b, …) AS name(a, b, …)``: rows sent to PostgreSQL as one
    array per column (``columns``: name → element type), for ``INSERT … SELECT`` in one
    statement instead of an executemany."""
    arrays = [bindparam(c, type_=ARRAY(t)) for c, t in columns.items()]
    return select(func.unnest(*arrays).table_valued(*columns).render_derived(name=name))


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


class DatabaseUnavailable(RuntimeError):
    """The database cannot be used at all: no server, no such database, no such file, no tables.

    Raised instead of the driver's error when a connection cannot be opened (see
    :func:`make_engine`) and by :func:`check_database`; ``str()`` is one line saying what is
    wrong and what to do, fit for a terminal, and :attr:`problem` / :attr:`where` let a web page
    say the same in the reader's language.  Entry points catch it; domain code never does.
    """

    def __init__(self, where: str, problem: str, remedy: str) -> None:
        self.where = where  # the database, password hidden
        self.problem = problem  # one of PROBLEMS
        self.remedy = remedy
        super().__init__(f"database {where}: {PROBLEMS[problem]} — {remedy}")


PROBLEMS = {
    "unreachable": "no database server answers there",
    "no_database": "that database does not exist",
    "refused": "the server refused the user name or password",
    "no_file": "the file cannot be opened",
    "no_tables": "it has no tables yet",
    "failed": "cannot connect",
}


def _unavailable(url: URL, error: BaseException) -> DatabaseUnavailable:
    """Name what went wrong opening a connection to ``url``, and what to do about it."""
    where = url.render_as_string(hide_password=True)
    message = str(error)
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        folder = str(Path(path).parent) if path else ""
        return DatabaseUnavailable(
            where, "no_file", f"check that the folder {folder} exists and is writable"
        )
    if "does not exist" in message and "database" in message:
        return DatabaseUnavailable(
            where, "no_database", f"create it (createdb {url.database}) or correct DATABASE_URL"
        )
    if "authentication failed" in message or "password" in message:
        return DatabaseUnavailable(where, "refused", "correct the user or password in DATABASE_URL")
    if "Connection refused" in message or "timeout" in message or "could not translate" in message:
        host = f"{url.host or 'localhost'}:{url.port or 5432}"
        return DatabaseUnavailable(
            where, "unreachable", f"start PostgreSQL on {host} or correct DATABASE_URL"
        )
    first = message.strip().splitlines()[0] if message.strip() else type(error).__name__
    return DatabaseUnavailable(where, "failed", f"{first[:200]}; check DATABASE_URL")


def _on_error(context: ExceptionContext) -> BaseException | None:
    # Only a connection that could not be opened (no connection yet): an error on an open
    # connection stays the driver's, so a lost connection or a deadlock is retried as before.
    if context.connection is None and context.engine is not None:
        return _unavailable(context.engine.url, context.original_exception)
    return None


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys.

    A connection that cannot be opened raises :class:`DatabaseUnavailable`.  A server
    connection that sat idle in the pool for more than :data:`PING_AFTER_IDLE_S` is pinged
    before use, so one the server dropped while idle is replaced instead of failing the request
    that drew it; one checked in again within that second is used as it is (a busy process
    would otherwise pay a round trip per request for it, and a connection lost meanwhile costs
    the entry points' retry of a transient failure, see :func:`is_transient`).
    """
    try:
        parsed = make_url(url)
    except Exception:
        raise DatabaseUnavailable(
            url, "failed", "DATABASE_URL is not a database URL such as sqlite:///outreach.db"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    else:
        # Renewed hourly all the same, ahead of idle timeouts in proxies on the way.
        kwargs.setdefault("pool_recycle", 3600)
        engine = create_engine(url, **kwargs)
        if not kwargs.get("pool_pre_ping"):  # unless the caller wants a ping on every checkout
            _ping_when_idle(engine)
    event.listen(engine, "handle_error", _on_error)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use when it sat idle for more than
    :data:`PING_AFTER_IDLE_S`; a dead one is replaced (the pool opens another when the
    checkout raises :class:`DisconnectionError`)."""
    dialect = engine.dialect

    def checked_in(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since <= PING_AFTER_IDLE_S:
            return  # new, or back in the pool a moment ago
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(f"pooled connection lost while idle: {exc}") from exc
        if not alive:
            raise DisconnectionError("pooled connection lost while idle")

    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checked_out)


def check_database(engine: Engine) -> None:
    """Raise :class:`DatabaseUnavailable` unless ``engine`` connects and has the tables."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            raise DatabaseUnavailable(
                engine.url.render_as_string(hide_password=True),
                "no_tables",
                "run `outreach db upgrade` first",
            )


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
    "DatabaseUnavailable",
    "UTCDateTime",
    "check_database",
    "commit_with_retries",
    "days_between",
    "is_transient",
    "make_engine",
    "make_sessionmaker",
    "run_with_retries",
    "transaction",
    "utcnow",
]
