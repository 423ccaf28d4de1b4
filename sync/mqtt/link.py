"""The one MQTT link: a paho client driven by its owner's thread.

Every side that talks MQTT (the device agent, the supervisor feed, the hub) owns one
:class:`MqttLink` and drives it from its own thread with :meth:`MqttLink.poll`; nothing else
touches paho. What the link does:

* connects with MQTT 5 (TLS and a client certificate, user name and password, as the
  :class:`LinkOptions` say), an explicit session expiry (0: a clean start, the session
  ends with the connection), keepalive, and optionally a will made afresh for every attempt;
* drives paho's external-loop API (``loop_read``/``loop_write``/``loop_misc``) under its
  own ``select``, which a :meth:`~MqttLink.wake` from any thread interrupts;
* subscribes after every CONNACK and is online once the SUBACK grants every topic;
* reconnects itself: a fresh paho client per attempt (paho's in-memory queue is never
  reused), spaced by the one :class:`~floor_app.backoff.Backoff`, and an attempt without a
  CONNACK in ``connect_timeout_s`` is abandoned;
* paho callbacks only append to a queue and are guarded: an exception in one is logged and
  counted, never raised into the loop. :meth:`~MqttLink.poll` hands the owner what happened,
  in order: :class:`LinkUp`, :class:`LinkDown`, :class:`Received`, :class:`Published`.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import select
import socket
import ssl
import time
from collections.abc import Callable, Collection, Iterable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.client import ConnectFlags, DisconnectFlags
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from floor_app.backoff import Backoff
from floor_app.hub_sync import LinkState

from .client import ConnAck, Lost, PubAck, Raw, SubAck, close_client, new_client
from .events import LinkDown, LinkError, LinkEvent, LinkUp, Published, Received
from .options import LinkOptions, Will

log = logging.getLogger("floor.sync.mqtt")

Props = Properties | None


class MqttLink:
    """One MQTT connection, driven by one owner thread (see the module docstring).

    Only :meth:`wake` and the read-only attributes may be used from other threads.
    """

    def __init__(
        self,
        options: LinkOptions,
        *,
        client_id: str,
        subscriptions: Iterable[str],
        name: str = "mqtt",
        manual_ack: bool = False,
        max_inflight: int = 20,
        will: Callable[[], Will] | None = None,
    ) -> None:
        self.options = options
        self.client_id = client_id
        self.subscriptions = list(subscriptions)
        self.name = name
        self.manual_ack = manual_ack
        self.max_inflight = max_inflight
        self.backoff = Backoff(options.backoff_min_s, options.backoff_max_s)
        #: called before every attempt for that attempt's will (may be set until the first
        #: poll); raising :class:`LinkError` skips the attempt
        self.will = will
        #: written by the owner thread only
        self.state = LinkState.STOPPED
        self.last_error = ""
        self.connects = 0
        self.callback_errors = 0
        self._client: mqtt.Client | None = None
        self._conn = 0
        self._sub_mid: int | None = None
        self._session_present = False
        self._next_attempt = 0.0
        self._deadline = 0.0
        self._unacked: set[int] = set()
        self._raw: collections.deque[Raw] = collections.deque()  # from paho's callbacks
        self._news: list[LinkEvent] = []
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)

    # -- any thread -----------------------------------------------------------------------

    def wake(self) -> None:
        """Make a :meth:`poll` waiting in ``select`` return now."""
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    @property
    def online(self) -> bool:
        """Connected and subscribed."""
        return self.state is LinkState.ONLINE

    # -- the owner thread -----------------------------------------------------------------

    def open(self) -> None:
        """Be ready to connect: the next :meth:`poll` makes the first attempt."""
        self.state = LinkState.OFFLINE
        self._next_attempt = 0.0

    def poll(self, timeout: float) -> list[LinkEvent]:
        """Connect when due, wait up to ``timeout`` for the socket (or a wake), run paho,
        and return what happened since the last call, in order."""
        now = time.monotonic()
        if self._client is None and self.state is not LinkState.STOPPED:
            if now >= self._next_attempt:
                self._connect()
            else:
                timeout = min(timeout, self._next_attempt - now)
        if self._raw or self._news:
            timeout = 0.0
        self._turn(max(0.0, timeout))
        self._take_raw()
        client = self._client
        if client is not None and self.state is LinkState.CONNECTING:
            if time.monotonic() > self._deadline:
                self.drop("no answer from the broker (CONNACK timeout)")
        elif client is not None and client.socket() is None:
            self.drop("connection lost (socket closed)")
        news, self._news = self._news, []
        return news

    def publish(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False
    ) -> int | None:
        """Hand a message to the connection; its mid, or None when there is no connection
        (nothing is kept: the owner publishes it again after the next :class:`LinkUp`)."""
        client = self._client
        if client is None:
            return None
        info = client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            return None
        if qos:
            self._unacked.add(info.mid)
        return info.mid

    def ack(self, message: Received) -> None:
        """Acknowledge ``message`` to the broker (``manual_ack``); a message of an earlier
        connection is not acked (the broker delivers it again)."""
        client = self._client
        if client is not None and message.qos and self.is_current(message):
            client.ack(message.mid, message.qos)

    def is_current(self, message: Received) -> bool:
        """True when ``message`` came on the connection that is up now."""
        return self._client is not None and message.conn == self._conn

    def drop(self, reason: str) -> None:
        """End the connection now without a goodbye (the broker publishes the will) and
        plan the next attempt; the owner hears a :class:`LinkDown` from the next poll."""
        was_online = self.state is LinkState.ONLINE
        client, self._client = self._client, None
        if client is not None:
            close_client(client)
        self._sub_mid = None
        self._unacked.clear()
        if self.state is not LinkState.STOPPED:
            self.state = LinkState.OFFLINE
        self.last_error = reason
        delay = self.backoff.next_delay()
        self._next_attempt = time.monotonic() + delay
        log.info("%s: %s; next connection attempt in %.2fs", self.name, reason, delay)
        self._news.append(LinkDown(reason, was_online))

    def drain(self, timeout: float, mids: Collection[int] | None = None) -> list[LinkEvent]:
        """Run the connection until the broker acknowledged ``mids`` (default: every
        publication), at most ``timeout`` seconds; what happened meanwhile."""
        deadline = time.monotonic() + timeout
        news: list[LinkEvent] = []

        def waiting() -> bool:
            return bool(self._unacked if mids is None else self._unacked.intersection(mids))

        while self._client is not None and waiting() and time.monotonic() < deadline:
            news += self.poll(0.05)
        return news

    def close(self) -> None:
        """Say goodbye (DISCONNECT, so no will) when online, close the socket, and stop:
        no attempt is made until :meth:`open`."""
        client, self._client = self._client, None
        if client is not None and self.state is LinkState.ONLINE:
            client.disconnect()
            deadline = time.monotonic() + 1.0
            while client.socket() is not None and client.want_write():
                if time.monotonic() > deadline:
                    break
                self._turn(0.05, client)
        if client is not None:
            close_client(client)
        self.state = LinkState.STOPPED
        self._sub_mid = None
        self._unacked.clear()
        self._raw.clear()
        self._news.clear()

    # -- inside ---------------------------------------------------------------------------

    def _turn(self, timeout: float, client: mqtt.Client | None = None) -> None:
        """One ``select`` on the socket and the wake pipe, then paho's read, write, misc."""
        if client is None:
            client = self._client
        sock = client.socket() if client is not None else None
        rlist: list[Any] = [self._wake_r]
        wlist: list[Any] = []
        tls_pending = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
        if client is not None and sock is not None:
            rlist.append(sock)
            if client.want_write():
                wlist.append(sock)
        readable, writable, _ = select.select(rlist, wlist, [], 0.0 if tls_pending else timeout)
        if self._wake_r in readable:
            with contextlib.suppress(OSError):
                while self._wake_r.recv(4096):
                    pass
        if client is None or sock is None:
            return
        if sock in readable or tls_pending:
            client.loop_read()
        if sock in writable:
            client.loop_write()
        client.loop_misc()

    def _connect(self) -> None:
        o = self.options
        self._conn += 1
        try:
            will = self.will() if self.will is not None else None
        except LinkError as exc:
            self.drop(exc.reason)
            return
        client = self._make_client(will)
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = o.session_expiry_s
        self.state = LinkState.CONNECTING
        self._unacked.clear()
        try:
            client.connect(
                o.broker.host,
                o.broker.port,
                keepalive=o.keepalive_s,
                clean_start=o.session_expiry_s == 0,
                properties=props,
            )
        except (OSError, ssl.SSLError, ValueError) as exc:
            close_client(client)
            self.drop(f"cannot reach the broker at {o.broker.url}: {exc}")
            return
        sock = client.socket()
        if isinstance(sock, socket.socket):
            # paho leaves Nagle on: small batches and acks would wait for delayed ACKs
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._client = client
        self._deadline = time.monotonic() + o.connect_timeout_s

    def _make_client(self, will: Will | None) -> mqtt.Client:
        client = new_client(
            self.options,
            self.client_id,
            conn=self._conn,
            manual_ack=self.manual_ack,
            max_inflight=self.max_inflight,
            will=will,
        )
        client.on_connect = self._guarded(self._on_connect)
        client.on_disconnect = self._guarded(self._on_disconnect)
        client.on_subscribe = self._guarded(self._on_subscribe)
        client.on_publish = self._guarded(self._on_publish)
        client.on_message = self._guarded(self._on_message)
        return client

    # paho's callbacks (on the owner thread, inside loop_read/loop_write): queue only

    def _guarded(self, callback: Callable[..., None]) -> Callable[..., None]:
        def guarded(*args: Any) -> None:
            try:
                callback(*args)
            except Exception:
                self.callback_errors += 1
                log.exception("%s: a paho callback failed", self.name)

        return guarded

    def _on_connect(
        self, _c: mqtt.Client, conn: int, flags: ConnectFlags, rc: ReasonCode, _p: Props
    ) -> None:
        self._raw.append(ConnAck(conn, rc.is_failure, str(rc), flags.session_present))

    def _on_disconnect(
        self, _c: mqtt.Client, conn: int, _f: DisconnectFlags, rc: ReasonCode, _p: Props
    ) -> None:
        self._raw.append(Lost(conn, str(rc)))

    def _on_subscribe(
        self, _c: mqtt.Client, conn: int, mid: int, codes: list[ReasonCode], _p: Props
    ) -> None:
        self._raw.append(SubAck(conn, mid, any(code.is_failure for code in codes)))

    def _on_publish(self, _c: mqtt.Client, conn: int, mid: int, _rc: ReasonCode, _p: Props) -> None:
        self._raw.append(PubAck(conn, mid))

    def _on_message(self, _c: mqtt.Client, conn: int, msg: mqtt.MQTTMessage) -> None:
        self._raw.append(Received(msg.topic, bytes(msg.payload), msg.mid, msg.qos, conn))

    def _take_raw(self) -> None:
        while self._raw:
            raw = self._raw.popleft()
            if raw.conn != self._conn or self._client is None:
                continue  # from a connection already dropped
            if isinstance(raw, Received):
                self._news.append(raw)
            elif isinstance(raw, PubAck):
                self._unacked.discard(raw.mid)
                self._news.append(Published(raw.mid))
            elif isinstance(raw, ConnAck):
                self._on_connack(raw)
            elif isinstance(raw, SubAck) and raw.mid == self._sub_mid:
                self._on_suback(raw)
            elif isinstance(raw, Lost):
                self.drop(f"connection lost ({raw.reason})")

    def _on_connack(self, connack: ConnAck) -> None:
        assert self._client is not None
        if connack.failed:
            self.drop(f"the broker refused the connection: {connack.reason}")
            return
        self.state = LinkState.SUBSCRIBING
        self._session_present = connack.session_present
        options = SubscribeOptions(qos=1)
        rc, mid = self._client.subscribe([(t, options) for t in self.subscriptions])
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            self.drop(f"cannot subscribe ({rc})")
            return
        self._sub_mid = mid

    def _on_suback(self, suback: SubAck) -> None:
        if suback.failed:
            self.drop("the broker refused a subscription (check the ACL)")
            return
        self.backoff.reset()
        self.connects += 1
        self.last_error = ""
        self.state = LinkState.ONLINE
        self._news.append(LinkUp(self._session_present))
