"""The hub's migrations build the schema its tables describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from hub.tables import HubBase


def test_migrations_match_the_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, HubBase.metadata)
    # the version table is Alembic's own, not one of the hub's tables
    assert [d for d in differences if d[0] != "remove_table"] == []
    assert [d[1].name for d in differences if d[0] == "remove_table"] == ["hub_alembic_version"]
