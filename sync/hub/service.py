"""The running hub: one thread owns the MQTT client, one runs allocation.

The link thread connects (MQTT 5, ``clean_start=False`` and a session expiry, so messages
that arrive while the hub is down wait for it), subscribes, and for every message runs the
one transaction :class:`~sync.hub.receiver.Receiver` needs. Only after the commit does it
publish the messages the transaction wrote to the hub outbox and acknowledge the MQTT
message (``manual_ack``). The outbox row of a message is deleted once the broker
acknowledged it; a row left behind (a crash, a lost connection) is published again after
the next connect and by a periodic sweep. Reconnecting is ours: exponential backoff with
jitter. paho callbacks only enqueue, and are wrapped so an exception cannot kill the loop.

Several workers may share one subscription (``shared_group``, ``$share/GROUP/...``): each
batch then locks its device's inbox cursor row, so a device's batches are applied one after
the other, in sequence order, whichever worker received them. A batch that arrives before
the one in front of it (the other worker is still applying that) is held back for a
moment before the device is asked to resend.

``FLOOR_HUB_CRASH_AFTER_COMMIT_PROB`` (0..1), for chaos tests: the process exits with
status 137 with that probability right after a commit, before publishing or acking.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import ssl
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine

from sync.device.backoff import Backoff
from sync.device.settings import BrokerAddress, parse_broker_url
from sync.metrics import HubMetrics
from sync.protocol import Topics, hub_client_id
from sync.systemd_notify import ServiceNotifier

from .allocation import AllocationSettings, allocate
from .counts import create_due
from .database import run_transaction
from .errors import DatabaseUnavailable
from .handlers import HandlerSettings
from .outbound import OutMessage, delete_outbox, pending_outbox
from .receiver import Receiver
from .setup import open_database
from .stats import hub_stats

log = logging.getLogger("floor.hub")

CRASH_ENV = "FLOOR_HUB_CRASH_AFTER_COMMIT_PROB"


def crash_probability(env: dict[str, str] | None = None) -> float:
    """The crash-after-commit probability from the environment (0 when unset or invalid)."""
    raw = (env if env is not None else os.environ).get(CRASH_ENV, "")
    try:
        value = float(raw) if raw else 0.0
    except ValueError:
        return 0.0
    return min(1.0, max(0.0, value))


@dataclass(frozen=True, slots=True)
class HubSettings:
    """How the hub connects, allocates and applies."""

    site: str = "dc1"
    #: Worker name: part of the MQTT client id (``floor-hub-{site}-{worker}``).
    worker: str = "1"
    #: Share the subscriptions with other workers (``$share/{group}/...``); None: alone.
    shared_group: str | None = None
    keepalive_s: int = 30
    session_expiry_s: int = 24 * 3600
    backoff_min_s: float = 0.2
    backoff_max_s: float = 10.0
    #: Seconds between allocation passes (0: no allocation).
    allocate_every_s: float = 2.0
    #: Outbox rows older than this and not acknowledged by the broker are published again.
    outbox_sweep_s: float = 5.0
    #: With a shared subscription: how often a batch behind a gap is retried before asking
    #: the device to resend, and the pause between tries.
    gap_retries: int = 10
    gap_retry_s: float = 0.05
    crash_after_commit_prob: float = 0.0
    allocation: AllocationSettings = field(default_factory=AllocationSettings)
    handlers: HandlerSettings = field(default_factory=HandlerSettings)
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


@dataclass
class _Incoming:
    conn: int
    topic: str
    payload: bytes
    mid: int
    qos: int
    attempts: int = 0
    due: float = 0.0


class Hub:
    """The hub service: ``Hub(db, broker_url, settings).start()`` ... ``.stop()``."""

    def __init__(
        self,
        db: str,
        broker_url: str,
        settings: HubSettings | None = None,
        *,
        engine: Engine | None = None,
        metrics: HubMetrics | None = None,
        notifier: ServiceNotifier | None = None,
    ) -> None:
        self.settings = settings or HubSettings()
        self.metrics = metrics
        self.notifier = notifier or ServiceNotifier.from_environment()
        self.db = db
        self.address: BrokerAddress = parse_broker_url(broker_url)
        self.topics = Topics(self.settings.site)
        self.engine = engine
        self.receiver: Receiver | None = None
        self.counts: Counter[str] = Counter()
        self._stop = threading.Event()
        self._online = threading.Event()
        self._client: mqtt.Client | None = None
        self._conn = 0
        self._sub_mid: int | None = None
        self._events: deque[tuple[Any, ...]] = deque()
        self._incoming: deque[_Incoming] = deque()
        self._deferred: list[_Incoming] = []
        self._to_publish: deque[OutMessage] = deque()
        self._inflight: dict[int, int] = {}
        self._confirmed: list[int] = []
        self._next_attempt = 0.0
        self._next_cleanup = 0.0
        self._next_sweep = 0.0
        self._backoff = Backoff(self.settings.backoff_min_s, self.settings.backoff_max_s)
        self._link: threading.Thread | None = None
        self._allocator: threading.Thread | None = None
        self._crash = self.settings.crash_after_commit_prob

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, *, wait_online: float | None = None) -> Hub:
        """Open the database (migrating it), start the threads; optionally wait until online."""
        if self.engine is None:
            self.engine = open_database(self.db, self.settings.site)
        self.receiver = Receiver(
            self.engine, self.settings.site, settings=self.settings.handlers, metrics=self.metrics
        )
        self._link = threading.Thread(target=self._run, name="hub-link", daemon=True)
        self._link.start()
        if self.settings.allocate_every_s > 0:
            self._allocator = threading.Thread(
                target=self._allocate_loop, name="hub-allocation", daemon=True
            )
            self._allocator.start()
        if wait_online is not None and not self._online.wait(wait_online):
            raise DatabaseUnavailable(
                f"the hub could not connect to the broker at {self.address.url} "
                f"within {wait_online:.0f}s"
            )
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the message in hand, publish what is committed, disconnect."""
        self._stop.set()
        for thread in (self._allocator, self._link):
            if thread is not None:
                thread.join(timeout)

    def wait_online(self, timeout: float) -> bool:
        """Wait until connected and subscribed."""
        return self._online.wait(timeout)

    @property
    def online(self) -> bool:
        """True while connected and subscribed."""
        return self._online.is_set()

    def publish_later(self, messages: list[OutMessage]) -> None:
        """Queue committed messages (from another thread) for the link thread to publish."""
        self._to_publish.extend(messages)

    # -- allocation thread ---------------------------------------------------------------

    def _allocate_loop(self) -> None:
        assert self.engine is not None
        next_counts = time.monotonic()
        while not self._stop.wait(self.settings.allocate_every_s):
            due_every = self.settings.handlers.counts.due_every_s
            if due_every > 0 and time.monotonic() >= next_counts:
                next_counts = time.monotonic() + due_every
                self._count_due()
            try:
                report = allocate(
                    self.engine, self.settings.site, settings=self.settings.allocation
                )
            except Exception:
                log.exception("allocation pass failed")
                continue
            if report.messages:
                self.publish_later(report.messages)
            if self.metrics is not None:
                self._count_orders()
            if report.tasks or report.assigned or report.reserved:
                log.info(
                    "allocation: %d orders reserved, %d tasks made, %d leased",
                    len(report.reserved),
                    len(report.tasks),
                    len(report.assigned),
                )

    def _count_due(self) -> None:
        """The ABC pass: counts of the places due (leased by the next allocation pass)."""
        assert self.engine is not None
        settings = self.settings.handlers.counts
        try:
            made = run_transaction(
                self.engine, lambda c: create_due(c, settings), what="counts due"
            )
        except Exception:
            log.exception("count pass failed")
            return
        if made:
            log.info("counts: %d places due for a cycle count", len(made))

    def _count_orders(self) -> None:
        assert self.engine is not None and self.metrics is not None
        try:
            figures = run_transaction(self.engine, hub_stats, what="stats")
        except Exception:
            log.exception("counting orders for the metrics failed")
            return
        self.metrics.orders_by_state(figures["orders"])

    # -- link thread ---------------------------------------------------------------------

    def _run(self) -> None:
        log.info("hub %s connecting to %s", self.settings.worker, self.address.url)
        while not self._stop.is_set():
            try:
                self._tick()
            except DatabaseUnavailable as exc:
                log.error("hub: %s; reconnecting later", exc.reason)
                self.counts["database_errors"] += 1
                self._drop("database unavailable")
                self._stop.wait(self._backoff.next_delay())
            except Exception:
                log.exception("hub link error")
                self.counts["link_errors"] += 1
                self._drop("internal error")
                self._stop.wait(0.2)
        self._shutdown()

    def _tick(self) -> None:
        now = time.monotonic()
        if self._client is None and now >= self._next_attempt:
            self._connect()
        client = self._client
        busy = bool(self._incoming or self._to_publish or self._events)
        if client is not None:
            rc = client.loop(timeout=0.0 if busy else 0.05)
            if rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_AGAIN):
                self._drop(f"connection lost ({rc.name})")
        else:
            self._stop.wait(0.05)
        self._handle_events()
        self._process_incoming()
        self._publish_pending()
        self._housekeeping()
        self.notifier.ping_if_due()

    def _connect(self) -> None:
        s = self.settings
        self._conn += 1
        conn = self._conn
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=hub_client_id(s.site, s.worker),
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
            reconnect_on_failure=False,
        )
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        client.suppress_exceptions = True
        if self.address.username is not None:
            client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            client.tls_set(
                ca_certs=str(s.ca_file) if s.ca_file else None,
                certfile=str(s.cert_file) if s.cert_file else None,
                keyfile=str(s.key_file) if s.key_file else None,
            )
        client.on_connect = self._guard(
            lambda c, u, flags, rc, props: self._events.append(("connack", conn, rc))
        )
        client.on_disconnect = self._guard(
            lambda c, u, flags, rc, props: self._events.append(("disconnect", conn, rc))
        )
        client.on_subscribe = self._guard(
            lambda c, u, mid, codes, props: self._events.append(("suback", conn, mid, codes))
        )
        client.on_publish = self._guard(
            lambda c, u, mid, rc, props: self._events.append(("puback", conn, mid))
        )
        client.on_message = self._guard(
            lambda c, u, msg: self._incoming.append(
                _Incoming(conn, msg.topic, bytes(msg.payload), msg.mid, msg.qos)
            )
        )
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = s.session_expiry_s
        try:
            client.connect(
                self.address.host,
                self.address.port,
                keepalive=s.keepalive_s,
                clean_start=False,
                properties=props,
            )
        except (OSError, ssl.SSLError, ValueError) as exc:
            log.warning("hub: cannot reach the broker at %s: %s", self.address.url, exc)
            self._next_attempt = time.monotonic() + self._backoff.next_delay()
            return
        sock = client.socket()
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._client = client

    def _guard(self, callback: Any) -> Any:
        def guarded(*args: Any) -> None:
            try:
                callback(*args)
            except Exception:
                self.counts["callback_errors"] += 1
                log.exception("paho callback failed")

        return guarded

    def _subscriptions(self) -> list[tuple[str, int]]:
        topics = self.topics.hub_subscriptions()
        group = self.settings.shared_group
        if group:
            shared = [f"$share/{group}/{t}" for t in topics if not t.endswith("/status")]
            return [(t, 1) for t in shared] + [(t, 1) for t in topics if t.endswith("/status")]
        return [(t, 1) for t in topics]

    def _handle_events(self) -> None:
        while self._events:
            event = self._events.popleft()
            kind, conn = event[0], event[1]
            if conn != self._conn or self._client is None:
                continue
            if kind == "connack":
                if event[2].is_failure:
                    self._drop(f"the broker refused the connection: {event[2]}")
                    continue
                _result, mid = self._client.subscribe(self._subscriptions())
                self._sub_mid = mid
            elif kind == "suback":
                if any(code.is_failure for code in event[3]):
                    self._drop(f"the broker refused a subscription: {event[3]}")
                    continue
                self._backoff.reset()
                self._online.set()
                log.info("hub %s online", self.settings.worker)
                self.notifier.ready(
                    f"serving site {self.settings.site} as worker {self.settings.worker}"
                )
                self._republish(time.time() + 1.0)
            elif kind == "disconnect":
                self._drop(f"connection lost ({event[2]})")
            elif kind == "puback":
                outbox_id = self._inflight.pop(event[2], None)
                if outbox_id is not None:
                    self._confirmed.append(outbox_id)

    def _drop(self, reason: str) -> None:
        client, self._client = self._client, None
        self._online.clear()
        self._inflight.clear()
        self._incoming.clear()  # unacked: the broker delivers them again after reconnecting
        self._deferred.clear()
        if client is not None:
            log.info("hub %s: %s", self.settings.worker, reason)
            sock = client.socket()
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
            with contextlib.suppress(Exception):
                client._reset_sockets()
        self._next_attempt = time.monotonic() + self._backoff.next_delay()

    # -- messages ------------------------------------------------------------------------

    def _process_incoming(self) -> None:
        now = time.monotonic()
        if self._deferred:
            due = [d for d in self._deferred if d.due <= now]
            self._deferred = [d for d in self._deferred if d.due > now]
            self._incoming.extendleft(reversed(due))
        receiver = self.receiver
        assert receiver is not None
        while self._incoming and not self._stop.is_set():
            item = self._incoming.popleft()
            if item.conn != self._conn or self._client is None:
                continue
            defer = (
                self.settings.shared_group is not None and item.attempts < self.settings.gap_retries
            )
            handled = receiver.handle(item.topic, item.payload, defer_gaps=defer)
            if handled.deferred:
                item.attempts += 1
                item.due = time.monotonic() + self.settings.gap_retry_s * item.attempts
                self._deferred.append(item)
                continue
            if handled.committed and self._crash and random.random() < self._crash:
                sys.stderr.write("floor-hub: crash hook: exiting after commit, before ack\n")
                sys.stderr.flush()
                os._exit(137)
            self._publish(handled.messages)
            self.counts["messages"] += 1
            if item.qos > 0 and self._client is not None and item.conn == self._conn:
                self._client.ack(item.mid, item.qos)

    def _publish(self, messages: list[OutMessage]) -> None:
        client = self._client
        if client is None:
            return  # the outbox rows stay and are published after the next connect
        for m in messages:
            info = client.publish(m.topic, m.payload, qos=1, retain=m.retain)
            if m.outbox_id is not None:
                self._inflight[info.mid] = m.outbox_id
        self.counts["published"] += len(messages)

    def _publish_pending(self) -> None:
        if not self._to_publish or not self._online.is_set():
            return
        batch = []
        while self._to_publish:
            batch.append(self._to_publish.popleft())
        self._publish(batch)

    def _republish(self, older_than: float) -> None:
        """Publish outbox rows committed before ``older_than`` that the broker has not
        acknowledged (after a crash or a lost connection)."""
        assert self.engine is not None
        skip = set(self._inflight.values()) | set(self._confirmed)
        rows = run_transaction(
            self.engine, lambda c: pending_outbox(c, older_than, limit=5000), what="outbox"
        )
        fresh = [m for m in rows if m.outbox_id not in skip]
        if fresh:
            log.info("hub: publishing %d outbox messages again", len(fresh))
            self.counts["republished"] += len(fresh)
            self._publish(fresh)

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if self._confirmed and (now >= self._next_cleanup or len(self._confirmed) > 2000):
            done, self._confirmed = self._confirmed, []
            assert self.engine is not None
            run_transaction(self.engine, lambda c: delete_outbox(c, done), what="outbox")
            self._next_cleanup = now + 0.5
        if self._online.is_set() and now >= self._next_sweep:
            self._next_sweep = now + self.settings.outbox_sweep_s
            self._republish(time.time() - self.settings.outbox_sweep_s)

    def _shutdown(self) -> None:
        self.notifier.stopping("finishing and disconnecting")
        client = self._client
        if client is not None:
            self._publish_pending()
            deadline = time.monotonic() + 2.0
            while self._inflight and time.monotonic() < deadline:
                client.loop(timeout=0.05)
                self._handle_events()
            with contextlib.suppress(Exception):
                client.disconnect()
                client.loop(timeout=0.1)
        if self._confirmed and self.engine is not None:
            done = self._confirmed
            with contextlib.suppress(Exception):
                run_transaction(self.engine, lambda c: delete_outbox(c, done), what="outbox")
        self._client = None
        self._online.clear()
        log.info("hub %s stopped", self.settings.worker)
