"""The supervisor's live view of the whole site, over MQTT.

:class:`MqttSupervisorFeed` is a :class:`~floor_app.services.supervision.SupervisorFeed`
that adds what the broker knows to what the supervisor device's own store knows:

* **devices**: every device's retained ``dev/{device}/status`` (:class:`DeviceStatus`:
  online or offline, the connection epoch, and the heartbeat's health: devices, user,
  outbox depth and age). Per device the highest epoch wins, so a late will of an older
  connection ("offline") never hides a newer "online"; within one epoch the latest message
  wins (the will comes after that connection's heartbeats). An "online" whose heartbeat is
  older than ``stale_after_s`` shows as unknown. This device's own row comes from the
  local store (it knows its task and last scan).
* **waiting per stage** and **throughput**: every order's retained ``orders/{order}/status``
  (:class:`OrderStatus`; per order the highest version wins), merged with the orders of the
  local store (a local row with a higher version wins: a decision taken here and not yet
  published back). Orders packed and labelled in the last hour come from the statuses;
  units picked and the per-person figures only the local outbox knows.
* **exceptions**, the pickers and the **decisions** (approve short, release hold, reassign)
  are :class:`LocalSupervisorFeed`'s: each decision is one unit of work that records a
  claim in this device's outbox, which the sync agent sends to the hub. The exceptions also
  list every retained ``counts/{count}/difference`` (:class:`CountDifference`: stock an
  accepted count adjusted) until it comes back acknowledged; acknowledging one records a
  ``count.acknowledged`` fact the same way; and every order the hub published as held that
  this device does not hold (an order the hub held itself, e.g. no carrier service for its
  destination), with the hub's reason: releasing it records ``order.released`` with the
  version of that status.

One thread owns the feed's own paho client (never the sync agent's): MQTT 5, a clean
session (the retained topics are re-read on every connection), TCP_NODELAY, its own
reconnect with backoff. paho callbacks only append to a queue and never raise; messages are
applied on the same thread, and the UI thread reads a snapshot under a lock. A message that
fails validation is counted (``bad_input``), never applied.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy import select

from floor_app.domain.errors import DomainError
from floor_app.domain.events import HoldReleased
from floor_app.domain.order import OrderState
from floor_app.services.supervision import (
    BACKLOG_STATES,
    THROUGHPUT_WINDOW_S,
    Clock,
    CountDifferenceSeen,
    DevicePresence,
    FloorException,
    LocalSupervisorFeed,
    StageBacklog,
    Throughput,
)
from floor_app.store import Store
from floor_app.store.tables import OrderRow
from sync.device.backoff import Backoff
from sync.device.settings import BrokerAddress
from sync.protocol import (
    CountDifference,
    DeviceStatus,
    OrderStatus,
    ProtocolError,
    Topics,
    decode,
)
from sync.protocol.topics import TopicError, TopicKind, check_level

log = logging.getLogger("floor.sync.supervisor_feed")

#: An "online" whose last heartbeat is older than this is shown as unknown.
STALE_AFTER_S = 90.0

#: Order states that count as a stage reached, for the throughput view.
_STAGE_REACHED = {OrderState.PACKED.value: "pack", OrderState.LABELLED.value: "label"}


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """Where the feed connects and how it paces itself."""

    broker: BrokerAddress
    site: str
    #: The MQTT client id; default ``floor-{site}-{device}-supervisor``.
    client_id: str = ""
    keepalive_s: int = 15
    connect_timeout_s: float = 10.0
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    stale_after_s: float = STALE_AFTER_S
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0


class MqttSupervisorFeed(LocalSupervisorFeed):
    """The supervisor feed of a site over MQTT (see the module docstring). Thread-safe."""

    def __init__(
        self,
        store: Store,
        own: Callable[[], DevicePresence],
        settings: FeedSettings,
        *,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(store, own, clock=clock)
        self.settings = settings
        self.topics = Topics(settings.site)
        self.device_id = store.device_id if hasattr(store, "device_id") else ""
        self._lock = threading.Lock()
        self._statuses: dict[str, DeviceStatus] = {}
        self._orders: dict[str, OrderStatus] = {}
        self._counts: dict[int, CountDifference] = {}
        self._reached: dict[tuple[str, str], float] = {}  # (order, stage) -> when
        self._bad: collections.Counter[str] = collections.Counter()
        self._events: collections.deque[tuple[Any, ...]] = collections.deque()
        self._online = False
        self._last_error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: mqtt.Client | None = None
        self._conn = 0
        self._sub_mid: int | None = None
        self._backoff = Backoff(settings.reconnect_min_s, settings.reconnect_max_s)
        self._next_attempt = 0.0
        self._connect_deadline = 0.0

    # -- lifecycle (any thread) -----------------------------------------------------------

    def start(self) -> None:
        """Connect and follow the site in a thread of its own."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="supervisor-feed", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Disconnect and stop the thread; idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def online(self) -> bool:
        """Connected and subscribed."""
        with self._lock:
            return self._online

    @property
    def last_error(self) -> str:
        """Why the feed is not connected, if it is not."""
        with self._lock:
            return self._last_error

    @property
    def bad_input(self) -> dict[str, int]:
        """Messages refused, by reason."""
        with self._lock:
            return dict(self._bad)

    def wait(self, check: Callable[[MqttSupervisorFeed], bool], timeout: float) -> bool:
        """Wait until ``check(self)`` holds (tests and tools); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check(self):
                return True
            time.sleep(0.02)
        return check(self)

    # -- the views (UI thread) ------------------------------------------------------------

    def devices(self) -> list[DevicePresence]:
        own = self._own()
        now = self.clock()
        with self._lock:
            statuses = dict(self._statuses)
        rows = {own.device_id: own}
        for device_id, status in statuses.items():
            if device_id == own.device_id:
                continue
            rows[device_id] = self._presence(status, now)
        return [rows[d] for d in sorted(rows)]

    def _presence(self, status: DeviceStatus, now: float) -> DevicePresence:
        health = status.health
        online: bool | None = status.state == "online"
        if online and now - status.at > self.settings.stale_after_s:
            online = None
        if health is None:
            return DevicePresence(status.device_id, online)
        return DevicePresence(
            device_id=status.device_id,
            online=online,
            user=health.user,
            outbox_depth=health.outbox_depth,
            oldest_unsent_age_s=health.oldest_unsent_age_s,
            health=dict(health.devices),
        )

    def exceptions(self) -> list[FloorException]:
        out = super().exceptions()
        now = self.clock()
        with self._lock:
            held = [o for o in self._orders.values() if o.state == OrderState.HELD.value]
        if not held:
            return out
        with self.store.read() as session:
            ids = [o.order_id for o in held]
            local = set(
                session.scalars(select(OrderRow.order_id).where(OrderRow.order_id.in_(ids)))
            )
        out += [
            FloorException(
                f"held:{o.order_id}",
                "held",
                o.order_id,
                o.reason or "held",
                max(0.0, now - o.at),
                ("release",),
            )
            for o in held
            if o.order_id not in local
        ]
        out.sort(key=lambda e: -e.age_s)
        return out

    def release_hold(self, order_id: str, by: str) -> None:
        with self.store.read() as session:
            here = session.get(OrderRow, order_id) is not None
        if here:
            super().release_hold(order_id, by)
            return
        with self._lock:
            status = self._orders.get(order_id)
        if status is None or status.state != OrderState.HELD.value:
            raise DomainError(f"order {order_id} is not held")
        with self.store.unit_of_work() as uow:
            event = HoldReleased(order=order_id, user=by, order_version=status.version)
            uow.emit(event, order_version=status.version)
            uow.commit()

    def bottlenecks(self) -> list[StageBacklog]:
        now = self.clock()
        with self._lock:
            remote = {o.order_id: (o.state, o.version, o.at) for o in self._orders.values()}
        if not remote:
            return super().bottlenecks()
        merged: dict[str, tuple[str, float]] = {}
        local_versions: dict[str, int] = {}
        with self.store.read() as session:
            rows = session.execute(
                select(OrderRow.order_id, OrderRow.state, OrderRow.version, OrderRow.updated_at)
            )
            for order_id, state, version, updated in rows:
                merged[order_id] = (str(state), float(updated))
                local_versions[order_id] = int(version)
        for order_id, (state, version, at) in remote.items():
            if version >= local_versions.get(order_id, -1):
                merged[order_id] = (str(state), at)
        waiting: dict[str, list[float]] = collections.defaultdict(list)
        for state, since in merged.values():
            waiting[state].append(since)
        out = []
        for backlog_state in BACKLOG_STATES:
            times = waiting.get(backlog_state.value, [])
            oldest = max(0.0, now - min(times)) if times else 0.0
            out.append(StageBacklog(backlog_state.value, len(times), oldest))
        return out

    def throughput(self) -> Throughput:
        local = super().throughput()
        since = self.clock() - THROUGHPUT_WINDOW_S
        with self._lock:
            reached = collections.Counter(
                stage for (_, stage), at in self._reached.items() if at >= since
            )
        per_stage = dict(local.per_stage)
        for stage, n in reached.items():
            per_stage[stage] = max(per_stage.get(stage, 0), n)
        return replace(local, per_stage=per_stage)

    # -- the thread -----------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception as exc:  # the thread must survive anything
                log.exception("supervisor feed error")
                self._drop(f"internal error: {exc!r}")
                time.sleep(0.2)
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.disconnect()
                client.loop(0.1)
            self._close(client)
        self._set_online(False)

    def _tick(self) -> None:
        now = time.monotonic()
        if self._client is None:
            if now >= self._next_attempt:
                self._connect()
            else:
                self._stop.wait(min(0.2, self._next_attempt - now))
                return
        client = self._client
        if client is None:
            return
        client.loop(timeout=0.1)
        self._handle_events()
        if self._client is not None and not self.online and now > self._connect_deadline:
            self._drop("no answer from the broker (CONNACK timeout)")

    def _connect(self) -> None:
        s = self.settings
        self._conn += 1
        conn = self._conn
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=s.client_id or f"floor-{s.site}-{self.device_id or 'sup'}-supervisor",
            protocol=MQTTProtocolVersion.MQTTv5,
            reconnect_on_failure=False,
        )
        client.connect_timeout = s.connect_timeout_s
        client.suppress_exceptions = True
        if s.broker.username is not None:
            client.username_pw_set(s.broker.username, s.broker.password)
        if s.broker.tls:
            client.tls_set(ca_certs=s.ca_file, certfile=s.cert_file, keyfile=s.key_file)
        client.on_connect = self._guard(
            lambda c, u, flags, rc, props: self._events.append(
                ("connack", conn, rc.is_failure, str(rc))
            )
        )
        client.on_disconnect = self._guard(
            lambda c, u, flags, rc, props: self._events.append(("disconnect", conn, str(rc)))
        )
        client.on_subscribe = self._guard(
            lambda c, u, mid, codes, props: self._events.append(
                ("suback", conn, mid, [code.is_failure for code in codes])
            )
        )
        client.on_message = self._guard(
            lambda c, u, msg: self._events.append(("message", conn, msg.topic, bytes(msg.payload)))
        )
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 0  # a reader: the retained topics are read afresh
        try:
            client.connect(
                s.broker.host,
                s.broker.port,
                keepalive=s.keepalive_s,
                clean_start=True,
                properties=props,
            )
        except (OSError, ssl.SSLError, ValueError) as exc:
            self._close(client)
            self._drop(f"cannot reach the broker at {s.broker.host}:{s.broker.port}: {exc}")
            return
        sock = client.socket()
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._client = client
        self._connect_deadline = time.monotonic() + s.connect_timeout_s

    def _guard(self, callback: Callable[..., None]) -> Callable[..., None]:
        def guarded(*args: Any) -> None:
            try:
                callback(*args)
            except Exception:
                log.exception("paho callback failed")

        return guarded

    def _drop(self, reason: str) -> None:
        client, self._client = self._client, None
        if client is not None:
            self._close(client)
        self._sub_mid = None
        self._set_online(False)
        with self._lock:
            self._last_error = reason
        self._next_attempt = time.monotonic() + self._backoff.next_delay()
        log.info("supervisor feed: %s", reason)

    @staticmethod
    def _close(client: mqtt.Client) -> None:
        sock = client.socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def _set_online(self, online: bool) -> None:
        with self._lock:
            self._online = online
            if online:
                self._last_error = ""

    def _handle_events(self) -> None:
        while self._events:
            event = self._events.popleft()
            kind, conn = event[0], event[1]
            if conn != self._conn or self._client is None:
                continue
            if kind == "connack":
                if event[2]:
                    self._drop(f"the broker refused the connection: {event[3]}")
                    return
                self._subscribe()
            elif kind == "disconnect":
                self._drop(f"connection lost ({event[2]})")
                return
            elif kind == "suback" and event[2] == self._sub_mid:
                if any(event[3]):
                    self._drop("the broker refused a subscription (check the ACL)")
                    return
                self._backoff.reset()
                self._set_online(True)
            elif kind == "message":
                self._on_message(event[2], event[3])

    def _subscribe(self) -> None:
        assert self._client is not None
        base = self.topics.base
        options = SubscribeOptions(qos=1)
        topics = [
            (f"{base}/dev/+/status", options),
            (f"{base}/orders/+/status", options),
            (f"{base}/counts/+/difference", options),
        ]
        rc, mid = self._client.subscribe(topics)
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            self._drop(f"cannot subscribe ({rc})")
            return
        self._sub_mid = mid

    # -- applying messages (the feed's thread) --------------------------------------------

    def _on_message(self, topic: str, payload: bytes) -> None:
        if not payload:
            return  # a retained topic being cleared
        try:
            ref = self.topics.parse(topic)
            if ref.kind is TopicKind.STATUS and ref.device_id is not None:
                self.apply_status(ref.device_id, decode(DeviceStatus, payload))
            elif ref.kind is TopicKind.ORDER_STATUS and ref.order_id is not None:
                self.apply_order(ref.order_id, decode(OrderStatus, payload))
            elif ref.kind is TopicKind.COUNT_DIFFERENCE and ref.count_id is not None:
                self.apply_count_difference(ref.count_id, decode(CountDifference, payload))
            else:
                self._count("unexpected_topic")
        except ProtocolError as exc:
            self._count(exc.code)
            log.warning("supervisor feed: bad message on %s: %s", topic, exc.reason)
        except TopicError:
            self._count("bad_topic")

    def _count(self, reason: str) -> None:
        with self._lock:
            self._bad[reason] += 1

    def apply_status(self, topic_device: str, status: DeviceStatus) -> bool:
        """Take one device status; False when refused or older than what is known."""
        if status.device_id != check_level(topic_device, "device id"):
            self._count("device_mismatch")
            return False
        with self._lock:
            known = self._statuses.get(status.device_id)
            if known is not None and status.epoch < known.epoch:
                return False  # a stale will (or heartbeat) of an older connection
            self._statuses[status.device_id] = status
            return True

    def apply_order(self, topic_order: str, status: OrderStatus) -> bool:
        """Take one order status; False when refused or older than what is known."""
        if status.order_id != topic_order:
            self._count("order_mismatch")
            return False
        with self._lock:
            known = self._orders.get(status.order_id)
            if known is not None and status.version < known.version:
                return False
            self._orders[status.order_id] = status
            stage = _STAGE_REACHED.get(str(status.state))
            if stage is not None:
                self._reached.setdefault((status.order_id, stage), status.at)
            return True

    def apply_count_difference(self, topic_count: str, diff: CountDifference) -> bool:
        """Take one count difference (new, or republished acknowledged); False if refused."""
        if str(diff.count_id) != topic_count:
            self._count("count_mismatch")
            return False
        with self._lock:
            known = self._counts.get(diff.count_id)
            if known is not None and known.acknowledged_by and not diff.acknowledged_by:
                return False  # an acknowledgement is never undone
            self._counts[diff.count_id] = diff
            return True

    def count_difference(self, count_id: int) -> CountDifference | None:
        """The newest message of one count difference, if any arrived."""
        with self._lock:
            return self._counts.get(count_id)

    def count_differences(self) -> list[CountDifferenceSeen]:
        with self._lock:
            waiting = [d for d in self._counts.values() if not d.acknowledged_by]
        return [
            CountDifferenceSeen(
                d.count_id, d.location, d.sku, d.expected, d.counted, d.user, d.reason, d.at
            )
            for d in sorted(waiting, key=lambda d: d.count_id)
        ]
