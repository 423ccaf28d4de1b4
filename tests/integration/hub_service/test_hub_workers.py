"""Two hub worker processes on one shared subscription, PostgreSQL underneath: every event
of every device applied exactly once and in sequence order, whichever worker got it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import require_postgres
from sqlalchemy import Engine, select
from support.mosquitto import MosquittoBroker, require_mosquitto
from support.mqtt_peer import emit_picks, fast_settings

from floor_app.store import Store
from floor_app.store.tables import OutboxRow
from hub import hub_stats, open_database, run_transaction
from hub.tables import InboxRow, table_of
from sync.device import SyncAgent

pytestmark = [pytest.mark.integration, pytest.mark.mqtt, pytest.mark.postgres, pytest.mark.slow]

SITE = "dc1"
DEVICES = ("hh-01", "hh-02", "hh-03")
EVENTS = 600


@pytest.fixture
def pg_engine(pg_demo_url: str) -> Iterator[Engine]:
    require_postgres()
    engine = open_database(pg_demo_url, SITE)
    yield engine
    engine.dispose()


def worker(db_url: str, broker: MosquittoBroker, name: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hub",
            "--db",
            db_url,
            "--broker",
            broker.url,
            "--worker",
            name,
            "--shared-group",
            "hub",
            "--allocate-every",
            "0",
            "--metrics-port",
            "-1",
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=dict(os.environ),
    )


def test_two_workers_share_one_stream_without_loss_duplication_or_reordering(
    pg_engine: Engine, pg_demo_url: str, tmp_path: Path
) -> None:
    require_mosquitto()
    broker = MosquittoBroker(tmp_path / "broker").start()
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    workers = [worker(pg_demo_url, broker, str(i + 1), log) for i, log in enumerate(logs)]
    stores = {d: Store.open(tmp_path / f"{d}.db", device_id=d, site=SITE) for d in DEVICES}
    agents = {
        d: SyncAgent(s, fast_settings(broker.url, batch_events=25, window_events=400))
        for d, s in stores.items()
    }
    try:
        for store in stores.values():  # a backlog first, drained in many small batches
            emit_picks(store, EVENTS // 2, per_transaction=50)
        for agent in agents.values():
            agent.start()
        for store in stores.values():  # then live work while the backlog drains
            emit_picks(store, EVENTS // 2, per_transaction=5)
        for device, agent in agents.items():
            assert agent.wait_acked(EVENTS, 120), (device, agent.status())
    finally:
        for agent in agents.values():
            agent.stop()
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(30)
        broker.kill()
    outputs = [log.read_text() for log in logs]
    assert all(w.returncode == 0 for w in workers), outputs
    applied_by_worker = [
        int(out.split(" events applied")[0].rsplit(", ", 1)[-1]) for out in outputs
    ]
    assert all(n > 0 for n in applied_by_worker), outputs  # both workers did work
    assert sum(applied_by_worker) == EVENTS * len(DEVICES)
    figures = run_transaction(pg_engine, hub_stats)["devices"]
    inbox = table_of(InboxRow)
    for device, store in stores.items():
        assert (figures[device]["applied"], figures[device]["last_seq"]) == (EVENTS, EVENTS)
        with pg_engine.connect() as conn:
            rows = conn.execute(
                select(inbox.c.seq, inbox.c.event_id, inbox.c.received_at)
                .where(inbox.c.device_id == device)
                .order_by(inbox.c.received_at, inbox.c.seq)
            ).all()
        # every sequence once, applied in sequence order, each the device's own event
        assert [r.seq for r in rows] == list(range(1, EVENTS + 1))
        sent = event_ids(store)
        assert [r.event_id for r in rows] == [sent[s] for s in range(1, EVENTS + 1)]
        store.close()


def event_ids(store: Store) -> dict[int, str]:
    """Sequence -> event id of every outbox record of the store, acked or not."""
    with store.read() as session:
        return {
            int(seq): str(event_id)
            for seq, event_id in session.execute(select(OutboxRow.seq, OutboxRow.event_id))
        }
