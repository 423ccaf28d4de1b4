"""A hub restored from a backup taken mid-traffic loses nothing a device still holds: the
device sends again the events the restored hub lacks (it keeps delivered events for a
retention period), each is applied once, and the device's push stream goes on after what it
saw. PostgreSQL through ``pg_dump``/``pg_restore``, SQLite through its backup API."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import _admin, _conninfo, small_site
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from support.mosquitto import MosquittoBroker
from support.mqtt_peer import emit_picks, fast_settings
from test_hub_mqtt import Observer, start_hub

from floor_app.domain.picking import TaskState
from floor_app.store import Store
from floor_app.store.seed import load_demo as load_device_demo
from hub import open_database
from hub.tables import InboxRow, table_of
from sync.device import SyncAgent

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]

SITE = "dc1"
INBOX = table_of(InboxRow)


def backup(db_url: str, folder: Path) -> Path:
    """A consistent copy of the running hub's database."""
    if db_url.startswith("sqlite"):
        path = Path(make_url(db_url).database or "")
        copy = folder / "hub-backup.db"
        with sqlite3.connect(path) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)
        return copy
    if shutil.which("pg_dump") is None:
        pytest.skip("needs pg_dump (Debian package 'postgresql-client')")
    dump = folder / "hub.dump"
    subprocess.run(
        ["pg_dump", "-Fc", "-d", _conninfo(db_url), "-f", str(dump)], check=True, timeout=120
    )
    return dump


def restore(db_url: str, copy: Path) -> None:
    """Put ``copy`` back in place of the hub's database (the hub stopped)."""
    if db_url.startswith("sqlite"):
        path = Path(make_url(db_url).database or "")
        with sqlite3.connect(copy) as src, sqlite3.connect(path) as dst:
            src.backup(dst)  # the whole file replaced, WAL and all
        return
    name = make_url(db_url).database
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _admin(f"CREATE DATABASE {name}")
    subprocess.run(
        ["pg_restore", "-d", _conninfo(db_url), "--no-owner", str(copy)], check=True, timeout=120
    )


def recorded(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return [
            (r.seq, r.event_id)
            for r in conn.execute(
                select(INBOX.c.seq, INBOX.c.event_id)
                .where(INBOX.c.device_id == "hh-01")
                .order_by(INBOX.c.seq)
            )
        ]


def test_a_hub_restored_from_a_backup_taken_mid_traffic_loses_nothing(
    demo_engine: Engine, db_url: str, broker: MosquittoBroker, tmp_path: Path
) -> None:
    observer = Observer(broker)
    hub = start_hub(demo_engine, db_url, broker, allocate_every_s=0.2)
    store = Store.open(tmp_path / "hh-01.db", device_id="hh-01", site=SITE)
    load_device_demo(store, small_site(), tasks=0)
    agent = SyncAgent(store, fast_settings(broker.url))
    restored: Engine | None = None
    try:
        agent.start()

        def assigned() -> list[str]:
            with store.unit_of_work() as uow:
                return uow.tasks.ids(TaskState.ASSIGNED)

        assert observer.wait(lambda: bool(assigned()), 30), "no task reached hh-01"
        first_acked = store.outbox_stats()[2]
        assert agent.wait_acked(first_acked, 30)
        done = threading.Event()

        def traffic() -> None:  # the floor goes on while the backup is taken
            for _ in range(30):
                emit_picks(store, 10, per_transaction=10)
                time.sleep(0.02)
            done.set()

        worker = threading.Thread(target=traffic)
        worker.start()
        assert observer.wait(lambda: agent.acked_seq >= first_acked + 100, 30)
        copy = backup(db_url, tmp_path)
        worker.join(60)
        assert done.is_set()
        last = store.outbox_stats()[2]
        assert agent.wait_acked(last, 60), agent.status()
        seen_cursor = agent.status().push_cursor
        hub.stop()
        demo_engine.dispose()
        restore(db_url, copy)
        restored = open_database(db_url, SITE)
        assert len(recorded(restored)) < last, "the backup was not taken mid-traffic"
        hub = start_hub(restored, db_url, broker, allocate_every_s=0.2)
        more = emit_picks(store, 5)
        assert observer.wait(lambda: len(recorded(restored)) >= more, 60), agent.status()
        seqs = recorded(restored)
        assert [s for s, _ in seqs] == list(range(1, more + 1))  # each once, in order
        with store.read() as session:
            from floor_app.store import outbox

            mine = [(r.seq, r.event_id) for r in outbox.all_records(session)]
        assert seqs == mine  # the very events the device confirmed
        assert agent.wait_acked(more, 30)
        # the push stream goes on after what the device saw: its tasks are pushed again
        assert observer.wait(lambda: agent.status().push_cursor > seen_cursor, 30), agent.status()
    finally:
        agent.stop()
        store.close()
        hub.stop()
        observer.stop()
        if restored is not None:
            restored.dispose()
