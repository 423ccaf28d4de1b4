"""A scripted hub for device-side sync tests: a plain paho client on a real broker.

It records every event batch, acks cumulatively (like the real hub's contract in
docs/protocol.md), keeps a push stream per device and answers sync requests from it, and can
send arbitrary raw bytes on any topic so tests can feed a device bad input. It is a test
double of the protocol's other end, not the hub (that is ``hub``).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from sync.protocol import (
    Ack,
    DeadLetter,
    DeviceStatus,
    EventBatch,
    ProtocolError,
    PushMessage,
    SyncRequest,
    Topics,
    decode,
    encode,
    parse_topic,
)


class ScriptedHub:
    """The hub's side of the protocol, scripted for tests."""

    def __init__(
        self, host: str, port: int, site: str = "dc1", *, client_id: str = "scripted-hub"
    ) -> None:
        self.host, self.port = host, port
        self.topics = Topics(site)
        self.lock = threading.RLock()
        self.applied: dict[str, list[int]] = defaultdict(list)  # device -> seqs applied, in order
        self.received_batches: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.duplicates: dict[str, int] = defaultdict(int)
        self.event_types: dict[str, list[str]] = defaultdict(list)
        self.last_seq: dict[str, int] = defaultdict(int)
        self.statuses: list[tuple[str, DeviceStatus | None, bytes]] = []
        self.dead_letters: list[DeadLetter] = []
        self.sync_requests: list[SyncRequest] = []
        self.pushes: dict[str, list[bytes]] = defaultdict(list)
        self.auto_ack = True
        self.answer_sync = True
        self.on_batch: Callable[[EventBatch], None] | None = None
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
        )
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect
        self._connected = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> ScriptedHub:
        self.client.connect(self.host, self.port, keepalive=10)
        self.client.loop_start()
        if not self._connected.wait(timeout):
            raise RuntimeError("scripted hub could not connect")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        base = self.topics.base
        client.subscribe(
            [
                (f"{base}/dev/+/evt", 1),
                (f"{base}/dev/+/sync", 1),
                (f"{base}/dev/+/status", 1),
                (self.topics.dlq, 1),
                (f"{base}/dev/+/dlq", 1),
            ]
        )
        time.sleep(0.2)
        self._connected.set()

    # -- receiving ------------------------------------------------------------------------

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            self._handle(msg.topic, bytes(msg.payload))
        except Exception as exc:  # keep the test double alive; tests look at the records
            print(f"scripted hub: {exc!r}")

    def _handle(self, topic: str, payload: bytes) -> None:
        if topic == self.topics.dlq or topic.endswith("/dlq"):
            with self.lock:
                self.dead_letters.append(decode(DeadLetter, payload))
            return
        ref = parse_topic(topic)
        device = ref.device_id or ""
        if ref.kind.value == "evt":
            batch = decode(EventBatch, payload)
            with self.lock:
                self.received_batches[device].append((batch.first_seq, batch.last_seq))
                for event in batch.events:
                    if event.seq <= self.last_seq[device]:
                        self.duplicates[device] += 1
                    elif event.seq == self.last_seq[device] + 1:
                        self.applied[device].append(event.seq)
                        self.event_types[device].append(event.type)
                        self.last_seq[device] = event.seq
                    else:
                        break  # a gap: hold back (the real hub asks for a resend)
                up_to = self.last_seq[device]
            if self.on_batch is not None:
                self.on_batch(batch)
            if self.auto_ack:
                self.ack(device, up_to)
        elif ref.kind.value == "sync":
            request = decode(SyncRequest, payload)
            with self.lock:
                self.sync_requests.append(request)
                stream = list(self.pushes[device])
                up_to = self.last_seq[device]
            if self.answer_sync:
                for body in stream[request.since_cursor :]:
                    self.client.publish(self.topics.push(device), body, qos=1)
                if self.auto_ack:
                    self.ack(device, up_to)
        elif ref.kind.value == "status":
            try:
                status: DeviceStatus | None = decode(DeviceStatus, payload)
            except ProtocolError:
                status = None
            with self.lock:
                self.statuses.append((device, status, payload))

    # -- sending --------------------------------------------------------------------------

    def ack(self, device: str, up_to: int) -> None:
        self.client.publish(
            self.topics.ack(device), encode(Ack(device_id=device, up_to_seq=up_to)), qos=1
        )

    def push(self, device: str, item: Any, *, publish: bool = True) -> int:
        """Append ``item`` to the device's stream (next cursor) and publish it."""
        with self.lock:
            cursor = len(self.pushes[device]) + 1
            body = encode(PushMessage(device_id=device, cursor=cursor, item=item))
            self.pushes[device].append(body)
        if publish:
            self.client.publish(self.topics.push(device), body, qos=1)
        return cursor

    def send_raw(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        deadline = time.monotonic() + 10
        while not self.client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    # -- waiting --------------------------------------------------------------------------

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate():
                    return True
            time.sleep(0.02)
        with self.lock:
            return predicate()


def fast_settings(url: str, site: str = "dc1", **overrides: Any) -> Any:
    """Sync agent options with short timings, for tests; ``overrides`` name fields of
    :class:`AgentOptions` or of its :class:`LinkOptions`."""
    from dataclasses import fields

    from sync.device import AgentOptions
    from sync.mqtt import LinkOptions, parse_broker_url

    values: dict[str, Any] = {
        "broker": parse_broker_url(url),
        "app_version": "test",
        "keepalive_s": 5,
        "will_delay_s": 1,
        "heartbeat_s": 2.0,
        "backoff_min_s": 0.05,
        "backoff_max_s": 0.5,
        "ack_timeout_s": 3.0,
    }
    values.update(overrides)
    link_fields = {f.name for f in fields(LinkOptions)}
    link = LinkOptions(**{k: v for k, v in values.items() if k in link_fields})
    rest = {k: v for k, v in values.items() if k not in link_fields}
    return AgentOptions(link=link, site=site, **rest)


def emit_picks(store: Any, n: int, *, per_transaction: int = 500) -> int:
    """Commit ``n`` pick.confirmed events (in transactions of ``per_transaction``); the last seq."""
    from floor_app.domain.events import PickConfirmed

    last = 0
    done = 0
    while done < n:
        with store.unit_of_work() as uow:
            for _ in range(min(per_transaction, n - done)):
                last = uow.emit(
                    PickConfirmed(
                        task="PT-1",
                        line="L1",
                        order="SO-100001",
                        sku="SKU-1",
                        location="A-01-01-1-A",
                        qty=1,
                        tote_position=1,
                        user="alice",
                    )
                ).seq
                done += 1
            uow.commit()
    return last
