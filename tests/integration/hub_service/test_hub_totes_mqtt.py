"""Totes over a real Mosquitto with real devices: a task picked into totes on one handheld
lets a pack station elsewhere open the order by its tote, and packing it frees the tote on
the picker's device too."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import small_site
from sqlalchemy import Engine, select
from support.mosquitto import MosquittoBroker
from support.mqtt_peer import fast_settings

from floor_app.domain.picking import TaskState
from floor_app.domain.totes import ToteState
from floor_app.services.packing import PackingService
from floor_app.services.picking import PickingService
from floor_app.store import Store
from floor_app.store.seed import load_demo as load_device_demo
from hub import Hub, HubSettings
from hub.tables import OrderRow, SiteToteRow, table_of
from sync.device import SyncAgent

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]

SITE = "dc1"
PICKERS = ("hh-01", "hh-02", "hh-03", "hh-04")
STATIONS = {"PACK-01": "pk-01", "PACK-02": "pk-02"}


def wait_for(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_a_tote_picked_on_one_device_opens_its_order_at_a_station_elsewhere(
    demo_engine: Engine, db_url: str, broker: MosquittoBroker, tmp_path: Path
) -> None:
    hub = Hub(
        db_url, broker.url, HubSettings(site=SITE, allocate_every_s=0.2), engine=demo_engine
    ).start(wait_online=10)
    stores = {
        d: Store.open(tmp_path / f"{d}.db", device_id=d, site=SITE)
        for d in (*PICKERS, *STATIONS.values())
    }
    for device in ("hh-01", *STATIONS.values()):
        load_device_demo(stores[device], small_site(), tasks=0)  # reference data
    agents = {d: SyncAgent(s, fast_settings(broker.url)) for d, s in stores.items()}
    try:
        for agent in agents.values():
            agent.start()
        picker = stores["hh-01"]
        picking = PickingService(picker)

        def assigned() -> list[str]:
            with picker.unit_of_work() as uow:
                return uow.tasks.ids(TaskState.ASSIGNED)

        assert wait_for(lambda: bool(assigned())), "no task reached hh-01"
        task_id = assigned()[0]
        task = picking.start(task_id, "alice").task
        while task.totes_to_scan():
            task = picking.assign_totes(task_id, picking.free_totes(1)[0], "alice").task
        for line in task.ordered_lines():
            task = picking.confirm(task_id, line.line_id, line.qty, "alice").task
            due = picking.put_due(task)
            if due is not None:
                tote = task.tote_for(due.tote_position)
                assert tote is not None
                task = picking.confirm_put(task_id, due.line_id, tote.tote_id, "alice").task
        picking.complete(task_id, "alice")
        assert agents["hh-01"].wait_acked(picker.outbox_stats()[2], 30)

        orders = table_of(OrderRow)
        with demo_engine.connect() as conn:
            picked = dict(
                conn.execute(
                    select(orders.c.order_id, orders.c.pack_station).where(
                        orders.c.state == "picked"
                    )
                ).all()
            )
        # a tote whose order is all picked (an order may have lines on another task)
        tote = next(t for t in task.totes if t.order_id in picked)
        order_id = tote.order_id or ""
        station = picked[order_id]
        device = STATIONS[station]
        packing = PackingService(stores[device], station)
        # the hub told the station which order is in the tote (and sent it the order)
        assert wait_for(lambda: packing.tote_known(tote.tote_id)), f"{device} never heard"
        view = packing.open(tote.tote_id)
        assert view.order.order_id == order_id
        session = view.session.session_id
        for sku, qty in view.session.expected.items():
            for _ in range(qty):
                view, _item = packing.verify(session, view.skus[sku].gtin)
        packing.weigh(session, view.expected_weight_g, "ben")
        assert agents[device].wait_acked(stores[device].outbox_stats()[2], 30)
        totes = table_of(SiteToteRow)
        with demo_engine.connect() as conn:
            state = conn.execute(
                select(totes.c.state).where(totes.c.code == tote.tote_id)
            ).scalar_one()
        assert state == "free"

        def free_on_the_picker() -> bool:
            with picker.unit_of_work() as uow:
                held = uow.totes.get(tote.tote_id)
            return held is not None and held.state is ToteState.FREE

        # packing freed the tote on the picker's device too: it takes it for the next task
        assert wait_for(free_on_the_picker)
        assert tote.tote_id in picking.free_totes(1000)
    finally:
        for agent in agents.values():
            agent.stop()
        for s in stores.values():
            s.close()
        hub.stop()
