"""The sync agent against a real Mosquitto: draining, restarts, acks, presence."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.mosquitto import MosquittoBroker, require_mosquitto
from support.mqtt_peer import ScriptedHub, emit_picks, fast_settings

from floor_app.store import Store
from sync.device import EPOCH_KEY, SyncAgent
from sync.protocol import DeviceStatus, Topics, encode

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    require_mosquitto()
    b = MosquittoBroker(tmp_path / "broker")
    b.start()
    yield b
    b.kill()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "hh-01.db", device_id="hh-01", site="dc1")
    yield s
    s.close()


@pytest.fixture
def hub(broker: MosquittoBroker) -> Iterator[ScriptedHub]:
    h = ScriptedHub(broker.host, broker.port).start()
    yield h
    h.stop()


def test_offline_work_drains_in_order_once_the_broker_appears(tmp_path: Path, store: Store) -> None:
    require_mosquitto()
    broker = MosquittoBroker(tmp_path / "late-broker")
    agent = SyncAgent(store, fast_settings(broker.url))
    agent.start()
    try:
        last = emit_picks(store, 3000)
        time.sleep(0.5)
        assert not agent.online
        assert agent.status().outbox_depth == 3000
        broker.start()
        hub = ScriptedHub(broker.host, broker.port).start()
        assert agent.wait_acked(last, 30), agent.status()
        assert hub.applied["hh-01"] == list(range(1, last + 1))
        assert (
            max(b - a + 1 for a, b in hub.received_batches["hh-01"]) > 1
        )  # batched while draining
        status = agent.status()
        assert (status.online, status.outbox_depth, status.acked_seq) == (True, 0, last)
        assert status.oldest_unsent_age_s is None
        hub.stop()
    finally:
        agent.stop()
        broker.kill()


def test_a_broker_crash_mid_drain_loses_and_reorders_nothing(
    broker: MosquittoBroker, store: Store, hub: ScriptedHub
) -> None:
    last = emit_picks(store, 20000)
    agent = SyncAgent(store, fast_settings(broker.url, batch_events=100, window_events=1000))
    agent.start()
    try:
        assert hub.wait_for(lambda: len(hub.applied["hh-01"]) > 2000, 30)
        broker.restart(hard=True, down_for=0.5)
        assert agent.wait_acked(last, 60), agent.status()
        assert hub.applied["hh-01"] == list(range(1, last + 1))
        assert agent.status().connects >= 2
    finally:
        agent.stop()


def test_live_commits_are_sent_at_once(
    broker: MosquittoBroker, store: Store, hub: ScriptedHub
) -> None:
    agent = SyncAgent(store, fast_settings(broker.url))
    agent.start()
    try:
        assert agent.wait_online(10)
        for _ in range(20):
            seq = emit_picks(store, 1)
            assert agent.wait_acked(seq, 5)
        assert hub.applied["hh-01"] == list(range(1, 21))
    finally:
        agent.stop()


def test_duplicate_and_old_acks_are_counted_and_harmless(
    broker: MosquittoBroker, store: Store, hub: ScriptedHub
) -> None:
    agent = SyncAgent(store, fast_settings(broker.url))
    agent.start()
    try:
        last = emit_picks(store, 10)
        assert agent.wait_acked(last, 10)
        for up_to in (10, 10, 3, 0):
            hub.ack("hh-01", up_to)
        assert hub.wait_for(lambda: agent.status().bad_input.get("ack.duplicate", 0) >= 4, 10)
        assert agent.acked_seq == 10
        assert agent.online
        seq = emit_picks(store, 1)
        assert agent.wait_acked(seq, 10)
    finally:
        agent.stop()


def test_unacked_events_are_sent_again_when_the_hub_stays_silent(
    broker: MosquittoBroker, store: Store, hub: ScriptedHub
) -> None:
    hub.auto_ack = False
    agent = SyncAgent(store, fast_settings(broker.url, ack_timeout_s=1.0))
    agent.start()
    try:
        last = emit_picks(store, 5)
        assert hub.wait_for(lambda: hub.duplicates["hh-01"] >= 5, 15)  # sent a second time
        hub.auto_ack = True
        hub.ack("hh-01", hub.last_seq["hh-01"])
        assert agent.wait_acked(last, 10)
        assert agent.status().counters.get("ack.timeout_resends", 0) >= 1
    finally:
        agent.stop()


def test_each_connection_has_a_higher_epoch_and_a_stale_will_is_overwritten(
    broker: MosquittoBroker, store: Store, hub: ScriptedHub
) -> None:
    agent = SyncAgent(store, fast_settings(broker.url))
    agent.start()
    try:
        assert agent.wait_online(10)
        first = agent.status().epoch
        broker.restart(hard=True)
        assert hub.wait_for(lambda: agent.online and agent.status().epoch > first, 20)
        epoch = agent.status().epoch
        assert int(store.meta(EPOCH_KEY) or 0) == epoch
        # a late will of an older connection lands on the retained topic
        stale = DeviceStatus(
            device_id="hh-01", state="offline", epoch=first, reason="connection lost"
        )
        # wait until the hub has seen the online status of this connection, so that the
        # stale will below lands after it (and is seen after it)
        assert hub.wait_for(
            lambda: any(
                s is not None and s.state == "online" and s.epoch == epoch
                for _, s, _ in hub.statuses
            ),
            10,
        )
        seen = len(hub.statuses)
        hub.send_raw(Topics("dc1").status("hh-01"), encode(stale), retain=True)

        # the agent answers the stale will with its own online status again
        def answered() -> bool:
            after = [s for _, s, _ in hub.statuses[seen:] if s is not None]
            stale_at = next((i for i, s in enumerate(after) if s.epoch == first), None)
            return stale_at is not None and any(
                s.state == "online" and s.epoch == epoch for s in after[stale_at + 1 :]
            )

        assert hub.wait_for(answered, 10)
        assert hub.wait_for(
            lambda: agent.status().counters.get("status.stale_will_overwritten") == 1, 5
        )
    finally:
        agent.stop()
    # The shutdown status reaches the subscriber after stop() returns: wait for it.
    assert hub.wait_for(
        lambda: (
            hub.statuses[-1][1] is not None
            and (hub.statuses[-1][1].state, hub.statuses[-1][1].reason) == ("offline", "shutdown")
        ),
        10,
    )


def test_heartbeat_carries_health(broker: MosquittoBroker, store: Store, hub: ScriptedHub) -> None:
    emit_picks(store, 3)
    hub.auto_ack = False
    agent = SyncAgent(
        store,
        fast_settings(broker.url, heartbeat_s=0.3),
        device_health=lambda: {"scanner": "ready", "printer": "offline"},
        battery=lambda: 77,
    )
    agent.start()
    try:
        assert hub.wait_for(lambda: len(hub.statuses) >= 2, 10)
        _, status, _ = hub.statuses[-1]
        assert status is not None and status.health is not None
        assert status.health.devices == {"scanner": "ready", "printer": "offline"}
        assert (
            status.health.outbox_depth,
            status.health.battery_pct,
            status.health.app_version,
        ) == (3, 77, "test")
        assert status.health.oldest_unsent_age_s is not None
    finally:
        agent.stop()


DEVICE_SCRIPT = """
import sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from support.mqtt_peer import fast_settings
from floor_app.store import Store
from sync.device import SyncAgent
store = Store.open(Path({db!r}), device_id="hh-02", site="dc1")
agent = SyncAgent(store, fast_settings({url!r}, will_delay_s=1))
agent.start()
agent.wait_online(10)
print("online", flush=True)
time.sleep(60)
"""


def test_the_will_announces_a_killed_device_offline(
    tmp_path: Path, broker: MosquittoBroker, hub: ScriptedHub
) -> None:
    tests = str(Path(__file__).resolve().parents[1])
    script = DEVICE_SCRIPT.format(tests=tests, db=str(tmp_path / "hh-02.db"), url=broker.url)
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": tests},
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "online"
        assert hub.wait_for(
            lambda: any(d == "hh-02" and s and s.state == "online" for d, s, _ in hub.statuses), 10
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        assert hub.wait_for(
            lambda: any(
                d == "hh-02" and s and s.state == "offline" and s.reason == "connection lost"
                for d, s, _ in hub.statuses
            ),
            15,
        )
        online = [s for d, s, _ in hub.statuses if d == "hh-02" and s and s.state == "online"]
        will = [s for d, s, _ in hub.statuses if d == "hh-02" and s and s.state == "offline"]
        assert will[-1].epoch == online[-1].epoch
    finally:
        proc.kill()
        proc.wait()
