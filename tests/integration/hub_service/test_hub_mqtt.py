"""The hub over a real Mosquitto with real devices (the sync agent on a real store): events
applied exactly once and acked after commit, tasks pushed and picked, statuses retained,
bad input dead-lettered; ``floor-hub`` as a process: clean stop, crash after commit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from conftest import small_site
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from sqlalchemy import Engine, select
from support.mosquitto import MosquittoBroker
from support.mqtt_peer import emit_picks, fast_settings

from floor_app.domain.picking import TaskState
from floor_app.services.picking import PickingService
from floor_app.store import Store
from floor_app.store.seed import load_demo as load_device_demo
from hub import Hub, HubSettings, hub_stats, run_transaction
from hub.metrics import HubMetrics
from hub.tables import InboxRow, table_of
from sync.device import SyncAgent
from sync.protocol import DeviceStatus, encode

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]

SITE = "dc1"


class Observer:
    """A plain MQTT client that records everything published under ``floor/v1/dc1/``."""

    def __init__(self, broker: MosquittoBroker, topic: str = "floor/v1/dc1/#") -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"observer-{time.time_ns()}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()
        time.sleep(0.3)

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def on(self, topic: str) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(p) for t, p, _ in self.messages if t == topic and p]

    def wait(self, predicate: Any, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return bool(predicate())

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def observer(broker: MosquittoBroker) -> Iterator[Observer]:
    o = Observer(broker)
    yield o
    o.stop()


def start_hub(engine: Engine, db_url: str, broker: MosquittoBroker, **settings: Any) -> Hub:
    return Hub(db_url, broker.url, HubSettings(site=SITE, **settings), engine=engine).start(
        wait_online=10
    )


class Reasons:
    """Listener collecting the reasons the hub sent a device (refusals or rejections)."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.arrived = threading.Event()

    def __call__(self, message: Any) -> None:
        self.items.append(str(message.reason))
        self.arrived.set()


def go_online(
    engine: Engine, db_url: str, broker: MosquittoBroker, store: Store
) -> tuple[Observer, Hub, SyncAgent]:
    """An observer of every topic, the hub (no allocation passes) and the device's sync
    agent, not yet started so that listeners can be added first."""
    observer = Observer(broker)
    hub = start_hub(engine, db_url, broker, allocate_every_s=0)
    return observer, hub, SyncAgent(store, fast_settings(broker.url))


def test_device_events_are_applied_once_and_acked_after_commit(
    demo_engine: Engine, db_url: str, broker: MosquittoBroker, observer: Observer, tmp_path: Path
) -> None:
    metrics = HubMetrics()
    hub = Hub(
        db_url,
        broker.url,
        HubSettings(site=SITE, allocate_every_s=0),
        engine=demo_engine,
        metrics=metrics,
    ).start(wait_online=10)
    store = Store.open(tmp_path / "hh-01.db", device_id="hh-01", site=SITE)
    agent = SyncAgent(store, fast_settings(broker.url))
    try:
        agent.start()
        last = emit_picks(store, 1200, per_transaction=100)
        assert agent.wait_acked(last, 30), agent.status()
        figures = run_transaction(demo_engine, hub_stats)["devices"]["hh-01"]
        assert (figures["applied"], figures["last_seq"]) == (last, last)
        inbox = table_of(InboxRow)
        with demo_engine.connect() as conn:
            seqs = list(
                conn.execute(
                    select(inbox.c.seq).where(inbox.c.device_id == "hh-01").order_by(inbox.c.seq)
                ).scalars()
            )
        assert seqs == list(range(1, last + 1))
        applied = metrics.registry.get_sample_value(
            "floor_hub_events_applied_total", {"device": "hh-01", "type": "pick.confirmed"}
        )
        assert applied == last
        # the statuses the demo load left in the outbox were published once the hub was
        # online, retained: a subscriber that comes later still sees them
        late = Observer(broker, "floor/v1/dc1/orders/SO-100001/status")
        try:
            assert late.wait(lambda: late.on("floor/v1/dc1/orders/SO-100001/status"), 5)
            assert late.on("floor/v1/dc1/orders/SO-100001/status")[-1]["state"] == "validated"
        finally:
            late.stop()
    finally:
        agent.stop()
        store.close()
        hub.stop()


def test_the_device_roster_is_retained_and_follows_presence(
    demo_engine: Engine, db_url: str, broker: MosquittoBroker, observer: Observer
) -> None:
    topic = "floor/v1/dc1/devices"
    hub = start_hub(demo_engine, db_url, broker, allocate_every_s=0, roster_every_s=0.1)
    try:
        assert observer.wait(lambda: observer.on(topic), 10)
        first = {d["device_id"]: d for d in observer.on(topic)[-1]["devices"]}
        assert sorted(first) == ["hh-01", "hh-02", "hh-03", "hh-04", "pk-01", "pk-02", "sv-01"]
        assert first["pk-01"]["state"] == "unknown"
        status = DeviceStatus(device_id="pk-01", state="online", epoch=1)
        observer.publish("floor/v1/dc1/dev/pk-01/status", encode(status))

        def online() -> bool:
            latest = {d["device_id"]: d for d in observer.on(topic)[-1]["devices"]}
            return bool(latest["pk-01"]["state"] == "online")

        assert observer.wait(online, 10)
        late = Observer(broker, topic)  # retained: a board that connects later has it
        try:
            assert late.wait(lambda: late.on(topic), 5)
        finally:
            late.stop()
    finally:
        hub.stop()


def test_a_task_is_pushed_to_a_device_picked_there_and_the_order_becomes_picked(
    demo_engine: Engine, db_url: str, broker: MosquittoBroker, observer: Observer, tmp_path: Path
) -> None:
    hub = start_hub(demo_engine, db_url, broker, allocate_every_s=0.2)
    stores = {
        d: Store.open(tmp_path / f"{d}.db", device_id=d, site=SITE)
        for d in ("hh-01", "hh-02", "hh-03", "hh-04")
    }
    for s in stores.values():  # the devices' reference data, loaded before they connect
        load_device_demo(s, small_site(), tasks=0)
    agents = {d: SyncAgent(s, fast_settings(broker.url)) for d, s in stores.items()}
    try:
        for agent in agents.values():
            agent.start()

        def assigned(device: str) -> list[str]:
            with stores[device].unit_of_work() as uow:
                return uow.tasks.ids(TaskState.ASSIGNED)

        # the hub leases tasks to the pickers online: whichever one got a task picks it
        assert observer.wait(lambda: any(assigned(d) for d in stores), 30), "no task pushed"
        device = next(d for d in sorted(stores) if assigned(d))
        store = stores[device]
        service = PickingService(store)
        task_id = assigned(device)[0]
        task = service.start(task_id, "alice").task
        while task.totes_to_scan():  # an empty tote for each order on the cart
            task = service.assign_totes(task_id, service.free_totes(1)[0], "alice").task
        while (line := task.next_line()) is not None:
            task = service.confirm(task_id, line.line_id, line.open_qty, "alice").task
            due = service.put_due(task)
            if due is not None:
                tote = task.tote_for(due.tote_position)
                assert tote is not None
                task = service.confirm_put(task_id, due.line_id, tote.tote_id, "alice").task
        service.complete(task_id, "alice")
        orders = sorted({ln.order_id for ln in task.lines})
        last = store.outbox_stats()[2]
        assert agents[device].wait_acked(last, 30)
        figures = run_transaction(demo_engine, hub_stats)
        assert figures["devices"][device]["refused"] == 0
        assert figures["tasks"].get("done") == 1
        for order_id in orders:
            topic = f"floor/v1/dc1/orders/{order_id}/status"
            assert observer.wait(
                lambda t=topic: observer.on(t) and observer.on(t)[-1]["state"] == "picked", 10
            ), observer.on(topic)
    finally:
        for agent in agents.values():
            agent.stop()
        for s in stores.values():
            s.close()
        hub.stop()


def test_bad_input_over_mqtt_is_dead_lettered_and_the_hub_goes_on(
    demo_engine: Engine, db_url: str, broker: MosquittoBroker, observer: Observer, tmp_path: Path
) -> None:
    hub = start_hub(demo_engine, db_url, broker, allocate_every_s=0)
    try:
        observer.publish("floor/v1/dc1/dev/hh-01/evt", b"{broken")
        observer.publish("floor/v1/dc1/orders/in", json.dumps({"v": 1, "order_id": "X-1"}).encode())
        assert observer.wait(lambda: len(observer.on("floor/v1/dc1/dlq")) >= 1)
        assert observer.wait(lambda: observer.on("floor/v1/dc1/orders/X-1/status"))
        assert observer.on("floor/v1/dc1/dlq")[0]["code"] == "malformed_json"
        assert observer.on("floor/v1/dc1/orders/X-1/status")[-1]["state"] == "rejected"
        store = Store.open(tmp_path / "hh-02.db", device_id="hh-02", site=SITE)
        agent = SyncAgent(store, fast_settings(broker.url))
        try:
            agent.start()
            last = emit_picks(store, 5, per_transaction=1)
            assert agent.wait_acked(last, 20)
        finally:
            agent.stop()
            store.close()
        assert hub.online
        figures = run_transaction(demo_engine, hub_stats)
        assert figures["dead_letters"] == 1 and figures["orders_rejected"] == 1
    finally:
        hub.stop()


def hub_process(
    db_url: str, broker: MosquittoBroker, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hub",
            "--db",
            db_url,
            "--broker",
            broker.url,
            "--metrics-port",
            "-1",
            "--allocate-every",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_the_hub_process_stops_cleanly_on_sigterm_and_sigint(
    demo_engine: Engine, db_url: str, broker: MosquittoBroker, observer: Observer
) -> None:
    # SIGINT on one backend, SIGTERM on the other: each costs a process start
    for sig in (signal.SIGINT,) if db_url.startswith("sqlite") else (signal.SIGTERM,):
        proc = hub_process(db_url, broker)
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()  # written once the hub has started
            assert first.startswith("floor-hub: site dc1"), first
            proc.send_signal(sig)
            out, _ = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, out
        assert "Traceback" not in out


def test_a_crash_after_commit_loses_nothing(
    demo_engine: Engine, db_url: str, broker: MosquittoBroker, observer: Observer, tmp_path: Path
) -> None:
    proc = hub_process(db_url, broker, {"FLOOR_HUB_CRASH_AFTER_COMMIT_PROB": "1"})
    store = Store.open(tmp_path / "hh-03.db", device_id="hh-03", site=SITE)
    agent = SyncAgent(store, fast_settings(broker.url, ack_timeout_s=2.0))
    try:
        agent.start()
        last = emit_picks(store, 3, per_transaction=3)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 137, out
        assert "crash hook" in out
        figures = run_transaction(demo_engine, hub_stats)["devices"]["hh-03"]
        assert figures["last_seq"] == last  # committed, never acked
        assert agent.acked_seq == 0
        proc = hub_process(db_url, broker)
        assert agent.wait_acked(last, 30), agent.status()
        figures = run_transaction(demo_engine, hub_stats)["devices"]["hh-03"]
        assert (figures["applied"], figures["last_seq"]) == (last, last)
        assert figures["duplicates_ignored"] >= last  # redelivered or resent: acked again
    finally:
        agent.stop()
        store.close()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
