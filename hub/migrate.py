"""Apply the hub database's Alembic migrations on start (SQLite and PostgreSQL).

Two hub workers may start at the same moment: on PostgreSQL the upgrade runs under a
transaction-scoped advisory lock, so one migrates and the other finds the head revision.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from .database import is_postgres

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "hub_alembic_version"
#: Key of the PostgreSQL advisory lock held while migrating ("floorhub" as a number).
ADVISORY_LOCK_KEY = 0x666C6F6F72687562 & 0x7FFFFFFFFFFFFFFF


def alembic_config(url: str = "sqlite://") -> Config:
    """An Alembic config pointing at the hub's migration scripts."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def head_revision() -> str:
    """The newest migration revision shipped with this version of the hub."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(
        conn, opts={"version_table": VERSION_TABLE}
    ).get_current_revision()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        rev = _revision(conn)
        conn.rollback()
        return rev


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision (a no-op when it is already there)."""
    head = head_revision()
    if current_revision(engine) == head:
        return
    cfg = alembic_config()
    with engine.begin() as conn:
        if is_postgres(conn):
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
            if _revision(conn) == head:
                return
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
