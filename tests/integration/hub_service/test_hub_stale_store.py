"""A device's history is checked, never assumed: a store restored from an older copy, an
emptied store under the same device id, a resend that differs from the recorded event and an
event id sent again under a new sequence, each through a real broker and hub (SQLite and
PostgreSQL). The stream of other devices goes on, nothing confirmed is lost, the device stops
sending and says why, and a supervisor's recovery lets the store continue after the hub."""

from __future__ import annotations

import dataclasses
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from support.mosquitto import MosquittoBroker
from support.mqtt_peer import emit_picks, fast_settings
from test_hub_mqtt import Observer, start_hub

from floor_app.hub_sync import StaleStore, StoreRecovered
from floor_app.store import Store
from hub import hub_stats, run_transaction
from hub.tables import InboxRow, table_of
from sync.device import SyncAgent
from sync.device.batches import batch_records

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]

SITE = "dc1"
INBOX = table_of(InboxRow)


@pytest.fixture
def observer(broker: MosquittoBroker) -> Iterator[Observer]:
    o = Observer(broker)
    yield o
    o.stop()


class Heard:
    """What the app would hear: stale words and recoveries."""

    def __init__(self, agent: SyncAgent) -> None:
        self.stale: list[StaleStore] = []
        self.recovered: list[StoreRecovered] = []
        self.changed = threading.Event()
        agent.on_store_stale(self._stale)
        agent.on_store_recovered(self._recovered)

    def _stale(self, news: StaleStore) -> None:
        self.stale.append(news)
        self.changed.set()

    def _recovered(self, news: StoreRecovered) -> None:
        self.recovered.append(news)
        self.changed.set()

    def wait(self, what: str, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while not getattr(self, what) and time.monotonic() < deadline:
            self.changed.wait(0.1)
            self.changed.clear()
        items = getattr(self, what)
        assert items, f"no {what} news"
        return items[-1]


def work(path: Path, broker: MosquittoBroker, picks: int) -> int:
    """Open the store at ``path``, confirm ``picks`` picks and wait for the hub's ack."""
    store = Store.open(path, device_id="hh-01", site=SITE)
    agent = SyncAgent(store, fast_settings(broker.url))
    try:
        agent.start()
        last = emit_picks(store, picks, per_transaction=10)
        assert agent.wait_acked(last, 30), agent.status()
        return last
    finally:
        agent.stop()
        store.close()


def copy_store(src: Path, dst: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
        if Path(f"{src}{suffix}").exists():
            shutil.copy(f"{src}{suffix}", f"{dst}{suffix}")


def inbox(engine: Engine) -> list[tuple[int, str, str]]:
    with engine.connect() as conn:
        return [
            (r.seq, r.event_id, r.outcome)
            for r in conn.execute(
                select(INBOX.c.seq, INBOX.c.event_id, INBOX.c.outcome)
                .where(INBOX.c.device_id == "hh-01")
                .order_by(INBOX.c.seq)
            )
        ]


def dead_codes(engine: Engine) -> dict[str, int]:
    return dict(run_transaction(engine, hub_stats)["dead_letters_by_code"])


def event_ids(store: Store) -> list[str]:
    with store.read() as session:
        from floor_app.store import outbox

        return [r.event_id for r in outbox.all_records(session)]


def restored(
    engine: Engine, db_url: str, broker: MosquittoBroker, tmp_path: Path, offline: int
) -> tuple[Store, SyncAgent, Heard, list[str]]:
    """hh-01 confirms 30 picks, a copy of its store is made, it confirms 20 more; then the
    copy is put back and ``offline`` picks are confirmed on it before it connects."""
    path, backup = tmp_path / "hh-01.db", tmp_path / "backup.db"
    assert work(path, broker, 30) == 30
    copy_store(path, backup)
    assert work(path, broker, 20) == 50
    copy_store(backup, path)
    store = Store.open(path, device_id="hh-01", site=SITE)
    emit_picks(store, offline, per_transaction=5)
    new_ids = event_ids(store)[30:]
    agent = SyncAgent(store, fast_settings(broker.url))
    return store, agent, Heard(agent), new_ids


@pytest.mark.parametrize(("offline", "cause"), [(15, "behind"), (25, "conflict")])
def test_a_store_restored_from_an_older_copy_stops_and_recovers_losing_nothing(
    demo_engine: Engine,
    db_url: str,
    broker: MosquittoBroker,
    observer: Observer,
    tmp_path: Path,
    offline: int,
    cause: str,
) -> None:
    hub = start_hub(demo_engine, db_url, broker, allocate_every_s=0)
    store, agent, heard, new_ids = restored(demo_engine, db_url, broker, tmp_path, offline)
    try:
        agent.start()
        stale = heard.wait("stale")
        # 15 offline events end below the hub's 50: seen at connect; 25 end above it and
        # are refused when the first resent sequence differs from the recorded event
        assert stale.cause == cause
        assert (stale.hub_seq, stale.store_seq) == (50, 30 + offline)
        assert "50" in stale.reason
        assert agent.status().store_stale
        assert observer.wait(
            lambda: any(
                "store" in (s.get("health") or {}).get("devices", {})
                for s in observer.on("floor/v1/dc1/dev/hh-01/status")
            ),
            10,
        ), "the supervisor's board never heard that the store is stale"
        seqs = inbox(demo_engine)
        assert [s for s, _, _ in seqs] == list(range(1, 51))  # nothing of the copy applied
        assert not set(new_ids) & {e for _, e, _ in seqs}
        assert agent.acked_seq == 30  # the offline work is not marked delivered
        if cause == "conflict":
            assert dead_codes(demo_engine).get("stale_store") == 1
            figures = run_transaction(demo_engine, hub_stats)["devices"]["hh-01"]
            assert "sequence 31 was recorded as event" in figures["stale"]  # floor-hub stats

        assert agent.recover_store("sam")
        recovered = heard.wait("recovered")
        assert dataclasses.astuple(recovered)[:4] == (50, 0, offline, 20)
        assert recovered.missing[0].startswith("31 pick.confirmed")
        assert not agent.status().store_stale
        assert run_transaction(demo_engine, hub_stats)["devices"]["hh-01"]["stale"] == ""
        assert agent.wait_acked(50 + offline, 30), agent.status()
        seqs = inbox(demo_engine)
        assert [s for s, _, _ in seqs] == list(range(1, 51 + offline))
        assert [e for s, e, _ in seqs if s > 50] == new_ids  # each applied once, in order
        assert {o for _, _, o in seqs} == {"applied"}
        assert dead_codes(demo_engine).get("store_recovered") == 1
        emit_picks(store, 1)  # and it goes on
        assert agent.wait_acked(51 + offline, 30)
    finally:
        agent.stop()
        store.close()
        hub.stop()


def test_an_emptied_store_under_the_same_device_id_continues_after_the_hub(
    demo_engine: Engine, db_url: str, broker: MosquittoBroker, tmp_path: Path
) -> None:
    hub = start_hub(demo_engine, db_url, broker, allocate_every_s=0)
    path = tmp_path / "hh-01.db"
    try:
        assert work(path, broker, 12) == 12
        copy_store(tmp_path / "nothing.db", path)  # the store is gone: a new one is made
        store = Store.open(path, device_id="hh-01", site=SITE)
        agent = SyncAgent(store, fast_settings(broker.url))
        heard = Heard(agent)
        try:
            agent.start()
            assert heard.wait("stale").cause == "behind"
            assert agent.recover_store("sam")
            assert dataclasses.astuple(heard.wait("recovered"))[:4] == (12, 0, 0, 12)
            last = emit_picks(store, 3)
            assert last == 15  # numbered after the hub's record
            assert agent.wait_acked(last, 30), agent.status()
            assert [s for s, _, o in inbox(demo_engine) if o == "applied"] == list(range(1, 16))
        finally:
            agent.stop()
            store.close()
    finally:
        hub.stop()


def test_an_event_id_sent_again_under_a_new_sequence_is_not_applied_twice(
    demo_engine: Engine, db_url: str, broker: MosquittoBroker, observer: Observer, tmp_path: Path
) -> None:
    hub = start_hub(demo_engine, db_url, broker, allocate_every_s=0)
    path = tmp_path / "hh-01.db"
    try:
        assert work(path, broker, 5) == 5
        store = Store.open(path, device_id="hh-01", site=SITE)
        with store.read() as session:
            from floor_app.store import outbox

            third = outbox.all_records(session)[2]
        store.close()
        again = dataclasses.replace(third, seq=6)
        for body in batch_records([again], "hh-01"):
            observer.publish("floor/v1/dc1/dev/hh-01/evt", body)
        assert observer.wait(lambda: len(inbox(demo_engine)) == 6, 10)
        seq, event_id, outcome = inbox(demo_engine)[-1]
        assert (seq, event_id, outcome) == (6, third.event_id, "rejected")
        assert dead_codes(demo_engine).get("reused_event_id") == 1
        # no rejection is sent: the device would take back an effect the hub holds once
        acks = observer.on("floor/v1/dc1/dev/hh-01/ack")
        assert not [a for a in acks if a.get("kind") == "rejected"]
        assert observer.wait(
            lambda: any(a.get("up_to_seq") == 6 for a in observer.on("floor/v1/dc1/dev/hh-01/ack"))
        )
    finally:
        hub.stop()
