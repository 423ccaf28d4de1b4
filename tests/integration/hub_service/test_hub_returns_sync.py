"""Returns offline and exactly once, over a real Mosquitto with the real hub: a returns desk
with no connection records units of a parcel it does not know (named by its tracking
number) and of an order nobody knows; once online, the hub applies each event once (the
parcel's units to storage and quarantine, the order's status with the units returned), the
unknown order is rejected with its reason sent back to the device, and a reconnect applies
nothing twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import small_site
from hub_builders import TRACKING, ship, stock
from sqlalchemy import Engine, func, select
from support.mosquitto import MosquittoBroker
from support.mqtt_peer import fast_settings
from test_hub_mqtt import Reasons, go_online

from floor_app.domain.stockwork import ReturnGrade
from floor_app.services.returns import ReturnsService
from floor_app.store import Store
from floor_app.store.seed import load_demo as load_device_demo
from hub.stock_check import check_stock
from hub.tables import InboxRow, ReturnReceiptRow, table_of
from sync.device import SyncAgent

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]

RECEIPTS = table_of(ReturnReceiptRow)
INBOX = table_of(InboxRow)
DESK = "pk-02"


def test_returns_recorded_offline_are_applied_once_and_the_unknown_one_rejected(
    demo_engine: Engine, db_url: str, broker: MosquittoBroker, tmp_path: Path
) -> None:
    lines = ship(demo_engine)
    line = lines[0]
    store = Store.open(tmp_path / f"{DESK}.db", device_id=DESK, site="dc1")
    load_device_demo(store, small_site(), tasks=0)
    desk = ReturnsService(store)
    face = desk.suggest(line.sku, ReturnGrade.RESALEABLE)
    assert face is not None
    before_face = stock(demo_engine, face, line.sku)[0]
    # offline: nothing runs but the store
    parcel = desk.open(TRACKING)
    assert not parcel.checked  # packed at another station: the hub checks it
    gtin = desk.item(parcel, small_site().sku(line.sku).gtin).gtin
    assert gtin
    desk.put(parcel, line.sku, ReturnGrade.RESALEABLE, face, "ben")
    if line.qty > 1:
        desk.put(parcel, line.sku, ReturnGrade.DAMAGED, "QUAR-01", "ben")
    stranger = desk.open("SO-999999")
    desk.put(stranger, line.sku, ReturnGrade.WRONG_ITEM, "QUAR-01", "ben")
    last = store.outbox_stats()[2]
    rejected = Reasons()
    observer, hub, agent = go_online(demo_engine, db_url, broker, store)
    agent.on_event_rejected(rejected)
    try:
        agent.start()
        assert agent.wait_acked(last, 30), agent.status()
        assert rejected.arrived.wait(10)
        assert len(rejected.items) == 1
        assert "order SO-999999 is not known to the hub" in rejected.items[0]
        status_topic = "floor/v1/dc1/orders/SO-100003/status"
        units = 2 if line.qty > 1 else 1
        assert observer.wait(
            lambda: any(m.get("returned") == units for m in observer.on(status_topic)), 10
        ), observer.on(status_topic)
        agent.stop()
        agent = SyncAgent(store, fast_settings(broker.url))  # a reconnect, as after a restart
        agent.start()
        assert agent.wait_acked(last, 30)
        with demo_engine.connect() as conn:
            receipts = [(r.order_id, r.sku, r.qty, r.grade) for r in conn.execute(select(RECEIPTS))]
            recorded = conn.execute(
                select(func.count()).select_from(INBOX).where(INBOX.c.device_id == DESK)
            ).scalar_one()
            report = check_stock(conn)
        expected = [("SO-100003", line.sku, 1, "resaleable")]
        if line.qty > 1:
            expected.append(("SO-100003", line.sku, 1, "damaged"))
        assert sorted(receipts) == sorted(expected)
        assert recorded == last  # every event recorded once, the rejected one too
        assert stock(demo_engine, face, line.sku)[0] == before_face + 1
        assert report["ok"] is True, report
    finally:
        agent.stop()
        hub.stop()
        observer.stop()
        store.close()
