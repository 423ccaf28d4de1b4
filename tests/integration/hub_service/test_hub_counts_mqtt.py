"""A count over a real Mosquitto: the hub pushes a blind count task to a device, the device
counts while offline, and its stock.counted reaches the hub exactly once when it is back;
the accepted difference is published, retained, for the supervisors."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from conftest import small_site
from hub_builders import stock
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from sqlalchemy import Engine, select
from support.mosquitto import MosquittoBroker
from support.mqtt_peer import fast_settings

from floor_app.domain.counting import CountFrequency, CountTolerance
from floor_app.domain.stockwork import StockTaskKind
from floor_app.services.counting import CountingService
from floor_app.store import Store
from floor_app.store.seed import load_demo as load_device_demo
from hub import Hub, HubSettings, run_transaction
from hub.counts import CountSettings, count_location
from hub.handlers import HandlerSettings
from hub.stock_check import check_stock
from hub.tables import InboxRow, StockCountRow, StockTaskRow, table_of
from sync.device import SyncAgent

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]

SITE = "dc1"
PLACE = ("A01-01-2A", "SKU-00001")


class Retained:
    """Records the retained count differences a supervisor would read."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.seen: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"sup-{time.time_ns()}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.subscribe(f"floor/v1/{SITE}/counts/+/difference", qos=1)
        self.client.loop_start()

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.seen.append(json.loads(msg.payload))

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait(predicate: Any, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def test_a_count_made_offline_is_applied_once_when_the_device_is_back(
    demo_engine: Engine, db_url: str, broker: MosquittoBroker, tmp_path: Path
) -> None:
    held = stock(demo_engine, *PLACE)[0]
    task, _ = run_transaction(demo_engine, lambda c: count_location(c, *PLACE, now=time.time()))
    hub = Hub(
        db_url, broker.url, HubSettings(site=SITE, allocate_every_s=0.2), engine=demo_engine
    ).start(wait_online=10)
    store = Store.open(tmp_path / "hh-01.db", device_id="hh-01", site=SITE)
    load_device_demo(store, small_site(), tasks=0)
    counting = CountingService(store)
    agent = SyncAgent(store, fast_settings(broker.url))
    try:
        agent.start()
        assert wait(lambda: [t.task_id for t in counting.open_counts()] == [task.task_id])
        agent.stop()  # offline from here
        pushed = counting.task(task.task_id)
        assert pushed.kind is StockTaskKind.COUNT and pushed.from_location == PLACE[0]
        counting.start(task.task_id, "alice")
        counting.record(task.task_id, PLACE[1], held - 1, "alice")
        last = store.outbox_stats()[2]

        agent = SyncAgent(store, fast_settings(broker.url))
        agent.start()
        assert agent.wait_acked(last, 30), agent.status()
        agent.stop()
        agent = SyncAgent(store, fast_settings(broker.url))  # back again: nothing twice
        agent.start()
        time.sleep(1.0)

        counts = table_of(StockCountRow)
        inbox = table_of(InboxRow)
        with demo_engine.connect() as conn:
            rows = conn.execute(select(counts)).all()
            applied = conn.execute(
                select(inbox.c.seq, inbox.c.outcome)
                .where(inbox.c.device_id == "hh-01")
                .where(inbox.c.type == "stock.counted")
            ).all()
        assert len(applied) == 1 and applied[0].outcome == "applied"
        assert [(r.task_id, r.counted, r.outcome) for r in rows] == [
            (task.task_id, held - 1, "recount")
        ]
        assert stock(demo_engine, *PLACE)[0] == held  # out of tolerance: a recount first
        assert run_transaction(demo_engine, check_stock)["ok"]
    finally:
        agent.stop()
        store.close()
        hub.stop()


def test_an_accepted_difference_is_retained_for_the_supervisors(
    demo_engine: Engine, db_url: str, broker: MosquittoBroker, tmp_path: Path
) -> None:
    held = stock(demo_engine, *PLACE)[0]
    task, _ = run_transaction(demo_engine, lambda c: count_location(c, *PLACE, now=time.time()))
    settings = HubSettings(
        site=SITE,
        allocate_every_s=0.2,
        handlers=HandlerSettings(counts=CountSettings(tolerance=CountTolerance(units=3))),
    )
    hub = Hub(db_url, broker.url, settings, engine=demo_engine).start(wait_online=10)
    store = Store.open(tmp_path / "hh-01.db", device_id="hh-01", site=SITE)
    load_device_demo(store, small_site(), tasks=0)
    counting = CountingService(store)
    agent = SyncAgent(store, fast_settings(broker.url))
    try:
        agent.start()
        assert wait(lambda: bool(counting.open_counts()))
        counting.record(task.task_id, PLACE[1], held - 2, "alice")
        assert agent.wait_acked(store.outbox_stats()[2], 30), agent.status()
        assert stock(demo_engine, *PLACE)[0] == held - 2
        late = Retained(broker)  # a supervisor connecting afterwards still reads it
        try:
            assert wait(lambda: bool(late.seen), 10)
            (diff,) = late.seen
            assert (diff["location"], diff["sku"], diff["expected"], diff["counted"]) == (
                *PLACE,
                held,
                held - 2,
            )
            assert diff["user"] == "alice" and "within tolerance" in diff["reason"]
        finally:
            late.stop()
    finally:
        agent.stop()
        store.close()
        hub.stop()


def test_the_running_hub_creates_the_counts_due_and_leases_them(
    demo_engine: Engine, db_url: str, broker: MosquittoBroker
) -> None:
    counts = CountSettings(
        frequency=CountFrequency(a_days=1e-9, b_days=1e-9, c_days=1e-9),
        due_limit=3,
        due_every_s=3600.0,
    )
    settings = HubSettings(site=SITE, allocate_every_s=0.2, handlers=HandlerSettings(counts=counts))
    hub = Hub(db_url, broker.url, settings, engine=demo_engine).start(wait_online=10)
    tasks = table_of(StockTaskRow)

    def abc_counts() -> list[Any]:
        with demo_engine.connect() as conn:
            return conn.execute(
                select(tasks).where(tasks.c.kind == "count").where(tasks.c.origin == "abc")
            ).all()

    try:
        assert wait(lambda: len(abc_counts()) == 3 and all(r.lease_device for r in abc_counts()))
        time.sleep(1.0)  # the next pass is an hour away: still three
        assert len(abc_counts()) == 3
    finally:
        hub.stop()
