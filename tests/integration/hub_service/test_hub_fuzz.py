"""10,000 generated messages at a hub on PostgreSQL over a real broker, then a normal device's
events are still applied, each once and in order.

The generator (seeded: a failure names its seed) writes every kind of message the hub reads
(event batches, sync requests and recoveries, retained statuses, order intake and
cancellations) under other devices' names, unknown devices and wrong topics, with fields at
their type's limits, wrong types, non-finite numbers, deep nesting, huge strings, broken
JSON and raw bytes. The device under test, hh-01, is never named: a message in its name is
its own (the broker's ACL sees to that)."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from sqlalchemy import Engine, select
from support.mosquitto import MosquittoBroker
from support.mqtt_peer import emit_picks, fast_settings
from test_hub_mqtt import start_hub

from floor_app.store import Store
from hub import hub_stats, open_database, run_transaction
from hub.tables import InboxRow, table_of
from sync.device import SyncAgent

pytestmark = [pytest.mark.integration, pytest.mark.mqtt, pytest.mark.postgres]

SITE = "dc1"
BASE = f"floor/v1/{SITE}"
MESSAGES = 10_000
SEED = 20261207
DEVICES = ["hh-02", "hh-03", "pk-01", "sv-01", "zz-99", "hh-01x", "", "+", "x" * 200]

LIMITS: list[Any] = [
    0, -1, 1, 2**31 - 1, 2**31, -(2**31) - 1, 2**53, 2**63, -(2**63), 10**100,
    1e308, -1e308, 5e-324, 0.1, True, False, None, "", "0", "NaN", [], {}, [1, 2], {"a": 1},
]  # fmt: skip
RAW_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "9" * 400]


class Fuzzer:
    """Generates one message at a time: (topic, payload)."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def value(self) -> Any:
        r = self.r
        kind = r.randrange(8)
        if kind == 0:
            return r.choice(LIMITS)
        if kind == 1:
            return "".join(chr(r.randrange(32, 0x2FFF)) for _ in range(r.randrange(1, 40)))
        if kind == 2:
            return "A" * r.choice([64, 65, 1000, 70_000])
        if kind == 3:
            return "\ud800x"  # a lone surrogate, written as an escape
        if kind == 4:
            return [self.value() for _ in range(r.randrange(0, 4))]
        if kind == 5:
            return {f"k{i}": self.value() for i in range(r.randrange(0, 4))}
        if kind == 6:
            return r.randrange(-(2**40), 2**40)
        return r.random() * 10 ** r.randrange(-5, 12)

    def mutate(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with one to three fields (at any depth) replaced, added or removed."""
        for _ in range(self.r.randrange(1, 4)):
            target = body
            while True:
                keys = list(target)
                if not keys:
                    break
                key = self.r.choice(keys)
                inner = target[key]
                if isinstance(inner, dict) and self.r.random() < 0.5:
                    target = inner
                    continue
                listed = isinstance(inner, list) and inner and isinstance(inner[0], dict)
                if listed and self.r.random() < 0.5:
                    target = inner[0]
                    continue
                break
            action = self.r.randrange(3)
            if action == 0 and target:
                target[self.r.choice(list(target))] = self.value()
            elif action == 1:
                target[self.r.choice(["extra", "v", "kind", "seq"])] = self.value()
            elif target:
                target.pop(self.r.choice(list(target)))
        return body

    def event_batch(self, device: str) -> dict[str, Any]:
        seq = self.r.choice([1, 2, 3, 50, 2**31 - 1])
        return {
            "v": 1,
            "device_id": device,
            "sent_at": time.time(),
            "events": [
                {
                    "seq": seq + i,
                    "event_id": f"01FUZZ{self.r.randrange(10**12):012d}",
                    "device_id": device,
                    "type": self.r.choice(
                        ["pick.confirmed", "pack.verified", "tote.assigned", "stock.moved", "x"]
                    ),
                    "kind": self.r.choice(["fact", "claim"]),
                    "order_id": self.r.choice(["SO-100003", None, "SO-999999"]),
                    "order_version": self.r.choice([None, 1, 2]),
                    "payload": {
                        "task": "PT-0001",
                        "line": "L1",
                        "order": "SO-100003",
                        "sku": "SKU-00020",
                        "location": "A-01-01-1-A",
                        "qty": 1,
                        "user": "fuzz",
                    },
                    "created_at": time.time(),
                }
                for i in range(self.r.randrange(1, 4))
            ],
        }

    def body(self, device: str) -> tuple[str, dict[str, Any]]:
        r = self.r
        now = time.time()
        choice = r.randrange(7)
        if choice == 0:
            return f"{BASE}/dev/{device}/evt", self.event_batch(device)
        if choice == 1:
            return f"{BASE}/dev/{device}/sync", {
                "v": 1, "device_id": device, "since_cursor": 0, "epoch": 1, "last_seq": 0,
                "acked_seq": 0, "sent_at": now, "store_id": "01FUZZ",
            }  # fmt: skip
        if choice == 2:
            return f"{BASE}/dev/{device}/sync", {
                "v": 1, "kind": "recover", "device_id": device, "store_id": "01FUZZ",
                "acked_seq": 0, "event_ids": ["01FUZZ"], "sent_at": now,
            }  # fmt: skip
        if choice == 3:
            return f"{BASE}/dev/{device}/status", {
                "v": 1, "device_id": device, "state": "online", "epoch": 1, "at": now,
                "health": {"acked_seq": 0, "push_cursor": 0, "outbox_depth": 0},
            }  # fmt: skip
        if choice == 4:
            return f"{BASE}/orders/in", {
                "v": 1,
                "order_id": f"FZ-{r.randrange(10**6)}",
                "lines": [{"line_no": 1, "sku": "SKU-00020", "qty": 1}],
                "ship_to": {"name": "Fuzz", "street": "1 Way", "city": "Town", "zip": "1000",
                            "country": "DE"},
            }  # fmt: skip
        if choice == 5:
            return f"{BASE}/orders/cancel", {
                "v": 1, "order_id": r.choice(["SO-100004", "FZ-1", ""]), "reason": "fuzz",
            }  # fmt: skip
        return r.choice([f"{BASE}/nothing", f"{BASE}/dev/{device}", "floor/v2/x/evt"]), {}

    def message(self) -> tuple[str, bytes]:
        r = self.r
        device = r.choice(DEVICES)
        topic, body = self.body(device)
        shape = r.randrange(10)
        if shape == 0:
            return topic, bytes(r.randrange(256) for _ in range(r.randrange(0, 300)))
        if shape == 1:
            return topic, b"[" * r.choice([100, 1000, 5000]) + b"]" * r.choice([0, 100])
        if shape == 2:
            return topic, b""
        text = json.dumps(self.mutate(body) if shape > 3 else body)
        if shape == 3:  # a number JSON cannot hold in place of one field's value
            text = text.replace('"v": 1', f'"v": {r.choice(RAW_NUMBERS)}', 1)
            text = text.replace('"qty": 1', f'"qty": {r.choice(RAW_NUMBERS)}', 1)
        if r.random() < 0.05:
            text = text[: r.randrange(1, max(2, len(text)))]  # cut short
        return topic, text.encode("utf-8", "surrogatepass")


def test_ten_thousand_generated_messages_never_stop_a_devices_events(
    pg_demo_url: str, broker: MosquittoBroker, tmp_path: Path
) -> None:
    engine: Engine = open_database(pg_demo_url, SITE)
    hub = start_hub(engine, pg_demo_url, broker, allocate_every_s=0)
    store = Store.open(tmp_path / "hh-01.db", device_id="hh-01", site=SITE)
    agent = SyncAgent(store, fast_settings(broker.url))
    fuzz = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="fuzzer", protocol=MQTTProtocolVersion.MQTTv5
    )
    fuzz.max_inflight_messages_set(200)
    try:
        fuzz.connect(broker.host, broker.port)
        fuzz.loop_start()
        agent.start()
        gen = Fuzzer(SEED)
        sent = 0
        last = 0
        for i in range(MESSAGES):
            topic, payload = gen.message()
            if "+" in topic or "#" in topic:
                topic = topic.replace("+", "plus").replace("#", "hash")
            info = fuzz.publish(topic, payload, qos=1)
            sent += 1
            if i % 1000 == 999:  # the device works all along
                info.wait_for_publish(30)
                last = emit_picks(store, 5)
        assert sent >= MESSAGES
        last = emit_picks(store, 5)
        assert agent.wait_acked(last, 180), (f"seed {SEED}", agent.status())
        inbox = table_of(InboxRow)
        with engine.connect() as conn:
            seqs = list(
                conn.execute(
                    select(inbox.c.seq).where(inbox.c.device_id == "hh-01").order_by(inbox.c.seq)
                ).scalars()
            )
        assert seqs == list(range(1, last + 1)), f"seed {SEED}"
        figures = run_transaction(engine, hub_stats)
        assert figures["dead_letters"] > MESSAGES // 4, figures["dead_letters_by_code"]
        assert hub.online, "the hub is no longer online"
    finally:
        fuzz.loop_stop()
        fuzz.disconnect()
        agent.stop()
        store.close()
        hub.stop()
        engine.dispose()
