"""Bad conditions for the store: each gets a clear error and leaves the data consistent."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event

from floor_app.domain.events import UserLoggedIn
from floor_app.store import Store, StoreBusy, StoreFull, StoreUnavailable

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
