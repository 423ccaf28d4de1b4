"""The device sync agent: one thread drives the one MQTT link and syncs the store with the hub.

The agent is small: it owns the thread and the :class:`~sync.mqtt.MqttLink` (MQTT 5, a
session that outlives the connection, a will per attempt, its own reconnect with backoff),
and hands each message to one of its parts, all on its thread:

* :class:`~.sender.OutboxSender`: the outbox in sequence order, in batches and windows,
  the hub's acks, resend requests, refused claims and rejected events;
* :class:`~.push_stream.PushStream`: the hub's pushes applied in cursor order, held back
  behind a gap, acknowledged to the broker after their commit;
* :class:`~.presence.Presence`: the retained status with health, the heartbeat, the will.

On every connection: the retained ``online`` status, a :class:`SyncRequest` with the push
cursor, and the outbox again from the last acknowledged sequence. Bad input from the broker
is counted, dead-lettered where the protocol says, and never stops the thread.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable

from paho.mqtt.client import topic_matches_sub

from floor_app.hub_sync import DeviceSync, StaleStore, SyncStatus
from floor_app.store import Store, StoreError
from sync.mqtt import LinkDown, LinkUp, MqttLink, Received
from sync.protocol import SyncRequest, Topics, device_client_id, encode

from .core import AgentCore
from .diagnostics import Diagnostics
from .options import AgentOptions
from .presence import BatteryLevel, DeviceHealth, Presence
from .push_stream import SYNC_REQUEST_INTERVAL_S, PushStream
from .sender import OutboxSender, stale_news

log = logging.getLogger("floor.sync.device")


class SyncAgent(DeviceSync):
    """Syncs one device's store with the hub. Thread-safe API; see the module docstring."""

    def __init__(
        self,
        store: Store,
        options: AgentOptions,
        *,
        device_health: DeviceHealth | None = None,
        battery: BatteryLevel | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.options = options
        self.device_id = store.device_id
        self.topics = Topics(options.site)
        self.link = MqttLink(
            options.link,
            client_id=device_client_id(options.site, self.device_id),
            subscriptions=self.topics.device_subscriptions(self.device_id),
            name=f"sync {self.device_id}",
            manual_ack=True,
            max_inflight=100,
        )
        self.diag = Diagnostics(self.link, self.topics, self.device_id)
        core = AgentCore(store, self.link, options, self.diag, self)
        self.sender = OutboxSender(core, self._request_sync)
        self.stream = PushStream(core, functools.partial(self._request_sync, gap=True))
        self.presence = Presence(
            core, self.sender, self.stream, device_health=device_health, battery=battery
        )
        self.link.will = self.presence.next_will
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._commit_hooked = False
        self._last_sync_request = 0.0
        #: other readers on this device's one connection: (subscriptions, handler)
        self._followers: list[tuple[list[str], Callable[[str, bytes], None]]] = []

    # -- public API (any thread) ----------------------------------------------------------

    def follow(self, subscriptions: list[str], handler: Callable[[str, bytes], None]) -> None:
        """Also read ``subscriptions`` on this device's connection and hand each message to
        ``handler(topic, payload)`` on the agent thread (the supervisor's feed): a device
        holds one connection, so the broker can bind its client id to its identity. Call it
        before :meth:`start`."""
        if self._thread is not None:
            raise RuntimeError("follow() must be called before the agent starts")
        self.link.subscriptions.extend(subscriptions)
        self._followers.append((list(subscriptions), handler))

    def start(self) -> None:
        """Start the agent thread (a no-op if it runs)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self.sender.load()
            self.stream.load()
            self.presence.load()
            if not self._commit_hooked:
                self.store.on_commit(self.sender.on_commit)
                self._commit_hooked = True
            self._stop.clear()
            self.link.open()
            self._thread = threading.Thread(
                target=self._run, name=f"sync-{self.device_id}", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Publish ``offline`` (if connected), disconnect cleanly and stop the thread."""
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        self.link.wake()
        thread.join(timeout)
        with self._lock:
            self._thread = None

    def wake(self) -> None:
        """Make the agent look at the outbox now (called on every local commit)."""
        self.link.wake()

    def status(self) -> SyncStatus:
        """A snapshot: online or not, outbox depth, oldest unsent age, last ack ..."""
        try:
            depth, oldest, last = self.store.outbox_stats()
        except StoreError:
            depth, oldest, last = -1, None, self.sender.last_seq
        return SyncStatus(
            state=self.link.state,
            outbox_depth=depth,
            oldest_unsent_age_s=(time.time() - oldest) if oldest is not None else None,
            last_seq=last,
            acked_seq=self.sender.acked,
            last_ack_at=self.sender.last_ack_at,
            push_cursor=self.stream.cursor,
            epoch=self.presence.epoch,
            connects=self.link.connects,
            refused_claims=self.sender.refused,
            rejected_events=self.sender.rejected,
            last_error=self.diag.last_error,
            bad_input=self.diag.bad_input_counts(),
            counters=self.diag.counters(),
            store_stale=self.sender.stale.reason if self.sender.stale is not None else "",
        )

    def stale_store(self) -> StaleStore | None:
        """The hub's word that the store is stale (see :class:`DeviceSync`)."""
        stale = self.sender.stale
        return None if stale is None else stale_news(stale)

    def recover_store(self, user: str) -> bool:
        """Ask the hub for this store's history (see :class:`DeviceSync`)."""
        return self.sender.request_recovery(user)

    @property
    def online(self) -> bool:
        """True while connected, subscribed and synced."""
        return self.link.online

    @property
    def acked_seq(self) -> int:
        """The highest sequence the hub has acknowledged (recorded in the store)."""
        return self.sender.acked

    def wait_acked(self, seq: int, timeout: float) -> bool:
        """Block until every event up to ``seq`` is acknowledged, or ``timeout`` passes."""
        return self.sender.wait_acked(seq, timeout)

    def wait_online(self, timeout: float) -> bool:
        """Block until the agent is online, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.online:
                return True
            time.sleep(0.01)
        return self.online

    # -- the thread -----------------------------------------------------------------------

    def _run(self) -> None:
        broker = self.options.link.broker.url
        log.info("sync agent for %s starting (broker %s)", self.device_id, broker)
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception as exc:  # the thread must survive anything
                self.diag.note("agent_error")
                self.diag.error(f"internal error: {exc!r}")
                log.exception("sync agent error")
                self.link.drop("internal error")
                time.sleep(0.2)
        try:
            self._shutdown()
        except Exception:
            log.exception("error while stopping the sync agent")

    def _tick(self) -> None:
        now = time.monotonic()
        timeout = 0.5
        if self.link.online:
            timeout = min(timeout, self.presence.heartbeat_due - now)
        held = self.stream.retry_in(now)
        if held is not None:
            timeout = min(timeout, held)
        for event in self.link.poll(max(0.0, timeout)):
            if isinstance(event, Received):
                self._on_message(event)
            elif isinstance(event, LinkUp):
                self._on_link_up()
            elif isinstance(event, LinkDown):
                self.diag.error(event.reason, logged=True)
                if event.was_online:
                    self.online_changed.tell(False)
        now = time.monotonic()
        if self.sender.take_backs_due(now):
            self.sender.retry_take_backs()
        self.sender.prune(now)
        self.stream.retry_held(now)
        if self.link.online:
            self.sender.maintain(now)
            if now >= self.presence.heartbeat_due:
                self.sender.refresh_last_seq()
                self.presence.publish_status()

    def _on_link_up(self) -> None:
        self.diag.clear_error()
        self.sender.on_link_up()
        self.presence.publish_status()
        self._request_sync()
        self.online_changed.tell(True)
        log.info(
            "sync %s online (epoch %d, acked %d, last %d, cursor %d)",
            self.device_id,
            self.presence.epoch,
            self.sender.acked,
            self.sender.last_seq,
            self.stream.cursor,
        )

    def _on_message(self, received: Received) -> None:
        topic = received.topic
        if topic == self.topics.ack(self.device_id):
            self.sender.on_ack_topic(received)
        elif topic == self.topics.push(self.device_id):
            self.stream.on_push(received)
        elif topic == self.topics.status(self.device_id):
            self.presence.on_own_status(received)
        else:
            handlers = [
                handler
                for subscriptions, handler in self._followers
                if any(topic_matches_sub(sub, topic) for sub in subscriptions)
            ]
            if not handlers:
                self.diag.count("unexpected_topic")
            for handler in handlers:
                try:
                    handler(topic, received.payload)
                except Exception:  # a reader's bug must not stop the device's sync
                    log.exception("a reader of %s failed", topic)
            self.link.ack(received)

    def _request_sync(self, *, gap: bool = False) -> None:
        """Ask the hub for every push after our cursor (and its current ack for us); while
        a gap stays open, at most once per :data:`SYNC_REQUEST_INTERVAL_S`."""
        now = time.monotonic()
        if gap and now - self._last_sync_request < SYNC_REQUEST_INTERVAL_S:
            return
        request = SyncRequest(
            device_id=self.device_id,
            since_cursor=self.stream.cursor,
            epoch=self.presence.epoch,
            last_seq=self.sender.last_seq,
            acked_seq=self.sender.acked,
            sent_at=time.time(),
            store_id=self.sender.store_id,
        )
        if self.link.publish(self.topics.sync(self.device_id), encode(request)) is not None:
            self._last_sync_request = now

    def _shutdown(self) -> None:
        was_online = self.link.online
        if was_online:
            mid = self.presence.say_goodbye()
            if mid is not None:
                self.link.drain(2.0, [mid])
        self.link.close()
        if was_online:
            self.online_changed.tell(False)
        log.info("sync agent for %s stopped", self.device_id)
