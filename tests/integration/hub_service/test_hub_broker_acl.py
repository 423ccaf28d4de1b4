"""The shipped broker configuration through a real Mosquitto: the config starts with its TLS
listeners, a device may publish only under its own prefix (device A cannot publish on
device B's topics), and the hub refuses a payload that names another device than its topic.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from sqlalchemy import Engine
from support.mosquitto import (
    MOSQUITTO,
    MOSQUITTO_PASSWD,
    free_port,
    make_test_tls,
    require_mosquitto,
    wait_for_port,
)
from support.mqtt_peer import emit_picks, fast_settings

from floor_app.store import Store
from hub import Hub, HubSettings, hub_stats, run_transaction
from sync.device import SyncAgent

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]

CONFIG = Path(__file__).resolve().parents[3] / "config" / "broker"
PASSWORDS = {"hub-1": "hub-secret", "hh-01": "pw-one", "hh-02": "pw-two", "intake": "pw-in"}


def make_crl(folder: Path, ca_cert: Path, ca_key: Path) -> Path:
    """An empty CRL signed by the test CA (the certificate listener needs one)."""
    cert = x509.load_pem_x509_certificate(ca_cert.read_bytes())
    key = serialization.load_pem_private_key(ca_key.read_bytes(), password=None)
    now = dt.datetime.now(dt.UTC)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(cert.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())  # type: ignore[arg-type]
    )
    path = folder / "crl.pem"
    path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    return path


class SiteBroker:
    """Mosquitto started from config/broker/mosquitto.conf with the site's files in a folder."""

    def __init__(self, folder: Path) -> None:
        require_mosquitto()
        folder.mkdir(parents=True, exist_ok=True)
        tls = make_test_tls(folder / "tls")
        make_crl(folder / "tls", tls.ca_cert, folder / "tls" / "ca.key")
        site = folder / "tls"
        passwd = site / "passwd"
        passwd.write_text("")
        for user, password in PASSWORDS.items():
            subprocess.run([MOSQUITTO_PASSWD, "-b", str(passwd), user, password], check=True)
        (site / "acl").write_text((CONFIG / "acl").read_text())
        for f in (passwd, site / "acl"):
            f.chmod(0o600)
        self.port, self.cert_port, self.password_port = free_port(), free_port(), free_port()
        conf = (CONFIG / "mosquitto.conf").read_text()
        conf = conf.replace("/etc/floor/site/broker/ca.crt", str(tls.ca_cert))
        conf = conf.replace("/etc/floor/site/broker/server.crt", str(tls.server_cert))
        conf = conf.replace("/etc/floor/site/broker/server.key", str(tls.server_key))
        conf = conf.replace("/etc/floor/site/broker/", f"{site}/")
        conf = conf.replace("listener 1883 127.0.0.1", f"listener {self.port} 127.0.0.1")
        conf = conf.replace("listener 8883", f"listener {self.cert_port} 127.0.0.1")
        conf = conf.replace("listener 8884", f"listener {self.password_port} 127.0.0.1")
        extra = f"log_dest file {folder}/mosquitto.log\nlog_type all\n"
        if os.geteuid() == 0:
            extra += "user root\n"
        self.config = folder / "mosquitto.conf"
        self.config.write_text(extra + conf)
        self.tls = tls
        self.log = folder / "mosquitto.log"
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in (self.port, self.cert_port, self.password_port):
            if not wait_for_port("127.0.0.1", port, 10):
                self.stop()
                raise RuntimeError(f"the shipped config did not start: {self.log.read_text()}")

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def site_broker(tmp_path: Path) -> Iterator[SiteBroker]:
    broker = SiteBroker(tmp_path / "site-broker")
    yield broker
    broker.stop()


class Client:
    """A paho client logged in as ``user``, recording what it receives and its acks."""

    def __init__(self, port: int, user: str, password: str, *, tls: Any = None) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.subacks: list[list[bool]] = []
        self.pubacks: dict[int, bool] = {}
        self.connected = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{user}-{time.time_ns()}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self.client.username_pw_set(user, password)
        if tls is not None:
            self.client.tls_set(ca_certs=str(tls.ca_cert), cert_reqs=ssl.CERT_REQUIRED)
        self.client.on_connect = lambda c, u, f, rc, p: (
            self.connected.set() if not rc.is_failure else None
        )
        self.client.on_message = lambda c, u, m: self.received.append((m.topic, bytes(m.payload)))
        self.client.on_subscribe = lambda c, u, mid, codes, p: self.subacks.append(
            [code.is_failure for code in codes]
        )
        self.client.on_publish = lambda c, u, mid, rc, p: self.pubacks.__setitem__(
            mid, rc.is_failure
        )
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.connected.wait(10), f"{user} could not log in"

    def subscribe(self, topic: str) -> list[bool]:
        before = len(self.subacks)
        self.client.subscribe(topic, qos=1)
        deadline = time.monotonic() + 5
        while len(self.subacks) == before and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.subacks[-1]

    def publish(self, topic: str, payload: bytes) -> bool:
        """Publish QoS 1; True when the broker accepted it (its PUBACK is not a failure)."""
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(5)
        deadline = time.monotonic() + 5
        while info.mid not in self.pubacks and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self.pubacks.get(info.mid, True)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_the_shipped_config_starts_with_its_tls_listeners_and_refuses_strangers(
    site_broker: SiteBroker,
) -> None:
    over_tls = Client(site_broker.password_port, "hh-01", "pw-one", tls=site_broker.tls)
    over_tls.stop()
    for user, password in (("hh-01", "wrong password"), (None, None)):
        stranger = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        if user is not None:
            stranger.username_pw_set(user, password)
        refused = threading.Event()
        stranger.on_connect = lambda c, u, f, rc, p, e=refused: e.set() if rc.is_failure else None
        stranger.connect("127.0.0.1", site_broker.port)
        stranger.loop_start()
        try:
            assert refused.wait(5), f"{user or 'anonymous'} was let in"
        finally:
            stranger.loop_stop()


def test_device_a_cannot_publish_or_read_on_device_b_topics(site_broker: SiteBroker) -> None:
    hub = Client(site_broker.port, "hub-1", "hub-secret")
    device_a = Client(site_broker.port, "hh-01", "pw-one")
    try:
        assert hub.subscribe("floor/v1/dc1/dev/+/evt") == [False]
        assert device_a.publish("floor/v1/dc1/dev/hh-01/evt", b"own topic")
        assert not device_a.publish("floor/v1/dc1/dev/hh-02/evt", b"forged")
        assert not device_a.publish("floor/v1/dc1/dev/hh-02/status", b"forged status")
        assert not device_a.publish("floor/v1/dc1/orders/in", b"forged order")
        # reading is checked on delivery: A may subscribe to B's acks but receives none
        device_a.subscribe("floor/v1/dc1/dev/hh-02/ack")
        device_a.subscribe("floor/v1/dc1/dev/hh-01/ack")
        assert hub.publish("floor/v1/dc1/dev/hh-02/ack", b"for hh-02")
        assert hub.publish("floor/v1/dc1/dev/hh-01/ack", b"for hh-01")
        time.sleep(0.5)
        assert [t for t, _ in hub.received] == ["floor/v1/dc1/dev/hh-01/evt"]
        assert [t for t, _ in device_a.received] == ["floor/v1/dc1/dev/hh-01/ack"]
    finally:
        hub.stop()
        device_a.stop()


def test_the_hub_refuses_a_payload_naming_another_device_than_its_topic(
    site_broker: SiteBroker, demo_engine: Engine, db_url: str, tmp_path: Path
) -> None:
    url = f"mqtt://hub-1:hub-secret@127.0.0.1:{site_broker.port}"
    hub = Hub(db_url, url, HubSettings(allocate_every_s=0), engine=demo_engine).start(
        wait_online=10
    )
    store = Store.open(tmp_path / "hh-01.db", device_id="hh-01", site="dc1")
    device_url = f"mqtt://hh-01:pw-one@127.0.0.1:{site_broker.port}"
    agent = SyncAgent(store, fast_settings(device_url))
    watcher = Client(site_broker.port, "hub-1", "hub-secret")
    try:
        watcher.subscribe("floor/v1/dc1/dlq")
        agent.start()
        last = emit_picks(store, 3, per_transaction=3)
        assert agent.wait_acked(last, 20), agent.status()
        # hh-01 may publish on its own topic, but says it is hh-02: refused by the hub
        forged = json.dumps(
            {
                "v": 1,
                "device_id": "hh-02",
                "sent_at": time.time(),
                "events": [
                    {
                        "seq": 1,
                        "event_id": "01FORGED",
                        "device_id": "hh-02",
                        "type": "user.logged_in",
                        "kind": "fact",
                        "order_id": None,
                        "order_version": None,
                        "payload": {"user": "mallory", "role": "picker", "method": "badge"},
                        "created_at": time.time(),
                    }
                ],
            }
        ).encode()
        device = Client(site_broker.port, "hh-01", "pw-one")
        try:
            assert device.publish("floor/v1/dc1/dev/hh-01/evt", forged)
        finally:
            device.stop()
        deadline = time.monotonic() + 10
        while not watcher.received and time.monotonic() < deadline:
            time.sleep(0.05)
        letters = [json.loads(p) for _, p in watcher.received]
        assert [d["code"] for d in letters] == ["device_mismatch"]
        figures = run_transaction(demo_engine, hub_stats)
        assert figures["devices"]["hh-02"]["applied"] == 0
        assert figures["devices"]["hh-01"]["applied"] == last
    finally:
        watcher.stop()
        agent.stop()
        store.close()
        hub.stop()


def test_upstream_may_cancel_an_order_and_read_the_result_and_a_device_may_not(
    site_broker: SiteBroker, demo_engine: Engine, db_url: str
) -> None:
    url = f"mqtt://hub-1:hub-secret@127.0.0.1:{site_broker.port}"
    hub = Hub(db_url, url, HubSettings(allocate_every_s=0), engine=demo_engine).start(
        wait_online=10
    )
    intake = Client(site_broker.port, "intake", "pw-in")
    device = Client(site_broker.port, "hh-01", "pw-one")
    try:
        assert intake.subscribe("floor/v1/dc1/orders/cancel/result") == [False]
        assert intake.subscribe("floor/v1/dc1/orders/+/status") == [False]
        forged = {"v": 1, "order_id": "SO-100002", "reason": "not a device's call"}
        assert not device.publish("floor/v1/dc1/orders/cancel", json.dumps(forged).encode())
        asked = {"v": 1, "order_id": "SO-100001", "reason": "customer called", "request_id": "r1"}
        assert intake.publish("floor/v1/dc1/orders/cancel", json.dumps(asked).encode())
        deadline = time.monotonic() + 10
        result_topic = "floor/v1/dc1/orders/cancel/result"
        status_topic = "floor/v1/dc1/orders/SO-100001/status"

        def got() -> dict[str, Any]:  # the last message of each topic
            return {topic: json.loads(payload) for topic, payload in intake.received}

        while time.monotonic() < deadline and (
            result_topic not in got() or got()[status_topic]["state"] != "cancelled"
        ):
            time.sleep(0.05)
        result = got()[result_topic]
        assert (result["order_id"], result["request_id"], result["outcome"]) == (
            "SO-100001",
            "r1",
            "cancelled",
        )
        assert got()[status_topic]["state"] == "cancelled"
        states = run_transaction(demo_engine, hub_stats)["orders"]
        assert states.get("cancelled") == 1  # SO-100002 untouched
    finally:
        device.stop()
        intake.stop()
        hub.stop()
