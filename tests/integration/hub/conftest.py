"""Fixtures of the hub tests: every test that takes ``db_url`` runs on SQLite and PostgreSQL.

PostgreSQL runs get a throwaway schema in the ``test`` database (``FLOOR_TEST_PG`` names
another server) and are marked ``postgres``; they are skipped, saying why, when the server
cannot be reached.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from functools import cache

import pytest
from sqlalchemy import Engine

from floor_app.demo import DemoSite, build_demo_site
from sync.hub import load_demo, open_database

PG_URL = os.environ.get("FLOOR_TEST_PG", "postgresql+psycopg://root@127.0.0.1:5432/test")
SITE = "dc1"


@cache
def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used here (None when it can)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        conninfo = PG_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(conninfo, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"PostgreSQL at {PG_URL} is not reachable: {exc}"
    return None


def require_postgres() -> None:
    """Skip the calling test, saying why, when PostgreSQL is not reachable."""
    problem = postgres_problem()
    if problem:
        pytest.skip(problem)


def _admin(sql: str) -> None:
    import psycopg

    conninfo = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A database URL whose tables live in a fresh PostgreSQL schema, dropped afterwards."""
    require_postgres()
    schema = f"hub_test_{uuid.uuid4().hex[:12]}"
    _admin(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        _admin(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """The hub database URL: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/hub.db"
        return
    yield request.getfixturevalue("pg_schema_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """The migrated, empty hub database of site dc1."""
    eng = open_database(db_url, SITE)
    try:
        yield eng
    finally:
        eng.dispose()


@cache
def small_site() -> DemoSite:
    """A small demo site (60 SKUs, 30 orders): fast to load, same shape as the real one."""
    return build_demo_site(sku_count=60, order_count=30)


@pytest.fixture
def demo_engine(engine: Engine) -> Engine:
    """The hub database with the small demo site loaded."""
    load_demo(engine, small_site())
    return engine


@pytest.fixture
def site_factory() -> Callable[[], DemoSite]:
    """Builds the small demo site (cached)."""
    return small_site
