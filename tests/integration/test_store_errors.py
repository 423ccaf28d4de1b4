"""Bad conditions for the store: each gets a clear error and leaves the data consistent."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event

from floor_app.domain.events import UserLoggedIn
from floor_app.store import Store, StoreBusy, StoreFull, StoreTooNew, StoreUnavailable

pytestmark = pytest.mark.integration


def _emit(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.emit(UserLoggedIn(user="alice", role="picker", method="badge" * 400))
        uow.commit()


def test_missing_data_folder(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="does not exist") as info:
        Store.open(tmp_path / "nope" / "floor.db", device_id="hh-01")
    assert "mkdir" in info.value.hint


def test_file_that_is_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "floor.db"
    bad.write_text("this is a shopping list, not a database\n")
    with pytest.raises(StoreUnavailable, match="not a floor database"):
        Store.open(bad, device_id="hh-01")
    assert bad.read_text().startswith("this is a shopping list")  # never overwritten


def test_store_from_a_newer_floor_app_is_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "floor.db"
    Store.open(path, device_id="hh-01").close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    before = path.read_bytes()
    with pytest.raises(StoreTooNew, match="newer floor-app") as info:
        Store.open(path, device_id="hh-01")
    assert "store schema 0099" in str(info.value) and "install" in info.value.hint
    assert path.read_bytes() == before


def test_store_of_another_device_is_refused(tmp_path: Path) -> None:
    Store.open(tmp_path / "floor.db", device_id="hh-01").close()
    with pytest.raises(StoreUnavailable, match="belongs to device hh-01"):
        Store.open(tmp_path / "floor.db", device_id="hh-02")


def test_locked_database_gives_busy_error_and_keeps_data(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "floor.db", device_id="hh-01", busy_timeout_ms=100)
    _emit(store)
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreBusy, match="locked") as info:
            _emit(store)
        assert "close the other" in info.value.hint
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    _emit(store)
    assert [r.seq for r in store.pending()] == [1, 2]
    store.close()


def test_full_disk_during_commit_keeps_confirmed_work(tmp_path: Path) -> None:
    """SQLite's own size limit gives the same SQLITE_FULL error a full disk does."""
    store = Store.open(tmp_path / "floor.db", device_id="hh-01")
    _emit(store)
    with store.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    store.engine.dispose()

    @event.listens_for(store.engine, "connect")
    def _limit(dbapi_conn: sqlite3.Connection, _rec: object) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    with pytest.raises(StoreFull, match="NOT saved") as info:
        for _ in range(500):
            _emit(store)
    assert "free disk space" in info.value.hint
    event.remove(store.engine, "connect", _limit)
    store.engine.dispose()
    records = store.pending(limit=10_000)
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    assert sqlite3.connect(store.path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    _emit(store)  # space is back: work goes on with the next sequence number
    assert store.pending(limit=10_000)[-1].seq == len(records) + 1
    store.close()


@pytest.mark.parametrize("command", ["floor_app", "sim.floor_sim"])
def test_a_newer_store_stops_the_command_with_one_clear_line(tmp_path: Path, command: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    path = data / "hh-01.db"
    Store.open(path, device_id="hh-01", site="dc1").close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    if command == "floor_app":
        args = ["--device-id", "hh-01"]
        env = {**os.environ, "FLOOR_STORE__PATH": str(path)}
    else:
        args = ["--devices", "1", "--data-dir", str(data), "--broker", "mqtt://127.0.0.1:9"]
        env = dict(os.environ)
    done = subprocess.run(
        [sys.executable, "-m", command, *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode in (2, 3), done.stderr
    assert "newer floor-app" in done.stderr and "Traceback" not in done.stderr
