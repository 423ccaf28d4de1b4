"""The SQLite engine of a device: WAL, ``synchronous=FULL``, ``BEGIN IMMEDIATE`` for writes.

pysqlite would otherwise delay ``BEGIN`` until the first write, letting two writers read
the same sequence number; here pysqlite's own transaction handling is switched off and
every transaction starts explicitly: ``BEGIN IMMEDIATE`` on the write engine (takes the
write lock up front) and plain ``BEGIN`` (deferred) on the read engine. Each thread gets its
own connection from the pool; ``busy_timeout`` makes a second writer wait, not fail.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection

from .errors import StoreUnavailable, translate

WRITE_OPTION = "floor_write"


def _check_path(path: Path) -> None:
    folder = path.parent
    if not folder.exists():
        raise StoreUnavailable(
            f"the data folder {folder} does not exist",
            hint=f"create it (mkdir -p {folder}) or set [store] path in the config",
        )
    if path.exists() and path.is_dir():
        raise StoreUnavailable(f"{path} is a folder, not a database file")
    if path.exists():
        with path.open("rb") as fh:
            head = fh.read(16)
        if head and head != b"SQLite format 3\x00":
            raise StoreUnavailable(
                f"{path} is not a floor database (it is some other file)",
                hint="move it aside; the app will then create a new, empty store",
            )


def make_engine(path: Path, *, busy_timeout_ms: int = 5000, echo: bool = False) -> Engine:
    """Create the engine for the SQLite file at ``path`` (created if missing)."""
    path = Path(path)
    _check_path(path)
    engine = create_engine(
        f"sqlite+pysqlite:///{path}",
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        pool_size=4,
        max_overflow=4,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                raise StoreUnavailable(f"cannot switch {path} to WAL mode (got {mode!r})")
            cur.execute("PRAGMA synchronous = FULL")
            cur.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            err = translate(exc, str(path))
            raise (err or StoreUnavailable(f"cannot open {path}: {exc}")) from exc
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(WRITE_OPTION, True):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def read_engine(engine: Engine) -> Engine:
    """A view of ``engine`` whose transactions are deferred (readers never take the write lock)."""
    return engine.execution_options(**{WRITE_OPTION: False})
