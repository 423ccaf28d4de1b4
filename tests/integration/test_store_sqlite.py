"""The local store on a real SQLite file: pragmas, migrations, concurrent writers, the outbox."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from floor_app.domain.events import UserLoggedIn
from floor_app.store import Store
from floor_app.store.migrate import HEAD, current_revision, head_revision

pytestmark = pytest.mark.integration


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "floor.db", device_id="hh-01", site="dc1")
    yield s
    s.close()


def _emit(store: Store, n: int = 1) -> None:
    for _ in range(n):
        with store.unit_of_work() as uow:
            uow.emit(UserLoggedIn(user="alice", role="picker"))
            uow.commit()


def test_pragmas_wal_full_and_foreign_keys(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def test_migrations_applied_on_open(store: Store) -> None:
    assert head_revision() == HEAD, "a migration was added: update migrate.HEAD"
    assert current_revision(store.engine) == HEAD
    # Opening again is a no-op and keeps data.
    _emit(store, 3)
    store.close()
    again = Store.open(store.path, device_id="hh-01")
    assert again.outbox_stats()[0] == 3
    again.close()


def test_write_transaction_takes_the_lock_at_begin(store: Store) -> None:
    """BEGIN IMMEDIATE: a second writer cannot start while the first holds the lock."""
    with store.unit_of_work():
        other = sqlite3.connect(store.path, timeout=0.05, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


def test_concurrent_writers_get_gap_free_sequences(store: Store) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            _emit(store, 40)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    seqs = [r.seq for r in store.pending(limit=1000)]
    assert seqs == list(range(1, 161))
    assert len({r.event_id for r in store.pending(limit=1000)}) == 160


def test_outbox_ack_and_stats(store: Store) -> None:
    _emit(store, 5)
    depth, oldest, last = store.outbox_stats()
    assert (depth, last) == (5, 5) and oldest is not None
    assert store.mark_acked(3) == 3
    assert [r.seq for r in store.pending()] == [4, 5]
    assert [r.seq for r in store.pending(after_seq=4)] == [5]
    assert store.mark_acked(3) == 0  # a repeated ack changes nothing
    assert store.mark_acked(99) == 2
    assert store.outbox_stats()[0] == 0


def test_rollback_without_commit_leaves_nothing(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.emit(UserLoggedIn(user="alice", role="picker"))
        uow.meta.set("x", "1")
    assert store.outbox_stats()[0] == 0
    assert store.meta("x") is None
    _emit(store)
    assert [r.seq for r in store.pending()] == [1]  # the rolled-back sequence was not used


def test_commit_listener_is_told(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[int] = []
    store.on_commit(lambda records: seen.extend(r.seq for r in records))
    store.on_commit(lambda records: 1 / 0)  # a broken listener does not break commits
    with caplog.at_level("ERROR", logger="floor.store"):
        _emit(store, 2)
    assert seen == [1, 2]
    failures = [r for r in caplog.records if r.getMessage().startswith("commit listener")]
    assert len(failures) == 2 and all(r.exc_info for r in failures)  # but it is logged
