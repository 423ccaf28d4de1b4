"""TLS end to end on a real Mosquitto built from a provisioned site folder.

The broker has a certificate listener (``require_certificate``, ``use_identity_as_username``,
``crlfile``) and a TLS password listener; the ACL and password file are the ones
``hub.provisioning`` generates. Devices connect with their bundle files, as on the floor.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.mosquitto import MosquittoBroker, require_mosquitto
from support.mosquitto_tls import DeviceClient, reload_broker, site_broker, wait_until

from hub.provisioning import ProvisionResult, SiteAuthority, explain_connect_failure

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]

HOST = "127.0.0.1"


@dataclass
class Site:
    authority: SiteAuthority
    broker: MosquittoBroker
    out: Path

    @property
    def password_port(self) -> int:
        return int(self.broker.password_port)  # type: ignore[attr-defined]

    def provision(self, device_id: str, **kwargs: object) -> ProvisionResult:
        return self.authority.provision(
            device_id,
            str(kwargs.pop("role", "picker")),
            out_dir=self.out,
            broker_url=f"mqtts://{HOST}:{self.broker.port}",
            **kwargs,  # type: ignore[arg-type]
        )


def cert_client(result: ProvisionResult, client_id: str | None = None) -> DeviceClient:
    b = result.bundle_dir
    return DeviceClient(
        client_id or f"floor-dc1-{result.device_id}",
        ca_file=b / "ca.crt",
        cert_file=b / "device.crt",
        key_file=b / "device.key",
    )


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    require_mosquitto()
    authority = SiteAuthority(tmp_path / "site", broker_group=None)
    authority.issue_broker_certificate(["localhost"], [HOST], site="dc1")
    broker = site_broker(tmp_path / "broker", authority.paths)
    broker.start()
    try:
        yield Site(authority, broker, tmp_path / "out")
    finally:
        broker.kill()


@pytest.fixture
def clients() -> Iterator[list[DeviceClient]]:
    made: list[DeviceClient] = []
    yield made
    for client in made:
        client.close()


def connected(
    site: Site, client: DeviceClient, clients: list[DeviceClient], port: int | None = None
) -> DeviceClient:
    outcome = client.connect(HOST, port or site.broker.port)
    assert outcome.connected, f"{outcome.error}\n{site.broker.log_tail()}"
    clients.append(client)
    return client


def test_a_device_publishes_under_its_own_prefix_only(
    site: Site, clients: list[DeviceClient]
) -> None:
    hub_id = site.provision("hub-1", role="hub")
    hh01 = site.provision("hh-01")
    hh02 = site.provision("hh-02")
    reload_broker(site.broker)
    hub = connected(site, cert_client(hub_id, "floor-hub-dc1-1"), clients)
    assert hub.subscribe("floor/v1/dc1/dev/+/evt")[0].value == 1
    one = connected(site, cert_client(hh01), clients)
    two = connected(site, cert_client(hh02), clients)
    one.subscribe("floor/v1/dc1/dev/hh-01/push")
    one.subscribe("floor/v1/dc1/dev/hh-02/push")  # granted by MQTT, but never delivered
    two.subscribe("floor/v1/dc1/dev/hh-02/push")

    assert not one.publish("floor/v1/dc1/dev/hh-01/evt", b"mine").is_failure
    denied = one.publish("floor/v1/dc1/dev/hh-02/evt", b"pretending to be hh-02")
    assert denied.is_failure and "Not authorized" in str(denied)
    assert one.publish("floor/v1/dc1/orders/in", b"an order").is_failure
    assert wait_until(lambda: len(hub.received) >= 1, 10)
    hub.publish("floor/v1/dc1/dev/hh-02/push", b"for hh-02")
    hub.publish("floor/v1/dc1/dev/hh-01/push", b"for hh-01")
    assert wait_until(lambda: len(one.received) >= 1 and len(two.received) >= 1, 10)
    time.sleep(0.3)  # anything misrouted would have arrived by now
    assert hub.received == [("floor/v1/dc1/dev/hh-01/evt", b"mine")]
    assert one.received == [("floor/v1/dc1/dev/hh-01/push", b"for hh-01")]
    assert two.received == [("floor/v1/dc1/dev/hh-02/push", b"for hh-02")]


def test_a_revoked_certificate_is_refused_after_reload(
    site: Site, clients: list[DeviceClient]
) -> None:
    hh01 = site.provision("hh-01")
    reload_broker(site.broker)
    connected(site, cert_client(hh01, "before"), clients)
    site.authority.revoke("hh-01", reason="stolen")
    reload_broker(site.broker)  # systemctl reload mosquitto
    outcome = cert_client(hh01, "after").connect(HOST, site.broker.port, timeout=5)
    assert not outcome.connected
    assert "certificate verify failed" in site.broker.log_tail()


def test_a_certificate_from_a_foreign_ca_is_refused(site: Site, tmp_path: Path) -> None:
    other = SiteAuthority(tmp_path / "other-site", broker_group=None)
    stranger = other.provision(
        "hh-01", "picker", "dc1", out_dir=tmp_path / "stranger", broker_url="mqtts://x:8883"
    )
    # it trusts our broker (our CA), but presents a certificate our CA never signed
    client = DeviceClient(
        "floor-dc1-hh-01",
        ca_file=site.authority.paths.broker_ca,
        cert_file=stranger.bundle_dir / "device.crt",
        key_file=stranger.bundle_dir / "device.key",
    )
    outcome = client.connect(HOST, site.broker.port, timeout=5)
    assert not outcome.connected
    # and with its own CA it does not even trust our broker
    own = DeviceClient("x", ca_file=stranger.bundle_dir / "ca.crt")
    refused = own.connect(HOST, site.broker.port, timeout=5)
    assert not refused.connected and refused.exception is not None
    assert "not from this site's CA" in explain_connect_failure(refused.exception)


def test_no_certificate_is_refused_on_the_certificate_listener(site: Site) -> None:
    outcome = DeviceClient("anon", ca_file=site.authority.paths.broker_ca).connect(
        HOST, site.broker.port, timeout=5
    )
    assert not outcome.connected


def test_an_expired_certificate_is_refused(site: Site) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    old = site.provision("hh-03", now=long_ago, valid_days=30)
    reload_broker(site.broker)
    outcome = cert_client(old).connect(HOST, site.broker.port, timeout=5)
    assert not outcome.connected
    assert "certificate verify failed" in site.broker.log_tail()


def test_a_device_clock_far_behind_gets_a_clear_error(site: Site, tmp_path: Path) -> None:
    """A device whose clock is far behind sees the broker's certificate as not yet valid.

    The machine's clock cannot be turned back in a test, so the broker's certificate is moved
    forward instead: to the device's TLS stack the two are the same.
    """
    hh04 = site.provision("hh-04")
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=3650)
    site.authority.issue_broker_certificate(["localhost"], [HOST], now=future)
    site.broker.stop()
    site.broker.start()
    outcome = cert_client(hh04).connect(HOST, site.broker.port, timeout=5)
    assert not outcome.connected and outcome.exception is not None
    assert "certificate is not yet valid" in outcome.error
    assert "device clock is far off" in explain_connect_failure(outcome.exception)


def test_passwords_on_the_password_listener(site: Site, clients: list[DeviceClient]) -> None:
    ps01 = site.provision("ps-01", role="packer", method="password")
    reload_broker(site.broker)
    ca = ps01.bundle_dir / "ca.crt"
    good = DeviceClient("floor-dc1-ps-01", ca_file=ca, username="ps-01", password=ps01.password)
    client = connected(site, good, clients, port=site.password_port)
    assert not client.publish("floor/v1/dc1/dev/ps-01/evt", b"ok").is_failure
    assert client.publish("floor/v1/dc1/dev/hh-01/evt", b"no").is_failure

    wrong = DeviceClient("floor-dc1-ps-01x", ca_file=ca, username="ps-01", password="guess")
    outcome = wrong.connect(HOST, site.password_port, timeout=5)
    assert not outcome.connected and outcome.error == "Not authorized"
    assert "wrong password" in explain_connect_failure(outcome.error)
    nobody = DeviceClient("anon", ca_file=ca).connect(HOST, site.password_port, timeout=5)
    assert not nobody.connected

    site.authority.revoke("ps-01")
    reload_broker(site.broker)
    again = DeviceClient("floor-dc1-ps-01y", ca_file=ca, username="ps-01", password=ps01.password)
    assert not again.connect(HOST, site.password_port, timeout=5).connected


def test_a_device_publishes_dead_letters_under_its_own_name_only(
    site: Site, clients: list[DeviceClient]
) -> None:
    """hh-02 cannot publish dead letters under hh-01's topic, nor on the hub's, only under
    its own: whoever reads them knows who reported them from the topic."""
    hub_id = site.provision("hub-1", role="hub")
    site.provision("hh-01")
    hh02 = site.provision("hh-02")
    reload_broker(site.broker)
    hub = connected(site, cert_client(hub_id, "floor-hub-dc1-1"), clients)
    assert hub.subscribe("floor/v1/dc1/dev/+/dlq")[0].value == 1
    assert hub.subscribe("floor/v1/dc1/dlq")[0].value == 1
    mallory = connected(site, cert_client(hh02), clients)
    assert mallory.publish("floor/v1/dc1/dev/hh-01/dlq", b"in hh-01's name").is_failure
    assert mallory.publish("floor/v1/dc1/dlq", b"in the hub's name").is_failure
    assert not mallory.publish("floor/v1/dc1/dev/hh-02/dlq", b"my own").is_failure
    assert wait_until(lambda: len(hub.received) >= 1, 10)
    time.sleep(0.3)
    assert hub.received == [("floor/v1/dc1/dev/hh-02/dlq", b"my own")]


@pytest.mark.parametrize("listener", ["certificate", "password"])
def test_a_device_cannot_push_another_off_with_its_client_id(
    site: Site, clients: list[DeviceClient], listener: str
) -> None:
    """hh-02 connecting with hh-01's client id is taken under its own identity: hh-01 stays
    connected, and hh-02 still publishes only under its own name."""
    method = "cert" if listener == "certificate" else "password"
    hh01 = site.provision("hh-01", method=method)
    hh02 = site.provision("hh-02", method=method)
    reload_broker(site.broker)

    def client(result: ProvisionResult, client_id: str) -> DeviceClient:
        if method == "cert":
            return cert_client(result, client_id)
        return DeviceClient(
            client_id,
            ca_file=result.bundle_dir / "ca.crt",
            username=result.device_id,
            password=result.password,
        )

    port = site.broker.port if method == "cert" else site.password_port
    one = connected(site, client(hh01, "floor-dc1-hh-01"), clients, port)
    for _ in range(3):  # again and again, as an attacker would
        mallory = connected(site, client(hh02, "floor-dc1-hh-01"), clients, port)
        assert mallory.publish("floor/v1/dc1/dev/hh-01/evt", b"as hh-01").is_failure
    time.sleep(0.5)
    assert not one.dropped.is_set(), site.broker.log_tail()
    assert not one.publish("floor/v1/dc1/dev/hh-01/evt", b"still here").is_failure
