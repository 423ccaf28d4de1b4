"""The device sync agent: one thread owns the paho client and syncs the store with the hub.

What it does, all on its own thread (nothing else touches paho):

* connects with MQTT 5, ``clean_start=False`` and an explicit session expiry, with a will
  (offline, this connection's epoch, a will delay); its own reconnect loop with exponential
  backoff and jitter (paho's is not used: the thread drives paho's external-loop API,
  ``loop_read``/``loop_write``/``loop_misc``, under its own ``select``);
* on every connection: a fresh paho client (paho's in-memory queue is never trusted or
  reused), subscribe, then the retained ``online`` status, a :class:`SyncRequest` with the
  push cursor, and the outbox again from the last acknowledged sequence;
* publishes the outbox in sequence order, in batches when there is a backlog, keeping at
  most ``window_events`` unacknowledged events in flight, and records the hub's cumulative
  acks in the store;
* applies the push stream in cursor order (each item and its cursor in one local
  transaction) and only then acknowledges the MQTT message (``manual_ack``);
* heartbeats (retained status with health), and overwrites a stale will of an older epoch.

paho callbacks only append to a queue and never raise. Bad input from the broker is
counted, dead-lettered where the protocol says, and never stops the thread.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from floor_app.store import Store, StoreError
from sync.protocol import (
    Ack,
    ClaimRefused,
    DeadLetter,
    DeviceStatus,
    EventRejected,
    Health,
    ProtocolError,
    PushMessage,
    ResendRequest,
    SyncRequest,
    Topics,
    batch_records,
    decode,
    decode_ack,
    device_client_id,
    encode,
)

from .backoff import Backoff
from .push_apply import CURSOR_KEY, PushApplier, stored_cursor
from .rejections import take_back_rejected
from .settings import SyncSettings
from .status import LinkState, SyncStatus

log = logging.getLogger("floor.sync.device")

EPOCH_KEY = "sync_epoch"
#: At most one resync request per this many seconds while a push gap is open.
SYNC_REQUEST_INTERVAL_S = 2.0
#: Pushes held back behind a gap, at most (more arrive again by cursor).
MAX_HELD_PUSHES = 5000

OnlineListener = Callable[[bool], None]
PushListener = Callable[[PushMessage], None]
RefusedListener = Callable[[ClaimRefused], None]
AckListener = Callable[[int], None]
RejectedListener = Callable[[EventRejected], None]
DeviceHealth = Callable[[], Mapping[str, str]]
BatteryLevel = Callable[[], int | None]


@dataclass(frozen=True, slots=True)
class _Held:
    """A push waiting for its turn; ``mid`` is acked on connection ``conn`` after commit."""

    message: PushMessage
    conn: int
    mid: int | None


class SyncAgent:
    """Syncs one device's store with the hub. Thread-safe API; see the module docstring."""

    def __init__(
        self,
        store: Store,
        settings: SyncSettings,
        *,
        device_health: DeviceHealth | None = None,
        battery: BatteryLevel | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.device_id = store.device_id
        self.topics = Topics(settings.site)
        self._device_health = device_health
        self._battery = battery
        self._applier = PushApplier(store)
        self._backoff = Backoff(settings.backoff_min_s, settings.backoff_max_s)

        self._lock = threading.RLock()
        self._acked_cond = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._events: collections.deque[tuple[Any, ...]] = collections.deque()
        self._listeners: dict[str, list[Callable[[Any], None]]] = collections.defaultdict(list)
        self._commit_hooked = False

        # state below is written by the agent thread only (read under the lock for status)
        self._state = LinkState.STOPPED
        self._client: mqtt.Client | None = None
        self._conn = 0  # connection number, grows per attempt
        self._connects = 0
        self._connect_deadline = 0.0
        self._next_attempt = 0.0
        self._sub_mid: int | None = None
        self._epoch = 0
        self._acked = 0
        self._last_seq = 0
        self._last_seq_hint = 0
        self._sent_upto = 0
        self._last_ack_at: float | None = None
        self._last_progress = time.monotonic()
        self._cursor = 0
        self._held: dict[int, _Held] = {}
        self._last_sync_request = 0.0
        self._push_retry_at = 0.0
        self._heartbeat_due = 0.0
        #: rejected stock facts whose local take-back the store refused: (seq, reason)
        self._take_backs: list[tuple[int, str]] = []
        self._take_back_at = 0.0
        self._bad: collections.Counter[str] = collections.Counter()
        self._counters: collections.Counter[str] = collections.Counter()
        self._refused = 0
        self._rejected = 0
        self._last_error = ""

    # -- public API (any thread) ----------------------------------------------------------

    def start(self) -> None:
        """Start the agent thread (a no-op if it runs)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._load_positions()
            if not self._commit_hooked:
                self.store.on_commit(self._on_commit)
                self._commit_hooked = True
            self._stop.clear()
            self._state = LinkState.OFFLINE
            self._next_attempt = 0.0
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
        self.wake()
        thread.join(timeout)
        with self._lock:
            self._thread = None
            self._state = LinkState.STOPPED

    def wake(self) -> None:
        """Make the agent look at the outbox now (called on every local commit)."""
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def status(self) -> SyncStatus:
        """A snapshot: online or not, outbox depth, oldest unsent age, last ack ..."""
        try:
            depth, oldest, last = self.store.outbox_stats()
        except StoreError:
            depth, oldest, last = -1, None, self._last_seq
        with self._lock:
            return SyncStatus(
                state=self._state,
                online=self._state is LinkState.ONLINE,
                outbox_depth=depth,
                oldest_unsent_age_s=(time.time() - oldest) if oldest is not None else None,
                last_seq=last,
                acked_seq=self._acked,
                last_ack_at=self._last_ack_at,
                push_cursor=self._cursor,
                epoch=self._epoch,
                connects=self._connects,
                refused_claims=self._refused,
                rejected_events=self._rejected,
                last_error=self._last_error,
                bad_input=dict(self._bad),
                counters=dict(self._counters),
            )

    @property
    def online(self) -> bool:
        """True while connected, subscribed and synced."""
        return self._state is LinkState.ONLINE

    @property
    def acked_seq(self) -> int:
        """The highest sequence the hub has acknowledged (recorded in the store)."""
        return self._acked

    def wait_acked(self, seq: int, timeout: float) -> bool:
        """Block until every event up to ``seq`` is acknowledged, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        with self._acked_cond:
            while self._acked < seq:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._acked_cond.wait(min(left, 0.5))
            return True

    def wait_online(self, timeout: float) -> bool:
        """Block until the agent is online, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.online:
                return True
            time.sleep(0.01)
        return self.online

    def on_online_changed(self, listener: OnlineListener) -> None:
        """Call ``listener(online)`` when the link goes up or down (on the agent thread)."""
        self._add_listener("online", listener)

    def on_push_applied(self, listener: PushListener) -> None:
        """Call ``listener(message)`` after a push was applied and committed."""
        self._add_listener("push", listener)

    def on_claim_refused(self, listener: RefusedListener) -> None:
        """Call ``listener(refusal)`` when the hub refuses a stale claim (show its reason)."""
        self._add_listener("refused", listener)

    def on_event_rejected(self, listener: RejectedListener) -> None:
        """Call ``listener(rejection)`` when the hub rejected one of our events as invalid."""
        self._add_listener("rejected", listener)

    def on_acked(self, listener: AckListener) -> None:
        """Call ``listener(up_to_seq)`` after a new cumulative ack was recorded."""
        self._add_listener("acked", listener)

    def _add_listener(self, kind: str, listener: Callable[[Any], None]) -> None:
        with self._lock:
            self._listeners[kind].append(listener)

    def _notify(self, kind: str, value: Any) -> None:
        with self._lock:
            listeners = list(self._listeners[kind])
        for listener in listeners:
            try:
                listener(value)
            except Exception:
                log.exception("a %s listener failed", kind)

    # -- store hooks ----------------------------------------------------------------------

    def _on_commit(self, records: list[Any]) -> None:
        """Store commit listener (UI thread): note the newest sequence and wake the agent."""
        if records:
            self._last_seq_hint = max(self._last_seq_hint, max(r.seq for r in records))
            self.wake()

    def _load_positions(self) -> None:
        last = self.store.outbox_stats()[2]
        first = self.store.pending(limit=1)
        self._last_seq = last
        self._acked = first[0].seq - 1 if first else last
        self._sent_upto = self._acked
        self._cursor = stored_cursor(self.store)
        self._epoch = int(self.store.meta(EPOCH_KEY, "0") or "0")

    # -- the thread -----------------------------------------------------------------------

    def _run(self) -> None:
        log.info("sync agent for %s starting (broker %s)", self.device_id, self.settings.broker.url)
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception as exc:  # the thread must survive anything
                self._note("agent_error")
                self._set_error(f"internal error: {exc!r}")
                log.exception("sync agent error")
                self._drop_connection("internal error")
                time.sleep(0.2)
        try:
            self._shutdown()
        except Exception:
            log.exception("error while stopping the sync agent")

    def _tick(self) -> None:
        now = time.monotonic()
        if self._client is None and now >= self._next_attempt:
            self._connect()
        client = self._client
        sock = client.socket() if client is not None else None
        timeout = self._select_timeout(now)
        rlist: list[Any] = [self._wake_r]
        wlist: list[Any] = []
        if client is not None and sock is not None:
            rlist.append(sock)
            if client.want_write():
                wlist.append(sock)
            if isinstance(sock, ssl.SSLSocket) and sock.pending():
                timeout = 0.0
        readable, writable, _ = select.select(rlist, wlist, [], timeout)
        if self._wake_r in readable:
            self._drain_wake()
        if client is not None and sock is not None:
            if sock in readable or (isinstance(sock, ssl.SSLSocket) and sock.pending()):
                client.loop_read()
            if sock in writable:
                client.loop_write()
            client.loop_misc()
        self._handle_events()
        if self._take_backs and time.monotonic() >= self._take_back_at:
            self._retry_take_backs()
        connecting = self._client is not None and self._state is LinkState.CONNECTING
        if connecting and time.monotonic() > self._connect_deadline:
            self._drop_connection("no answer from the broker (CONNACK timeout)")
        if self._state is LinkState.ONLINE:
            self._maintain()
        elif self._held and time.monotonic() >= self._push_retry_at:
            self._apply_held()

    def _select_timeout(self, now: float) -> float:
        candidates = [0.5]
        if self._client is None:
            candidates.append(max(0.0, self._next_attempt - now))
        if self._state is LinkState.ONLINE:
            candidates.append(max(0.0, self._heartbeat_due - now))
        if self._held:
            candidates.append(max(0.0, self._push_retry_at - now))
        if self._events:
            candidates.append(0.0)
        return max(0.0, min(candidates))

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    # -- connecting -----------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=device_client_id(s.site, self.device_id),
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
            reconnect_on_failure=False,
        )
        client.connect_timeout = s.connect_timeout_s
        client.max_inflight_messages_set(100)
        client.max_queued_messages_set(0)
        client.suppress_exceptions = True
        if s.broker.username is not None:
            client.username_pw_set(s.broker.username, s.broker.password)
        if s.broker.tls:
            client.tls_set(
                ca_certs=str(s.ca_file) if s.ca_file else None,
                certfile=str(s.cert_file) if s.cert_file else None,
                keyfile=str(s.key_file) if s.key_file else None,
            )
        conn = self._conn
        client.on_connect = self._guard(
            lambda c, u, flags, rc, props: self._events.append(
                (
                    "connack",
                    conn,
                    rc.is_failure,
                    str(rc),
                    bool(getattr(flags, "session_present", False)),
                )
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
            lambda c, u, msg: self._events.append(
                ("message", conn, msg.topic, bytes(msg.payload), msg.mid, msg.qos)
            )
        )
        return client

    def _guard(self, callback: Callable[..., None]) -> Callable[..., None]:
        """Wrap a paho callback so an exception can never reach (and kill) the network loop."""

        def guarded(*args: Any) -> None:
            try:
                callback(*args)
            except Exception:
                self._note("callback_error")
                log.exception("paho callback failed")

        return guarded

    def _connect(self) -> None:
        s = self.settings
        self._conn += 1
        self._epoch += 1
        try:
            self.store.set_meta(EPOCH_KEY, str(self._epoch))
        except StoreError as exc:
            self._set_error(f"cannot record the connection epoch: {exc.reason}")
            self._schedule_retry()
            return
        client = self._make_client()
        will = DeviceStatus(
            device_id=self.device_id, state="offline", epoch=self._epoch, reason="connection lost"
        )
        will_props = Properties(PacketTypes.WILLMESSAGE)  # type: ignore[no-untyped-call]
        will_props.WillDelayInterval = s.will_delay_s
        client.will_set(
            self.topics.status(self.device_id),
            encode(will),
            qos=1,
            retain=True,
            properties=will_props,
        )
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = s.session_expiry_s
        self._set_state(LinkState.CONNECTING)
        try:
            client.connect(
                s.broker.host,
                s.broker.port,
                keepalive=s.keepalive_s,
                clean_start=False,
                properties=props,
            )
        except (OSError, ssl.SSLError, ValueError) as exc:
            self._set_error(f"cannot reach the broker at {s.broker.url}: {exc}")
            self._close_client(client)
            self._set_state(LinkState.OFFLINE)
            self._schedule_retry()
            return
        sock = client.socket()
        if isinstance(sock, socket.socket):
            # paho leaves Nagle on: small event batches and acks would wait for delayed ACKs
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._client = client
        self._connect_deadline = time.monotonic() + s.connect_timeout_s

    def _schedule_retry(self) -> None:
        delay = self._backoff.next_delay()
        self._next_attempt = time.monotonic() + delay
        log.info("sync %s: next connection attempt in %.2fs", self.device_id, delay)

    def _drop_connection(self, reason: str) -> None:
        """Forget the current client (and its in-memory queue) and plan the next attempt."""
        was_online = self._state is LinkState.ONLINE
        client, self._client = self._client, None
        if client is not None:
            self._close_client(client)
        if self._state is not LinkState.STOPPED:
            self._set_state(LinkState.OFFLINE)
        self._sub_mid = None
        if reason:
            self._set_error(reason)
        self._schedule_retry()
        if was_online:
            self._notify("online", False)

    @staticmethod
    def _close_client(client: mqtt.Client) -> None:
        sock = client.socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
        with contextlib.suppress(Exception):
            client._reset_sockets()

    def _set_state(self, state: LinkState) -> None:
        with self._lock:
            self._state = state

    def _set_error(self, text: str) -> None:
        with self._lock:
            self._last_error = text
        log.info("sync %s: %s", self.device_id, text)

    def _count(self, name: str, n: int = 1) -> None:
        """Count one piece of bad input (reported in status and heartbeat)."""
        with self._lock:
            self._bad[name] += n

    def _note(self, name: str, n: int = 1) -> None:
        """Count one event worth knowing that is not bad input (resends, gaps ...)."""
        with self._lock:
            self._counters[name] += n

    # -- events from paho -----------------------------------------------------------------

    def _handle_events(self) -> None:
        while self._events:
            event = self._events.popleft()
            kind, conn = event[0], event[1]
            if conn != self._conn or self._client is None:
                continue  # from a connection we already dropped
            if kind == "connack":
                self._on_connack(failed=event[2], reason=event[3])
            elif kind == "disconnect":
                self._drop_connection(f"connection lost ({event[2]})")
            elif kind == "suback":
                self._on_suback(event[2], event[3])
            elif kind == "message":
                self._on_message(event[2], event[3], event[4], event[5])

    def _on_connack(self, *, failed: bool, reason: str) -> None:
        if failed:
            self._drop_connection(f"the broker refused the connection: {reason}")
            return
        assert self._client is not None
        self._set_state(LinkState.SUBSCRIBING)
        options = SubscribeOptions(qos=1)
        rc, mid = self._client.subscribe(
            [(t, options) for t in self.topics.device_subscriptions(self.device_id)]
        )
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            self._drop_connection(f"cannot subscribe ({rc})")
            return
        self._sub_mid = mid

    def _on_suback(self, mid: int, failures: list[bool]) -> None:
        if mid != self._sub_mid:
            return
        if any(failures):
            self._drop_connection(
                "the broker refused a subscription (check the ACL for this device)"
            )
            return
        self._backoff.reset()
        with self._lock:
            self._connects += 1
            self._last_error = ""
        self._set_state(LinkState.ONLINE)
        self._last_seq = max(self._last_seq, self._last_seq_hint, self.store.outbox_stats()[2])
        self._sent_upto = self._acked  # resend everything above the last ack
        self._last_progress = time.monotonic()
        self._publish_status()
        self._request_sync()
        self._notify("online", True)
        log.info(
            "sync %s online (epoch %d, acked %d, last %d, cursor %d)",
            self.device_id,
            self._epoch,
            self._acked,
            self._last_seq,
            self._cursor,
        )

    def _on_message(self, topic: str, payload: bytes, mid: int, qos: int) -> None:
        if topic == self.topics.ack(self.device_id):
            self._on_ack_topic(payload, mid, qos)
        elif topic == self.topics.push(self.device_id):
            self._on_push(payload, mid, qos)
        elif topic == self.topics.status(self.device_id):
            self._on_own_status(payload)
            self._mqtt_ack(mid, qos)
        else:
            self._count("unexpected_topic")
            self._mqtt_ack(mid, qos)

    def _mqtt_ack(self, mid: int, qos: int, conn: int | None = None) -> None:
        client = self._client
        if client is None or qos == 0 or (conn is not None and conn != self._conn):
            return
        client.ack(mid, qos)

    def _bad_input(self, where: str, topic: str, payload: bytes, error: ProtocolError) -> None:
        self._count(f"{where}.{error.code}")
        log.warning("sync %s: bad %s message: %s", self.device_id, where, error.reason)
        self._dead_letter(topic, payload, error)

    def _dead_letter(self, topic: str, payload: bytes, error: ProtocolError) -> None:
        client = self._client
        if client is None:
            return
        letter = DeadLetter.about(self.device_id, topic, payload, error, device_id=self.device_id)
        client.publish(self.topics.dlq, encode(letter), qos=1)

    # -- acks -----------------------------------------------------------------------------

    def _on_ack_topic(self, payload: bytes, mid: int, qos: int) -> None:
        topic = self.topics.ack(self.device_id)
        try:
            message = decode_ack(payload)
            if message.device_id != self.device_id:
                raise ProtocolError("device_mismatch", f"ack for {message.device_id!r} on {topic}")
        except ProtocolError as exc:
            self._bad_input("ack", topic, payload, exc)
            self._mqtt_ack(mid, qos)
            return
        if isinstance(message, Ack):
            self._record_ack(message.up_to_seq, payload)
        elif isinstance(message, ResendRequest):
            self._on_resend(message)
        elif isinstance(message, ClaimRefused):
            with self._lock:
                self._refused += 1
            log.info(
                "sync %s: claim %d (%s) refused: %s",
                self.device_id,
                message.seq,
                message.type,
                message.reason,
            )
            self._notify("refused", message)
        elif isinstance(message, EventRejected):
            with self._lock:
                self._rejected += 1
            log.warning(
                "sync %s: event %d rejected by the hub: %s",
                self.device_id,
                message.seq,
                message.reason,
            )
            self._take_back(message)
            self._notify("rejected", message)
        self._mqtt_ack(mid, qos)

    def _take_back(self, message: EventRejected) -> None:
        """Undo the local effects of a rejected stock fact (see :mod:`.rejections`); one the
        store refused (busy, full) is tried again on the next ticks, since the hub never
        sends a rejection twice."""
        self._take_backs.append((message.seq, message.reason))
        self._retry_take_backs()

    def _retry_take_backs(self) -> None:
        waiting: list[tuple[int, str]] = []
        for seq, reason in self._take_backs:
            try:
                note = take_back_rejected(self.store, seq, reason)
            except Exception as exc:  # the store being busy or full must not stop the link
                log.warning(
                    "sync %s: taking back rejected event %d failed (%s), trying again",
                    self.device_id,
                    seq,
                    exc,
                )
                waiting.append((seq, reason))
                continue
            if note:
                log.info("sync %s: rejected event %d taken back: %s", self.device_id, seq, note)
        self._take_backs = waiting
        self._take_back_at = time.monotonic() + 1.0

    def _record_ack(self, up_to: int, payload: bytes) -> None:
        if up_to <= self._acked:
            self._count("ack.duplicate")
            return
        if up_to > max(self._last_seq, self._last_seq_hint):
            self._last_seq = max(self._last_seq, self.store.outbox_stats()[2])
        if up_to > self._last_seq:
            error = ProtocolError(
                "future_ack",
                f"ack up to {up_to} but this device's newest event is {self._last_seq}",
            )
            self._count("ack.future_seq")
            log.warning("sync %s: %s", self.device_id, error.reason)
            self._dead_letter(self.topics.ack(self.device_id), payload, error)
            return
        try:
            self.store.mark_acked(up_to)
        except StoreError as exc:
            self._set_error(f"cannot record the hub's ack: {exc.reason}")
            self._note("store_error")
            return
        with self._acked_cond:
            self._acked = up_to
            self._last_ack_at = time.time()
            self._acked_cond.notify_all()
        self._sent_upto = max(self._sent_upto, up_to)
        self._last_progress = time.monotonic()
        self._notify("acked", up_to)

    def _on_resend(self, message: ResendRequest) -> None:
        self._note("ack.resend_requested")
        rewind = max(self._acked, message.from_seq - 1)
        if rewind < self._sent_upto:
            log.info("sync %s: hub asks to resend from %d", self.device_id, message.from_seq)
            self._sent_upto = rewind

    # -- outbox ---------------------------------------------------------------------------

    def _maintain(self) -> None:
        now = time.monotonic()
        if self._held and now >= self._push_retry_at:
            self._apply_held()
        self._pump_outbox()
        if (
            self._sent_upto > self._acked
            and now - self._last_progress > self.settings.ack_timeout_s
        ):
            # no progress: the hub may have lost what we sent; send it again and ask for its ack
            log.info(
                "sync %s: no ack for %.0fs, resending from %d",
                self.device_id,
                now - self._last_progress,
                self._acked + 1,
            )
            self._note("ack.timeout_resends")
            self._sent_upto = self._acked
            self._last_progress = now
            self._request_sync()
        if now >= self._heartbeat_due:
            self._last_seq = max(self._last_seq, self.store.outbox_stats()[2])
            self._publish_status()

    def _pump_outbox(self) -> None:
        self._last_seq = max(self._last_seq, self._last_seq_hint)
        s = self.settings
        while self._client is not None and self._state is LinkState.ONLINE:
            start = max(self._sent_upto, self._acked)
            room = s.window_events - (start - self._acked)
            if start >= self._last_seq or room <= 0:
                return
            records = self.store.pending(after_seq=start, limit=min(s.batch_events, room))
            if not records:
                self._last_seq = max(self._acked, self.store.outbox_stats()[2])
                return
            if self._sent_upto <= self._acked:
                self._last_progress = time.monotonic()
            for body in batch_records(records, self.device_id, max_events=s.batch_events):
                info = self._client.publish(self.topics.evt(self.device_id), body, qos=1)
                if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    # "no connection": paho queued it in a client we are about to discard;
                    # never publish it again here, the outbox is resent after reconnecting
                    self._sent_upto = records[-1].seq
                    return
            self._sent_upto = records[-1].seq

    def _request_sync(self, *, gap: bool = False) -> None:
        """Ask the hub for every push after our cursor (and its current ack for us)."""
        client = self._client
        now = time.monotonic()
        if client is None or (gap and now - self._last_sync_request < SYNC_REQUEST_INTERVAL_S):
            return
        self._last_sync_request = now
        request = SyncRequest(
            device_id=self.device_id,
            since_cursor=self._cursor,
            epoch=self._epoch,
            last_seq=self._last_seq,
            acked_seq=self._acked,
            sent_at=time.time(),
        )
        client.publish(self.topics.sync(self.device_id), encode(request), qos=1)

    # -- presence -------------------------------------------------------------------------

    def _health(self) -> Health:
        devices: dict[str, str] = {}
        if self._device_health is not None:
            try:
                devices = {str(k): str(v) for k, v in self._device_health().items()}
            except Exception as exc:
                devices = {"health": f"error: {exc}"}
        battery = None
        if self._battery is not None:
            try:
                level = self._battery()
                battery = None if level is None else max(0, min(100, int(level)))
            except Exception:
                battery = None
        depth, oldest, last = self.store.outbox_stats()
        with self._lock:
            bad = dict(self._bad)
        return Health(
            devices=devices,
            outbox_depth=depth,
            oldest_unsent_age_s=round(time.time() - oldest, 3) if oldest is not None else None,
            last_seq=last,
            acked_seq=self._acked,
            push_cursor=self._cursor,
            app_version=self.settings.app_version,
            battery_pct=battery,
            user=self.store.meta("current_user", "") or "",
            bad_input=bad,
        )

    def _publish_status(self) -> None:
        client = self._client
        if client is None:
            return
        self._heartbeat_due = time.monotonic() + self.settings.heartbeat_s
        status = DeviceStatus(
            device_id=self.device_id, state="online", epoch=self._epoch, health=self._health()
        )
        client.publish(self.topics.status(self.device_id), encode(status), qos=1, retain=True)

    def _on_own_status(self, payload: bytes) -> None:
        topic = self.topics.status(self.device_id)
        try:
            status = decode(DeviceStatus, payload)
            if status.device_id != self.device_id:
                raise ProtocolError("device_mismatch", f"status of {status.device_id!r} on {topic}")
        except ProtocolError as exc:
            self._bad_input("status", topic, payload, exc)
            return
        if status.epoch < self._epoch and status.state == "offline":
            # a late will of an older connection: say we are online again
            self._note("status.stale_will_overwritten")
            if self._state is LinkState.ONLINE:
                self._publish_status()
        elif status.epoch > self._epoch:
            self._note("status.newer_epoch_seen")
            log.warning(
                "sync %s: status with epoch %d > ours %d: is this device id used twice?",
                self.device_id,
                status.epoch,
                self._epoch,
            )

    # -- pushes ---------------------------------------------------------------------------

    def _on_push(self, payload: bytes, mid: int, qos: int) -> None:
        topic = self.topics.push(self.device_id)
        try:
            message = decode(PushMessage, payload)
            if message.device_id != self.device_id:
                raise ProtocolError("device_mismatch", f"push for {message.device_id!r} on {topic}")
        except ProtocolError as exc:
            self._bad_input("push", topic, payload, exc)
            self._mqtt_ack(mid, qos)
            return
        if message.cursor <= self._cursor or message.cursor in self._held:
            self._count("push.stale_cursor")
            self._mqtt_ack(mid, qos)
            return
        if len(self._held) >= MAX_HELD_PUSHES:
            self._note("push.dropped_held")
            self._mqtt_ack(mid, qos)  # it comes again by cursor
            return
        if message.cursor == self._cursor + 1:
            # the next one: acknowledged to the broker only once it is in the store
            self._held[message.cursor] = _Held(message, self._conn, mid if qos else None)
        else:
            # behind a gap: acknowledged now, so that held messages never fill the broker's
            # window of unacknowledged messages (the gap's fill and the acks must still get
            # through). Lost in a crash, it comes again by cursor on the next resync.
            self._mqtt_ack(mid, qos)
            self._held[message.cursor] = _Held(message, self._conn, None)
        self._apply_held()

    def _apply_held(self) -> None:
        while self._cursor + 1 in self._held:
            held = self._held[self._cursor + 1]
            try:
                outcome = self._applier.apply(held.message)
            except StoreError as exc:
                self._set_error(f"cannot save a push from the hub: {exc.reason}")
                self._note("store_error")
                self._push_retry_at = time.monotonic() + 1.0
                return
            except Exception as exc:
                # the item cannot be applied at all: never block the stream behind it
                self._count("push.unapplicable")
                log.exception(
                    "sync %s: push %d cannot be applied", self.device_id, held.message.cursor
                )
                error = ProtocolError(
                    "invalid", f"push {held.message.cursor} cannot be applied: {exc!r}"
                )
                self._dead_letter(self.topics.push(self.device_id), encode(held.message), error)
                self.store.set_meta(CURSOR_KEY, str(held.message.cursor))
                outcome = None
            del self._held[held.message.cursor]
            with self._lock:
                self._cursor = held.message.cursor
            if held.mid is not None:
                self._mqtt_ack(held.mid, 1, held.conn)
            if outcome is not None and outcome.applied:
                self._notify("push", held.message)
        if self._held and self._state is LinkState.ONLINE:
            self._note("push.gap_seen")
            self._request_sync(gap=True)

    # -- stopping -------------------------------------------------------------------------

    def _shutdown(self) -> None:
        client = self._client
        if client is not None and self._state is LinkState.ONLINE:
            status = DeviceStatus(
                device_id=self.device_id, state="offline", epoch=self._epoch, reason="shutdown"
            )
            info = client.publish(
                self.topics.status(self.device_id), encode(status), qos=1, retain=True
            )
            self._flush(client, lambda: info.is_published(), 2.0)
            client.disconnect()
            self._flush(client, lambda: client.socket() is None or not client.want_write(), 1.0)
        if client is not None:
            self._close_client(client)
        self._client = None
        was_online = self._state is LinkState.ONLINE
        self._set_state(LinkState.STOPPED)
        if was_online:
            self._notify("online", False)
        log.info("sync agent for %s stopped", self.device_id)

    @staticmethod
    def _flush(client: mqtt.Client, done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            sock = client.socket()
            if sock is None:
                return
            wlist = [sock] if client.want_write() else []
            readable, writable, _ = select.select([sock], wlist, [], 0.05)
            if readable:
                client.loop_read()
            if writable:
                client.loop_write()
            client.loop_misc()
