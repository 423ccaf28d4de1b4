"""The hub's database: SQLite (one file, WAL) by default, PostgreSQL in production.

``--db`` takes a SQLAlchemy URL (``sqlite:///hub.db``, ``postgresql://user@host/db``) or a
plain file path (a SQLite file). On SQLite every transaction starts with ``BEGIN
IMMEDIATE`` (pysqlite would delay ``BEGIN`` until the first write, so two workers could read
the same cursor); on PostgreSQL rows are locked with ``SELECT ... FOR UPDATE`` in the order
given in :mod:`hub.tables`. :func:`run_transaction` retries a transaction that lost a
deadlock or a serialisation conflict, so callers write each transaction as a function.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine.url import URL

from .errors import DatabaseUnavailable

log = logging.getLogger("floor.hub.db")

T = TypeVar("T")

DEFAULT_DB = "sqlite:///floor-hub.db"
#: PostgreSQL SQLSTATEs worth retrying: deadlock detected, serialisation failure.
RETRY_SQLSTATES = frozenset({"40P01", "40001"})


def normalise_url(db: str) -> URL:
    """A SQLAlchemy URL for ``db`` (a URL or a SQLite file path); psycopg 3 for PostgreSQL."""
    text = db.strip()
    if not text:
        raise DatabaseUnavailable("no database given", hint="pass --db URL or a file path")
    if "://" not in text:
        text = f"sqlite:///{Path(text)}"
    try:
        url = make_url(text)
    except sa_exc.ArgumentError as exc:
        raise DatabaseUnavailable(f"{db!r} is not a database URL: {exc}") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseUnavailable(
            f"database {url.get_backend_name()!r} is not supported",
            hint="use sqlite:///FILE or postgresql://USER@HOST/DB",
        )
    return url


def is_postgres(engine: Engine | Connection) -> bool:
    """True when ``engine`` talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"


def make_engine(db: str, *, busy_timeout_ms: int = 10_000, pool_size: int = 8) -> Engine:
    """Create the engine for ``db`` (see the module docstring)."""
    url = normalise_url(db)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, busy_timeout_ms)
    return create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, future=True
    )


def _sqlite_engine(url: URL, busy_timeout_ms: int) -> Engine:
    path = url.database or ""
    if path and path != ":memory:":
        folder = Path(path).resolve().parent
        if not folder.exists():
            raise DatabaseUnavailable(
                f"the folder {folder} of the hub database does not exist",
                hint=f"create it (mkdir -p {folder}) or pass another --db",
            )
        if Path(path).is_dir():
            raise DatabaseUnavailable(f"{path} is a folder, not a database file")
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        pool_size=4,
        max_overflow=8,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # BEGIN is issued below
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if path and path != ":memory:":
                mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()
                if mode is None or str(mode[0]).lower() != "wal":
                    raise DatabaseUnavailable(f"cannot switch {path} to WAL mode (got {mode!r})")
            cur.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as exc:
            raise DatabaseUnavailable(
                f"cannot open the hub database {path}: {exc}",
                hint="is it a SQLite file? move it aside to start with an empty database",
            ) from exc
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _retryable(exc: BaseException) -> bool:
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state in RETRY_SQLSTATES:
        return True
    return isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig).lower()


def run_transaction(
    engine: Engine, work: Callable[[Connection], T], *, attempts: int = 8, what: str = ""
) -> T:
    """Run ``work(conn)`` in one transaction and commit; retry on deadlock or conflict.

    ``work`` must not have effects outside the transaction: it may run more than once.
    """
    for attempt in range(1, attempts + 1):
        try:
            with engine.begin() as conn:
                return work(conn)
        except sa_exc.DBAPIError as exc:
            if attempt == attempts or not _retryable(exc):
                raise
            log.info("transaction %s lost a conflict (%s); attempt %d", what, exc.orig, attempt)
            time.sleep(0.005 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def check_reachable(engine: Engine) -> None:
    """Open one connection or raise :class:`DatabaseUnavailable` with the reason."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa_exc.DBAPIError as exc:
        raise DatabaseUnavailable(
            f"cannot reach the hub database {engine.url.render_as_string(hide_password=True)}: "
            f"{exc.orig}",
            hint="check --db (and that the server runs)",
        ) from None
