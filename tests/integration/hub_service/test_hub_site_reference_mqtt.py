"""The site's reference data on real devices over a real Mosquitto: a device that starts
empty gets the whole site a load made, finds an item by its case barcode, and says which
version it runs; a device that was off while a change was loaded gets it on reconnect."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine
from support.mosquitto import MosquittoBroker
from support.mosquitto_tls import wait_until
from support.mqtt_peer import fast_settings

from floor_app.store import Store
from hub import Hub, HubSettings
from hub.database import run_transaction
from hub.site_data import register_device
from hub.site_files import load_site
from hub.stats import hub_stats
from sync.device import SyncAgent

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]

SITE = "dc1"
EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "site-example"


def wait_for(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    return wait_until(check, timeout)


def version_of(store: Store) -> int:
    return int(store.meta("site_version", "0") or 0)


def test_a_load_reaches_devices_and_an_offline_one_catches_up(
    engine: Engine, db_url: str, broker: MosquittoBroker, tmp_path: Path
) -> None:
    for device, role in (("hh-01", "picker"), ("pk-01", "packer")):
        run_transaction(engine, lambda c, d=device, r=role: register_device(c, d, r))
    load_site(engine, SITE, EXAMPLE)
    hub = Hub(db_url, broker.url, HubSettings(site=SITE), engine=engine).start(wait_online=10)
    stores = {
        d: Store.open(tmp_path / f"{d}.db", device_id=d, site=SITE) for d in ("hh-01", "pk-01")
    }
    agents = {d: SyncAgent(s, fast_settings(broker.url)) for d, s in stores.items()}
    try:
        for agent in agents.values():
            agent.start()
        picker = stores["hh-01"]
        assert wait_for(lambda: all(version_of(s) == 1 for s in stores.values())), "v1 not in"
        with picker.unit_of_work() as uow:
            counts = uow.catalogue.counts()
            case = uow.catalogue.sku_by_gtin("25060321000508")  # honey, a case of 24
            user = uow.users.by_badge("B2102")
        assert counts == {"skus": 24, "locations": 150, "cartons": 4}
        assert case.sku == "HON-WF-340" and case.gtin == "05060321000504"
        assert user is not None and user.name == "李伟" and user.check_pin("7305")

        def said(device: str, version: int) -> bool:
            stats = run_transaction(engine, hub_stats)
            return bool(stats["devices"][device]["site_version"] == version)

        assert wait_for(lambda: said("hh-01", 1)), "the heartbeat did not say v1"
        # the packer's station is off while a change is loaded
        agents["pk-01"].stop()
        folder = tmp_path / "site"
        shutil.copytree(EXAMPLE, folder)
        items = (folder / "items.csv").read_text(encoding="utf-8")
        (folder / "items.csv").write_text(
            items.replace("Wildflower honey, 340 g jar", "Heather honey, 340 g jar"),
            encoding="utf-8",
        )
        assert load_site(engine, SITE, folder).version == 2
        assert wait_for(lambda: version_of(picker) == 2), "the online device did not get v2"
        assert version_of(stores["pk-01"]) == 1
        agents["pk-01"] = SyncAgent(stores["pk-01"], fast_settings(broker.url))
        agents["pk-01"].start()
        assert wait_for(lambda: version_of(stores["pk-01"]) == 2), "v2 not caught up"
        with stores["pk-01"].unit_of_work() as uow:
            assert uow.catalogue.sku("HON-WF-340").description == "Heather honey, 340 g jar"
        assert wait_for(lambda: said("pk-01", 2)), "the packer's heartbeat did not say v2"
        assert run_transaction(engine, hub_stats)["site_version"] == 2
    finally:
        for agent in agents.values():
            agent.stop()
        hub.stop()
        for store in stores.values():
            store.close()
