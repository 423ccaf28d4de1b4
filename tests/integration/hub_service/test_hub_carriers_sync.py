"""Carrier changes offline and exactly once, over a real Mosquitto with the real hub: a pack
station with no connection records two changes of an order's carrier service, one on the
version it saw and one on an older one; once online, the hub applies the first once (the
order's service, a ``carrier_choices`` row by the user, the status published with the
reason), refuses the stale one with its reason and sends the station the hub's view, and a
reconnect applies nothing twice."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import small_site
from hub_builders import SITE, order_row
from sqlalchemy import Engine, select
from support.mosquitto import MosquittoBroker
from support.mqtt_peer import fast_settings
from test_hub_mqtt import Reasons, go_online

from floor_app.domain.events import CarrierChanged
from floor_app.store import Store
from floor_app.store.seed import load_demo as load_device_demo
from hub import allocate
from hub.tables import CarrierChoiceRow, table_of
from sync.device import SyncAgent

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]

CHOICES = table_of(CarrierChoiceRow)
STATION = "pk-01"
ORDER = "SO-100001"


def choice_rows(engine: Engine) -> list[tuple[str, str, str, str]]:
    with engine.connect() as conn:
        return [
            (r.carrier, r.service, r.chosen_by, r.reason)
            for r in conn.execute(
                select(CHOICES).where(CHOICES.c.order_id == ORDER).order_by(CHOICES.c.id)
            )
        ]


def test_carrier_changes_recorded_offline_are_applied_once_and_the_stale_one_refused(
    demo_engine: Engine, db_url: str, broker: MosquittoBroker, tmp_path: Path
) -> None:
    allocate(demo_engine, SITE)  # the hub quotes the order's services and keeps the given one
    hub_row = order_row(demo_engine, ORDER)
    quoted = json.loads(hub_row.carrier_choice)["options"]
    target = next(
        q
        for q in quoted
        if q["fits"] and (q["carrier"], q["service"]) != (hub_row.carrier, hub_row.service)
    )
    store = Store.open(tmp_path / f"{STATION}.db", device_id=STATION, site=SITE)
    load_device_demo(store, small_site(), tasks=0)
    # offline: the station records both changes in its outbox
    with store.unit_of_work() as uow:
        for version, reason in ((hub_row.version, "customer asked"), (1, "seen long ago")):
            change = CarrierChanged(
                order=ORDER,
                carrier=target["carrier"],
                service=target["service"],
                reason=reason,
                user="ben",
                order_version=version,
            )
            uow.emit(change, order_version=version)
        uow.commit()
    last = store.outbox_stats()[2]
    refused = Reasons()
    observer, hub, agent = go_online(demo_engine, db_url, broker, store)
    agent.on_claim_refused(refused)
    try:
        agent.start()
        assert agent.wait_acked(last, 30), agent.status()
        assert refused.arrived.wait(10)
        assert len(refused.items) == 1
        assert "changed since this device saw it" in refused.items[0]
        row = order_row(demo_engine, ORDER)
        assert (row.carrier, row.service) == (target["carrier"], target["service"])
        expected = [
            (hub_row.carrier, hub_row.service, "hub", "given with the order"),
            (target["carrier"], target["service"], "ben", "customer asked"),
        ]
        assert choice_rows(demo_engine) == expected
        status_topic = f"floor/v1/{SITE}/orders/{ORDER}/status"
        said = f"carrier {target['carrier']} {target['service']} chosen by ben: customer asked"
        assert observer.wait(lambda: any(m["reason"] == said for m in observer.on(status_topic)))

        # the refusal came with the hub's view of the order: the station shows its service
        def station_service() -> tuple[str, str]:
            with store.unit_of_work() as uow:
                order = uow.orders.get(ORDER)
            return order.carrier, order.service

        deadline = time.monotonic() + 10
        while station_service() != (target["carrier"], target["service"]):
            assert time.monotonic() < deadline, station_service()
            time.sleep(0.05)
        agent.stop()
        agent = SyncAgent(store, fast_settings(broker.url))  # a reconnect, as after a restart
        agent.start()
        assert agent.wait_acked(last, 30)
        assert choice_rows(demo_engine) == expected  # nothing applied twice
    finally:
        agent.stop()
        hub.stop()
        observer.stop()
        store.close()
