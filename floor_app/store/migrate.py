"""Apply the device store's Alembic migrations on start.

Alembic itself is imported only when the database is behind: a device that is up to date
(every start but the first after an upgrade) skips its 100 ms import. :data:`HEAD` names
the newest revision shipped; a test checks it against Alembic's own view of the scripts,
so adding a migration without updating it fails the suite.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from .errors import StoreTooNew

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")

#: The newest revision in ``migrations/versions``.
HEAD = "0007"


def alembic_config(url: str = "sqlite://") -> Config:
    """An Alembic config pointing at the packaged migration scripts."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def head_revision() -> str:
    """The newest migration revision according to Alembic's scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            conn.rollback()
            return None
        rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        conn.rollback()
        return None if rev is None else str(rev)


def known_revisions() -> set[str]:
    """Every revision the packaged migration scripts know."""
    from alembic.script import ScriptDirectory

    return {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision (a no-op when it is already there).

    Raises :class:`StoreTooNew`, changing nothing, for a store a newer floor-app migrated.
    """
    current = current_revision(engine)
    if current == HEAD:
        return
    if current is not None and current not in known_revisions():
        raise StoreTooNew(
            f"the local database was written by a newer floor-app (store schema {current}; "
            f"this floor-app knows up to {HEAD})",
            hint="install that newer floor-app again (nothing was changed); "
            "do not delete the file, unsent work may be in it",
        )
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
