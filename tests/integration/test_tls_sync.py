"""A provisioned device syncs over TLS through the real sync agent, from its own floor.toml.

The device's settings come from the bundle ``floor-hub provision`` wrote (its paths pointing
at the bundle folder, as they point at /etc/floor on a device); the hub side is the scripted
hub with the hub's own certificate. A revoked device's agent stays offline and says why.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from support.mosquitto import MosquittoBroker, require_mosquitto
from support.mosquitto_tls import reload_broker, site_broker, wait_until
from support.mqtt_peer import ScriptedHub, emit_picks, fast_settings

from floor_app.settings import load_settings
from floor_app.store import Store
from hub.provisioning import ProvisionResult, SiteAuthority
from sync.device import SyncAgent, link_options

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[SiteAuthority, MosquittoBroker]]:
    require_mosquitto()
    authority = SiteAuthority(tmp_path / "site", broker_group=None)
    authority.issue_broker_certificate(["localhost"], ["127.0.0.1"], site="dc1")
    broker = site_broker(tmp_path / "broker", authority.paths)
    broker.start()
    yield authority, broker
    broker.kill()


def provision_device(
    authority: SiteAuthority, broker: MosquittoBroker, out: Path, device_id: str, **kw: object
) -> ProvisionResult:
    return authority.provision(
        device_id,
        str(kw.pop("role", "picker")),
        out_dir=out,
        broker_url=f"mqtts://127.0.0.1:{kw.pop('port', broker.port)}",
        device_dir=out / device_id,  # where the files are on this "device"
        **kw,  # type: ignore[arg-type]
    )


def agent_from_bundle(bundle: Path, store: Store) -> SyncAgent:
    """Build the agent the way floor_app.bootstrap does from [sync] (with test timings)."""
    s = load_settings(bundle / "floor.toml")
    link = replace(link_options(s.sync), keepalive_s=5, backoff_min_s=0.05, backoff_max_s=0.5)
    return SyncAgent(store, replace(fast_settings(s.sync.broker, site=s.device.site), link=link))


def hub_for(authority: SiteAuthority, broker: MosquittoBroker, out: Path) -> ScriptedHub:
    identity = provision_device(authority, broker, out, "hub-1", role="hub")
    reload_broker(broker)
    hub = ScriptedHub(broker.host, broker.port, client_id="floor-hub-dc1-1")
    b = identity.bundle_dir
    hub.client.tls_set(
        ca_certs=str(b / "ca.crt"), certfile=str(b / "device.crt"), keyfile=str(b / "device.key")
    )
    return hub.start()


@pytest.mark.parametrize("method", ["cert", "password"])
def test_a_provisioned_device_syncs_over_tls(
    site: tuple[SiteAuthority, MosquittoBroker], tmp_path: Path, method: str
) -> None:
    authority, broker = site
    out = tmp_path / "out"
    port = broker.port if method == "cert" else broker.password_port  # type: ignore[attr-defined]
    device = provision_device(authority, broker, out, "hh-01", method=method, port=port)
    hub = hub_for(authority, broker, out)
    store = Store.open(tmp_path / "hh-01.db", device_id="hh-01", site="dc1")
    agent = agent_from_bundle(device.bundle_dir, store)
    try:
        last = emit_picks(store, 200)
        agent.start()
        assert agent.wait_acked(last, 30), (agent.status(), broker.log_tail())
        assert hub.applied["hh-01"] == list(range(1, last + 1))
        assert agent.status().online
    finally:
        agent.stop()
        hub.stop()
        store.close()


def test_a_revoked_device_stays_offline_and_keeps_its_events(
    site: tuple[SiteAuthority, MosquittoBroker], tmp_path: Path
) -> None:
    authority, broker = site
    out = tmp_path / "out"
    device = provision_device(authority, broker, out, "hh-02")
    hub = hub_for(authority, broker, out)
    authority.revoke("hh-02", reason="stolen")
    reload_broker(broker)
    store = Store.open(tmp_path / "hh-02.db", device_id="hh-02", site="dc1")
    agent = agent_from_bundle(device.bundle_dir, store)
    try:
        emit_picks(store, 5)
        agent.start()
        assert wait_until(lambda: agent.status().last_error != "", 15), agent.status()
        time.sleep(1.0)  # several attempts, none of them let in
        status = agent.status()
        assert status.connects == 0, status
        assert not status.online and status.outbox_depth == 5, status
        assert hub.applied["hh-02"] == []
    finally:
        agent.stop()
        hub.stop()
        store.close()


def test_a_supervisor_device_syncs_and_follows_the_site_on_one_connection(
    site: tuple[SiteAuthority, MosquittoBroker], tmp_path: Path
) -> None:
    """The broker binds client ids to identities, so a supervisor's device holds one
    connection: its board reads the site on its sync agent's link, and neither pushes the
    other off."""
    from floor_app.services.supervision import DevicePresence
    from sync.device.supervisor_feed import FeedSettings, MqttSupervisorFeed

    authority, broker = site
    out = tmp_path / "out"
    boss = provision_device(authority, broker, out, "sv-01", role="supervisor")
    picker = provision_device(authority, broker, out, "hh-01")
    hub = hub_for(authority, broker, out)
    stores = {
        d: Store.open(tmp_path / f"{d}.db", device_id=d, site="dc1") for d in ("sv-01", "hh-01")
    }
    agent = agent_from_bundle(boss.bundle_dir, stores["sv-01"])
    other = agent_from_bundle(picker.bundle_dir, stores["hh-01"])
    s = load_settings(boss.bundle_dir / "floor.toml")
    feed = MqttSupervisorFeed(
        stores["sv-01"],
        lambda: DevicePresence("sv-01", True),
        FeedSettings(link=link_options(s.sync), site="dc1"),
        shared=agent,
    )
    try:
        agent.start()
        other.start()
        feed.follow()  # nothing of its own to start: the agent reads for it
        assert feed.wait(
            lambda f: any(d.device_id == "hh-01" and d.online for d in f.devices()), 20
        ), (feed.devices(), broker.log_tail())
        last = emit_picks(stores["sv-01"], 20)
        assert agent.wait_acked(last, 30), agent.status()
        time.sleep(1.0)
        assert agent.status().connects == 1, agent.status()  # never pushed off
        assert feed.online and hub.applied["sv-01"] == list(range(1, last + 1))
    finally:
        feed.stop()
        agent.stop()
        other.stop()
        hub.stop()
        for store in stores.values():
            store.close()
