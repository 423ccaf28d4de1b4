"""The one MQTT link against a real Mosquitto: messages both ways, a failing paho callback,
a broker restart, an attempt without CONNACK, the will, the session, TLS with a password."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
import pytest
from support import mosquitto
from support.mosquitto import MosquittoBroker, free_port, make_test_tls
from support.mosquitto_tls import wait_until

from floor_app.hub_sync import LinkState
from sync.mqtt import (
    LinkDown,
    LinkError,
    LinkEvent,
    LinkOptions,
    LinkUp,
    MqttLink,
    Published,
    Received,
    Will,
    parse_broker_url,
)

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]

T = TypeVar("T")


broker = mosquitto.mosquitto_broker  # a started broker, killed after the test
brokers = mosquitto.mosquitto_factory  # brokers with other settings, killed after the test


def options(url: str, **kw: Any) -> LinkOptions:
    fast = {"keepalive_s": 5, "backoff_min_s": 0.05, "backoff_max_s": 0.5}
    return LinkOptions(parse_broker_url(url), **{**fast, **kw})


def make_link(url: str, client_id: str = "link-test", **kw: Any) -> MqttLink:
    return MqttLink(options(url, **kw), client_id=client_id, subscriptions=["t/#"], name="test")


class Owner:
    """Drives a link on a thread of its own, as the agent, the feed and the hub do, and
    keeps what it hears. Other threads reach the link only through :meth:`call`."""

    def __init__(self, link: MqttLink) -> None:
        self.link = link
        self.events: list[LinkEvent] = []
        self._calls: list[tuple[Callable[[MqttLink], Any], Future[Any]]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Owner:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.link.wake()
        self._thread.join(10)

    def call(self, fn: Callable[[MqttLink], T]) -> T:
        """Run ``fn(link)`` on the owner's thread; its result."""
        future: Future[T] = Future()
        with self._lock:
            self._calls.append((fn, future))
        self.link.wake()
        return future.result(10)

    def wait(self, check: Callable[[], bool], timeout: float = 15.0) -> bool:
        def locked() -> bool:
            with self._lock:
                return check()

        return wait_until(locked, timeout)

    def received(self, topic: str) -> list[bytes]:
        return [e.payload for e in self.events if isinstance(e, Received) and e.topic == topic]

    def of(self, kind: type[T]) -> list[T]:
        return [e for e in self.events if isinstance(e, kind)]

    def _run(self) -> None:
        self.link.open()
        while not self._stop.is_set():
            news = self.link.poll(0.2)
            with self._lock:
                self.events += news
                calls, self._calls = self._calls, []
            for fn, future in calls:
                future.set_result(fn(self.link))
        self.link.close()


@pytest.fixture
def own() -> Iterator[Callable[[MqttLink], Owner]]:
    owners: list[Owner] = []

    def start(link: MqttLink) -> Owner:
        owners.append(Owner(link).start())
        return owners[-1]

    yield start
    for owner in owners:
        owner.stop()


def test_messages_go_both_ways_and_publications_are_acknowledged(
    broker: MosquittoBroker, own: Callable[[MqttLink], Owner]
) -> None:
    owner = own(make_link(broker.url))
    assert owner.wait(lambda: owner.link.online), owner.link.last_error
    mid = owner.call(lambda link: link.publish("t/echo", b"hello"))
    assert mid is not None
    assert owner.wait(lambda: owner.received("t/echo") == [b"hello"])
    assert owner.wait(lambda: any(p.mid == mid for p in owner.of(Published)))
    assert [type(e) for e in owner.events][:1] == [LinkUp]
    assert owner.link.connects == 1
    owner.stop()
    assert owner.link.state is LinkState.STOPPED


class FaultyLink(MqttLink):
    """A link whose message callback fails on ``t/boom`` (a fault in paho's thread)."""

    def _on_message(self, c: mqtt.Client, conn: int, msg: mqtt.MQTTMessage) -> None:
        if msg.topic == "t/boom":
            raise RuntimeError("boom")
        super()._on_message(c, conn, msg)


def test_a_paho_callback_that_raises_is_logged_and_the_link_goes_on(
    broker: MosquittoBroker, own: Callable[[MqttLink], Owner], caplog: pytest.LogCaptureFixture
) -> None:
    link = FaultyLink(options(broker.url), client_id="faulty", subscriptions=["t/#"], name="faulty")
    owner = own(link)
    assert owner.wait(lambda: link.online), link.last_error
    with caplog.at_level(logging.ERROR, logger="floor.sync.mqtt"):
        owner.call(lambda link: link.publish("t/boom", b"1"))
        owner.call(lambda link: link.publish("t/after", b"2"))
        assert owner.wait(lambda: owner.received("t/after") == [b"2"])
    assert link.callback_errors == 1
    assert any("a paho callback failed" in r.getMessage() for r in caplog.records)
    assert link.online and link.connects == 1
    assert owner.received("t/boom") == []


def test_a_broker_restart_is_survived_with_backoff(
    broker: MosquittoBroker, own: Callable[[MqttLink], Owner]
) -> None:
    owner = own(make_link(broker.url))
    link = owner.link
    assert owner.wait(lambda: link.online), link.last_error
    broker.kill()
    assert owner.wait(lambda: any(d.was_online for d in owner.of(LinkDown)))
    # attempts while the broker is away, each after a longer delay
    assert owner.wait(lambda: link.backoff.failures >= 3), owner.events
    assert not link.online and link.last_error
    broker.start()
    assert owner.wait(lambda: len(owner.of(LinkUp)) == 2), link.last_error
    assert link.backoff.failures == 0 and link.connects == 2 and link.last_error == ""
    owner.call(lambda link: link.publish("t/echo", b"again"))
    assert owner.wait(lambda: owner.received("t/echo") == [b"again"])


def test_an_attempt_without_an_answer_is_abandoned(own: Callable[[MqttLink], Owner]) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        owner = own(make_link(f"mqtt://127.0.0.1:{port}", connect_timeout_s=0.3))
        assert owner.wait(lambda: len(owner.of(LinkDown)) >= 2)
    downs = owner.of(LinkDown)
    assert all(d.reason == "no answer from the broker (CONNACK timeout)" for d in downs[:2])
    assert not any(d.was_online for d in downs)
    assert owner.link.connects == 0


def test_the_will_is_made_for_each_attempt_and_published_when_the_link_dies(
    broker: MosquittoBroker, own: Callable[[MqttLink], Owner]
) -> None:
    attempts: list[int] = []

    def will() -> Will:
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:
            raise LinkError("not ready for attempt 1")
        return Will("t/will", f"gone {len(attempts)}".encode(), retain=False)

    watcher = own(make_link(broker.url, client_id="watcher"))
    assert watcher.wait(lambda: watcher.link.online)
    link = make_link(broker.url, client_id="mortal")
    link.will = will
    owner = own(link)
    assert owner.wait(lambda: link.online), link.last_error
    assert owner.of(LinkDown)[0].reason == "not ready for attempt 1"
    assert attempts == [1, 2]
    owner.call(lambda link: link.drop("pulled the plug"))  # no goodbye: the will goes out
    assert watcher.wait(lambda: watcher.received("t/will") == [b"gone 2"])
    assert owner.wait(lambda: len(owner.of(LinkUp)) == 2)
    assert attempts == [1, 2, 3]
    owner.stop()  # a goodbye: no will
    watcher.call(lambda link: link.publish("t/marker", b"after"))
    assert watcher.wait(lambda: watcher.received("t/marker") == [b"after"])
    assert watcher.received("t/will") == [b"gone 2"]


@pytest.mark.parametrize("expiry", [60, 0])
def test_a_session_that_outlives_the_connection_keeps_what_came_meanwhile(
    broker: MosquittoBroker, own: Callable[[MqttLink], Owner], expiry: int
) -> None:
    link = make_link(broker.url, client_id=f"keeper-{expiry}", session_expiry_s=expiry)
    first = own(link)
    assert first.wait(lambda: link.online)
    first.stop()
    sender = own(make_link(broker.url, client_id="sender"))
    assert sender.wait(lambda: sender.link.online)
    mid = sender.call(lambda link: link.publish("t/while-away", b"queued"))
    assert sender.wait(lambda: any(p.mid == mid for p in sender.of(Published)))
    again = own(link)
    assert again.wait(lambda: link.online)
    again.call(lambda link: link.publish("t/marker", b"back"))
    assert again.wait(lambda: again.received("t/marker") == [b"back"])
    (up,) = again.of(LinkUp)
    if expiry:
        assert up.session_present
        assert again.received("t/while-away") == [b"queued"]
    else:
        assert not up.session_present
        assert again.received("t/while-away") == []  # it would have come before the marker


def test_tls_with_a_user_name_and_password(
    tmp_path: Path,
    own: Callable[[MqttLink], Owner],
    brokers: type[MosquittoBroker],
) -> None:
    tls = make_test_tls(tmp_path / "tls")
    broker = brokers(tls=tls, users={"hh-01": "s3cret"}).start()
    base = f"mqtts://hh-01:s3cret@{broker.host}:{broker.port}"
    owner = own(make_link(base, client_id="hh-01", ca_file=tls.ca_cert))
    assert owner.wait(lambda: owner.link.online), owner.link.last_error
    owner.call(lambda link: link.publish("t/echo", b"sealed"))
    assert owner.wait(lambda: owner.received("t/echo") == [b"sealed"])

    wrong = own(make_link(base.replace("s3cret", "guess"), "intruder", ca_file=tls.ca_cert))
    assert wrong.wait(lambda: bool(wrong.of(LinkDown)))
    assert "refused the connection" in wrong.of(LinkDown)[0].reason
    assert wrong.link.connects == 0

    stranger_ca = make_test_tls(tmp_path / "other").ca_cert
    unknown = own(make_link(base, "doubter", ca_file=stranger_ca))
    assert unknown.wait(lambda: bool(unknown.of(LinkDown)))
    assert "certificate verify failed" in unknown.of(LinkDown)[0].reason


@pytest.mark.parametrize(("expiry", "clean"), [(60, "c0"), (0, "c1")])
def test_the_broker_sees_the_options(
    broker: MosquittoBroker, own: Callable[[MqttLink], Owner], expiry: int, clean: str
) -> None:
    """MQTT 5, the keepalive, and a clean start only for a session that ends with the
    connection (as the broker logs each new client: ``(p5, c0, k7)``)."""
    link = make_link(broker.url, client_id="logged-one", keepalive_s=7, session_expiry_s=expiry)
    owner = own(link)
    assert owner.wait(lambda: link.online)
    lines = [ln for ln in broker.log_tail(200).splitlines() if " as logged-one " in ln]
    assert lines and f"(p5, {clean}, k7" in lines[-1], lines


def test_a_free_port_without_a_broker_is_reported(own: Callable[[MqttLink], Owner]) -> None:
    owner = own(make_link(f"mqtt://127.0.0.1:{free_port()}"))
    assert owner.wait(lambda: bool(owner.of(LinkDown)))
    assert owner.of(LinkDown)[0].reason.startswith("cannot reach the broker at mqtt://127.0.0.1:")
    assert owner.link.connects == 0
