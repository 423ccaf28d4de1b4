"""New orders trickling into the demo site, as upstream sends them (``orders/in``, QoS 1).

Once the colleagues' devices are online (or after ``wait_s``), the trickle tops the site up
to ``backlog`` orders waiting to be picked, then every ``every_s`` seconds sends one more
order while fewer than ``backlog`` wait. Waiting means taken in and not picked yet, as the
hub's retained order statuses say; orders picked and waiting at a pack station nobody works
do not hold new orders back, so the pickers always have work. The orders are the demo
site's 200 in turn; after them the same orders come again under new ids (``SO-300001``
...), so the site never runs dry of orders (it may run dry of stock: such orders wait).
Where it is in that list is kept in ``counter_path``, so a restarted demo goes on.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from floor_app.demo import build_demo_site
from floor_app.domain.order import OrderState
from sync.mqtt import BrokerAddress
from sync.protocol import (
    DeviceStatus,
    OrderIntake,
    OrderStatus,
    ProtocolError,
    Topics,
    decode,
    encode,
)
from sync.protocol.topics import TopicError, TopicKind, parse_topic

log = logging.getLogger("floor.demo.intake")

TO_PICK = frozenset(
    s.value
    for s in (OrderState.RECEIVED, OrderState.VALIDATED, OrderState.ALLOCATED, OrderState.PICKING)
)
REPEAT_BASE = 300_000


def nth_order(demo: Sequence[OrderIntake], n: int) -> OrderIntake:
    """The ``n``-th order of the trickle (from 0): the demo orders, then again as new ones."""
    order = demo[n % len(demo)]
    if n < len(demo):
        return order
    return order.model_copy(update={"order_id": f"SO-{REPEAT_BASE + n - len(demo) + 1}"})


class OrderTrickle(threading.Thread):
    """The demo's upstream: keeps ``backlog`` orders waiting to be picked (see the module
    docstring)."""

    def __init__(
        self,
        broker: BrokerAddress,
        site: str,
        counter_path: Path,
        *,
        every_s: float,
        backlog: int,
        colleagues: Sequence[str] = (),
        wait_s: float = 30.0,
    ) -> None:
        super().__init__(name="demo-intake", daemon=True)
        self.broker = broker
        self.topics = Topics(site)
        self.counter_path = counter_path
        self.every_s = every_s
        self.backlog = backlog
        self.colleagues = frozenset(colleagues)
        self.wait_s = wait_s
        self.sent = 0
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._online: set[str] = set()
        self._states: dict[str, str] = {}

    def stop(self) -> None:
        """Stop sending and disconnect (returns once the thread has ended)."""
        self._halt.set()
        if self.is_alive():
            self.join(10)

    def to_pick(self) -> int:
        """Orders the hub has taken in and nobody picked yet, from their retained statuses."""
        with self._lock:
            return sum(1 for state in self._states.values() if state in TO_PICK)

    def online(self) -> set[str]:
        """The devices whose retained status says online."""
        with self._lock:
            return set(self._online)

    def run(self) -> None:
        demo = [OrderIntake.from_domain(o) for o in build_demo_site().orders]
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id="floor-demo-intake",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.connect_async(self.broker.host, self.broker.port)
        client.loop_start()
        try:
            deadline = time.monotonic() + self.wait_s
            while not self._halt.wait(0.2) and time.monotonic() < deadline:
                if self.colleagues <= self.online():
                    break
            first = True
            while not self._halt.is_set():
                wanted = self.backlog - self.to_pick()
                for _ in range(max(0, wanted if first else min(wanted, 1))):
                    if not self._send(client, demo):
                        break
                first = False
                self._halt.wait(self.every_s)
        finally:
            client.disconnect()
            client.loop_stop()

    def _send(self, client: mqtt.Client, demo: Sequence[OrderIntake]) -> bool:
        n = self._counter()
        order = nth_order(demo, n)
        info = client.publish(self.topics.orders_in, encode(order), qos=1)
        try:
            info.wait_for_publish(10)
        except (RuntimeError, ValueError) as exc:  # not connected, or the queue refused it
            log.warning("order %s not sent: %s", order.order_id, exc)
            return False
        if not info.is_published():
            log.warning("order %s not acknowledged by the broker", order.order_id)
            return False
        with self._lock:
            self._states.setdefault(order.order_id, OrderState.RECEIVED.value)
        self.counter_path.write_text(json.dumps({"next": n + 1}) + "\n")
        self.sent += 1
        log.info("order %s sent", order.order_id)
        return True

    def _counter(self) -> int:
        try:
            return int(json.loads(self.counter_path.read_text())["next"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    def _on_connect(
        self, client: mqtt.Client, _userdata: object, _flags: object, rc: object, _props: object
    ) -> None:
        client.subscribe(f"{self.topics.base}/dev/+/status", qos=1)
        client.subscribe(f"{self.topics.base}/orders/+/status", qos=1)

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        try:
            ref = parse_topic(msg.topic)
            if ref.kind is TopicKind.STATUS:
                status = decode(DeviceStatus, bytes(msg.payload))
                with self._lock:
                    if status.state == "online":
                        self._online.add(status.device_id)
                    else:
                        self._online.discard(status.device_id)
            elif ref.kind is TopicKind.ORDER_STATUS:
                order = decode(OrderStatus, bytes(msg.payload))
                with self._lock:
                    self._states[order.order_id] = str(order.state)
        except (TopicError, ProtocolError) as exc:
            log.warning("ignored a message on %s: %s", msg.topic, exc)
