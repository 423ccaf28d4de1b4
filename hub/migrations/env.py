"""Alembic environment of the hub database. The hub runs migrations itself on start
(:func:`hub.migrate.upgrade`), handing in its open connection. The version table is
``hub_alembic_version`` so it can never be mistaken for another application's."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from hub.tables import HubBase

VERSION_TABLE = "hub_alembic_version"

config = context.config
target_metadata = HubBase.metadata


def run_migrations() -> None:
    """Run against the connection the hub passed, or the URL in the Alembic config."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=VERSION_TABLE,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as conn:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            version_table=VERSION_TABLE,
            render_as_batch=conn.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
