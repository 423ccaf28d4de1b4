"""The running hub: one thread drives the MQTT link, one runs allocation.

The link thread drives the one :class:`~sync.mqtt.MqttLink` (MQTT 5, a session that
outlives the connection, so messages that arrive while the hub is down wait for it; its
own reconnect with backoff), and for every message runs the one transaction
:class:`~hub.receiver.Receiver` needs. Only after the commit does it publish the messages
the transaction wrote to the hub outbox and acknowledge the MQTT message (``manual_ack``).
The outbox row of a message is deleted once the broker acknowledged it; a row left behind
(a crash, a lost connection) is published again after the next connect and by a periodic
sweep. The device roster for the supervisors (:mod:`hub.roster`) is published after each
connect and whenever it changed (looked at every ``roster_every_s``).

Several workers may share one subscription (``shared_group``, ``$share/GROUP/...``): each
batch then locks its device's inbox cursor row, so a device's batches are applied one after
the other, in sequence order, whichever worker received them. A batch that arrives before
the one in front of it (the other worker is still applying that) is held back for a
moment before the device is asked to resend.

``FLOOR_HUB_CRASH_AFTER_COMMIT_PROB`` (0..1), for chaos tests: the process exits with
status 137 with that probability right after a commit, before publishing or acking.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from hub.metrics import HubMetrics
from hub.systemd_notify import ServiceNotifier
from sync.mqtt import (
    BrokerAddress,
    LinkDown,
    LinkEvent,
    LinkOptions,
    LinkUp,
    MqttLink,
    Published,
    Received,
    parse_broker_url,
)
from sync.protocol import Topics, encode, hub_client_id

from .allocation import AllocationSettings, allocate
from .counts import create_due
from .database import run_transaction
from .errors import DatabaseUnavailable
from .handlers import HandlerSettings
from .outbound import OutMessage, delete_outbox, pending_outbox
from .receiver import Receiver
from .roster import RosterPublisher, device_roster
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
    #: A connection attempt that has no CONNACK within this is abandoned.
    connect_timeout_s: float = 10.0
    backoff_min_s: float = 0.2
    backoff_max_s: float = 10.0
    #: Seconds between allocation passes (0: no allocation).
    allocate_every_s: float = 2.0
    #: Outbox rows older than this and not acknowledged by the broker are published again.
    outbox_sweep_s: float = 5.0
    #: Seconds between looks at the device roster (published when it changed).
    roster_every_s: float = 5.0
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
    message: Received
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
        self._link = self._make_link()
        self._incoming: deque[_Incoming] = deque()
        self._deferred: list[_Incoming] = []
        self._to_publish: deque[OutMessage] = deque()
        self._inflight: dict[int, int] = {}
        self._confirmed: list[int] = []
        self._next_cleanup = 0.0
        self._next_sweep = 0.0
        self._next_roster = 0.0
        self._roster = RosterPublisher()
        self._link_thread: threading.Thread | None = None
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
        self._link_thread = threading.Thread(target=self._run, name="hub-link", daemon=True)
        self._link_thread.start()
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
        self._link.wake()
        for thread in (self._allocator, self._link_thread):
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
        self._link.wake()

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

    def _make_link(self) -> MqttLink:
        s = self.settings
        options = LinkOptions(
            broker=self.address,
            ca_file=s.ca_file,
            cert_file=s.cert_file,
            key_file=s.key_file,
            keepalive_s=s.keepalive_s,
            session_expiry_s=s.session_expiry_s,
            connect_timeout_s=s.connect_timeout_s,
            backoff_min_s=s.backoff_min_s,
            backoff_max_s=s.backoff_max_s,
        )
        return MqttLink(
            options,
            client_id=hub_client_id(s.site, s.worker),
            subscriptions=self._subscriptions(),
            name=f"hub {s.worker}",
            manual_ack=True,
            max_inflight=1000,
        )

    def _run(self) -> None:
        log.info("hub %s connecting to %s", self.settings.worker, self.address.url)
        self._link.open()
        while not self._stop.is_set():
            try:
                self._tick()
            except DatabaseUnavailable as exc:
                log.error("hub: %s; reconnecting later", exc.reason)
                self.counts["database_errors"] += 1
                self._link.drop("database unavailable")
                self._stop.wait(self._link.backoff.next_delay())
            except Exception:
                log.exception("hub link error")
                self.counts["link_errors"] += 1
                self._link.drop("internal error")
                self._stop.wait(0.2)
        self._shutdown()

    def _tick(self) -> None:
        busy = bool(self._incoming or self._to_publish)
        self._handle_events(self._link.poll(0.0 if busy else 0.05))
        self._process_incoming()
        self._publish_pending()
        self._housekeeping()
        self.notifier.ping_if_due()

    def _subscriptions(self) -> list[str]:
        topics = self.topics.hub_subscriptions()
        group = self.settings.shared_group
        if group:
            shared = [f"$share/{group}/{t}" for t in topics if not t.endswith("/status")]
            return shared + [t for t in topics if t.endswith("/status")]
        return list(topics)

    def _handle_events(self, events: list[LinkEvent]) -> None:
        for event in events:
            if isinstance(event, Received):
                self._incoming.append(_Incoming(event))
            elif isinstance(event, Published):
                outbox_id = self._inflight.pop(event.mid, None)
                if outbox_id is not None:
                    self._confirmed.append(outbox_id)
            elif isinstance(event, LinkUp):
                self._online.set()
                log.info("hub %s online", self.settings.worker)
                self.notifier.ready(
                    f"serving site {self.settings.site} as worker {self.settings.worker}"
                )
                self._republish(time.time() + 1.0)
                self._roster.forget()
                self._next_roster = 0.0
            elif isinstance(event, LinkDown):
                self._online.clear()
                self._inflight.clear()
                self._incoming.clear()  # unacked: the broker delivers them again
                self._deferred.clear()

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
            message = item.message
            if not self._link.is_current(message):
                continue
            defer = (
                self.settings.shared_group is not None and item.attempts < self.settings.gap_retries
            )
            handled = receiver.handle(message.topic, message.payload, defer_gaps=defer)
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
            self._link.ack(message)

    def _publish(self, messages: list[OutMessage]) -> None:
        for m in messages:
            mid = self._link.publish(m.topic, m.payload, qos=1, retain=m.retain)
            if mid is None:
                return  # no connection: the outbox rows stay and are published after the next
            if m.outbox_id is not None:
                self._inflight[mid] = m.outbox_id
            self.counts["published"] += 1

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
        if self._online.is_set() and now >= self._next_roster:
            self._next_roster = now + self.settings.roster_every_s
            self._publish_roster()

    def _publish_roster(self) -> None:
        """Publish the device roster (retained) if it changed since it was last published."""
        assert self.engine is not None
        at = time.time()
        roster = run_transaction(self.engine, lambda c: device_roster(c, at), what="roster")
        if self._roster.due(roster):
            self._publish([OutMessage(self.topics.devices, encode(roster), retain=True)])

    def _shutdown(self) -> None:
        self.notifier.stopping("finishing and disconnecting")
        if self._link.online:
            self._publish_pending()
            for event in self._link.drain(2.0, list(self._inflight)):
                if isinstance(event, Published):
                    self._handle_events([event])
        self._link.close()
        if self._confirmed and self.engine is not None:
            done = self._confirmed
            try:
                run_transaction(self.engine, lambda c: delete_outbox(c, done), what="outbox")
            except Exception:
                log.exception("hub: acknowledged rows stay in the outbox until the next start")
        self._online.clear()
        log.info("hub %s stopped", self.settings.worker)
