"""Fixtures of the hub tests: every test that takes ``db_url`` runs on SQLite and PostgreSQL.

Each test gets its own database, copied from a template made once per session: a migrated
empty one, or (for tests that use ``demo_engine``) one with the small demo site loaded. On
SQLite the template file is copied; on PostgreSQL a database is created from a template
database (``STRATEGY WAL_LOG``) on the server of ``FLOOR_TEST_PG`` (default: the local test
server) and dropped afterwards. PostgreSQL runs are marked ``postgres`` and skipped, saying
why, when the server cannot be reached.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from support.mosquitto import MosquittoBroker, require_mosquitto

from floor_app.demo import DemoSite, build_demo_site
from hub import load_demo, open_database

PG_URL = os.environ.get("FLOOR_TEST_PG", "postgresql+psycopg://root@127.0.0.1:5432/test")
SITE = "dc1"
KINDS = ("empty", "demo")


@cache
def small_site() -> DemoSite:
    """A small demo site (60 SKUs, 20 orders): fast to load, same shape as the real one."""
    return build_demo_site(sku_count=60, order_count=20)


def _conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://").split("?")[0]


@cache
def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used here (None when it can)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(_conninfo(PG_URL), connect_timeout=3) as conn:
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

    with psycopg.connect(_conninfo(PG_URL), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _pg_url(database: str) -> str:
    return make_url(PG_URL).set(database=database).render_as_string(hide_password=False)


def _fill(url: str, kind: str) -> None:
    engine = open_database(url, SITE)
    try:
        if kind == "demo":
            load_demo(engine, small_site())
    finally:
        engine.dispose()


class Templates:
    """Template databases made on first use, one per backend and kind."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.token = uuid.uuid4().hex[:8]
        self.sqlite_files: dict[str, Path] = {}
        self.pg_names: dict[str, str] = {}

    def sqlite(self, kind: str) -> Path:
        if kind not in self.sqlite_files:
            path = self.folder / f"template-{kind}.db"
            _fill(f"sqlite:///{path}", kind)
            self.sqlite_files[kind] = path
        return self.sqlite_files[kind]

    def postgres(self, kind: str) -> str:
        require_postgres()
        if kind not in self.pg_names:
            name = f"hub_tmpl_{self.token}_{kind}"
            _admin(f"CREATE DATABASE {name}")
            _fill(_pg_url(name), kind)
            self.pg_names[kind] = name
        return self.pg_names[kind]

    def drop(self) -> None:
        for name in self.pg_names.values():
            _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    made = Templates(tmp_path_factory.mktemp("hub-templates"))
    yield made
    made.drop()


def _postgres_copy(templates: Templates, kind: str) -> Iterator[str]:
    name = f"hub_test_{uuid.uuid4().hex[:12]}"
    _admin(f"CREATE DATABASE {name} TEMPLATE {templates.postgres(kind)} STRATEGY WAL_LOG")
    try:
        yield _pg_url(name)
    finally:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, templates: Templates) -> Iterator[str]:
    """The hub database of this test (SQLite file or PostgreSQL database), migrated, and
    with the small demo site loaded when the test uses ``demo_engine``."""
    kind = "demo" if "demo_engine" in request.fixturenames else "empty"
    if request.param == "sqlite":
        path = tmp_path / "hub.db"
        shutil.copyfile(templates.sqlite(kind), path)
        yield f"sqlite:///{path}"
        return
    yield from _postgres_copy(templates, kind)


@pytest.fixture
def pg_demo_url(templates: Templates) -> Iterator[str]:
    """A PostgreSQL database with the small demo site (for PostgreSQL-only tests)."""
    require_postgres()
    yield from _postgres_copy(templates, "demo")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """The migrated, empty hub database of site dc1."""
    eng = open_database(db_url, SITE)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def demo_engine(db_url: str) -> Iterator[Engine]:
    """The hub database with the small demo site loaded."""
    eng = open_database(db_url, SITE)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A private Mosquitto for one test (on a free port), killed afterwards."""
    require_mosquitto()
    b = MosquittoBroker(tmp_path / "broker")
    b.start()
    yield b
    b.kill()
