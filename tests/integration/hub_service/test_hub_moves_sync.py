"""A refill over a real Mosquitto with the real hub: a pick takes a face below its minimum,
the hub leases the refill to the online device, the device moves part of it while offline
and closes the rest short; once back, the hub applies the move and the close once each
(stock from reserve to the face, the task done with the reason), a reconnect applies
nothing twice, and the stock check reconciles. A move the hub refuses (the reserve was
emptied meanwhile) comes back to the device with the reason and changes nothing on the hub;
the device takes it back (the refill open again, its local stock as before) and finishes
the refill with what is there."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import small_site
from hub_builders import apply, envelope, pick, stock
from sqlalchemy import Engine, select
from support.mosquitto import MosquittoBroker
from support.mqtt_peer import fast_settings
from test_hub_counts_mqtt import wait
from test_hub_mqtt import Reasons, start_hub
from test_hub_replenishment import face_with_reserve, refills, set_face, stock_ok

from floor_app.domain.events import StockMoved
from floor_app.services.stock_moves import MoveService
from floor_app.store import Store
from floor_app.store.seed import load_demo as load_device_demo
from hub import Hub
from hub.tables import InboxRow, LocationRow, table_of
from sync.device import SyncAgent

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]

SITE = "dc1"
INBOX = table_of(InboxRow)
LOCATIONS = table_of(LocationRow)
OTHER = "hh-02"  # the device whose pick takes the face below its minimum


def a_refill(engine: Engine) -> tuple[str, str, str, int, int]:
    """A pick by another device makes a refill: (face, sku, reserve, face, reserve on hand)."""
    face, sku, reserve, on_hand = face_with_reserve(engine)
    set_face(engine, face, sku, on_hand - 1, on_hand + 10)
    apply(engine, OTHER, [envelope(OTHER, 1, pick("SO-NOPE", sku, location=face, qty=2))])
    (task,) = refills(engine, sku)
    assert (task.from_location, task.to_location) == (reserve, face)
    return face, sku, reserve, stock(engine, face, sku)[0], stock(engine, reserve, sku)[0]


def hub_and_device(
    engine: Engine, db_url: str, broker: MosquittoBroker, tmp_path: Path
) -> tuple[Hub, Store]:
    """The hub (allocating, so it leases the refill) and the store of device hh-01."""
    hub = start_hub(engine, db_url, broker, allocate_every_s=0.2)
    store = Store.open(tmp_path / "hh-01.db", device_id="hh-01", site=SITE)
    load_device_demo(store, small_site(), tasks=0)
    return hub, store


def inbox(engine: Engine, device: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(INBOX.c.type, INBOX.c.outcome)
            .where(INBOX.c.device_id == device)
            .order_by(INBOX.c.seq)
        ).all()
    return [(r.type, r.outcome) for r in rows]


def test_a_refill_worked_offline_is_applied_once_and_the_stock_reconciles(
    demo_engine: Engine, db_url: str, broker: MosquittoBroker, tmp_path: Path
) -> None:
    face, sku, reserve, at_face, at_reserve = a_refill(demo_engine)
    (refill,) = refills(demo_engine, sku)
    hub, store = hub_and_device(demo_engine, db_url, broker, tmp_path)
    moves = MoveService(store)
    agent = SyncAgent(store, fast_settings(broker.url))
    try:
        agent.start()
        assert wait(lambda: any(t.task_id == refill.task_id for t in moves.open_moves()))
        agent.stop()  # offline from here
        task = moves.task(refill.task_id)
        assert (task.from_location, task.to_location, task.sku) == (reserve, face, sku)
        moves.start(task.task_id, "alice")
        moves.move(task.task_id, 5, face, "alice")
        moves.close(task.task_id, "empty", "alice")
        last = store.outbox_stats()[2]

        agent = SyncAgent(store, fast_settings(broker.url))
        agent.start()
        assert agent.wait_acked(last, 30), agent.status()
        agent.stop()
        agent = SyncAgent(store, fast_settings(broker.url))  # back again: nothing twice
        agent.start()
        time.sleep(1.0)

        moved = [t for t in inbox(demo_engine, "hh-01") if t[0] != "user.logged_in"]
        assert moved == [("stock.moved", "applied"), ("stock_task.closed", "applied")]
        assert stock(demo_engine, face, sku)[0] == at_face + 5
        assert stock(demo_engine, reserve, sku)[0] == at_reserve - 5
        (row,) = [r for r in refills(demo_engine, sku) if r.task_id == task.task_id]
        assert (row.state, row.moved, row.assigned_to) == ("done", 5, "alice")
        assert "empty" in row.reason
        stock_ok(demo_engine)
    finally:
        agent.stop()
        store.close()
        hub.stop()


def test_a_move_the_hub_refuses_comes_back_with_the_reason_and_changes_nothing(
    demo_engine: Engine, db_url: str, broker: MosquittoBroker, tmp_path: Path
) -> None:
    face, sku, reserve, at_face, at_reserve = a_refill(demo_engine)
    (task,) = refills(demo_engine, sku)
    # another device moved nearly all of the reserve away (a move without a task)
    with demo_engine.connect() as conn:
        elsewhere = conn.execute(
            select(LOCATIONS.c.code)
            .where(LOCATIONS.c.kind == "reserve")
            .where(LOCATIONS.c.code != reserve)
            .limit(1)
        ).scalar_one()
    result = apply(
        demo_engine,
        OTHER,
        [
            envelope(
                OTHER,
                2,
                StockMoved("", sku, reserve, elsewhere, at_reserve - 1, "putaway", "sam"),
            )
        ],
    )
    assert [o.kind for _seq, o in result.outcomes] == ["applied"]
    hub, store = hub_and_device(demo_engine, db_url, broker, tmp_path)
    moves = MoveService(store)
    rejected = Reasons()
    agent = SyncAgent(store, fast_settings(broker.url))
    agent.on_event_rejected(rejected)
    try:
        agent.start()
        assert wait(lambda: any(t.task_id == task.task_id for t in moves.open_moves()))
        with store.unit_of_work() as uow:
            device_face, device_reserve = (
                uow.catalogue.stock(face, sku),
                uow.catalogue.stock(reserve, sku),
            )
        # the device believed the reserve full and moved the whole refill: done on the device
        moves.move(task.task_id, task.qty, face, "alice")
        assert not moves.task(task.task_id).is_open
        last = store.outbox_stats()[2]
        assert agent.wait_acked(last, 30), agent.status()
        assert rejected.arrived.wait(10)
        assert f"{reserve} holds only 1 free of {sku}" in rejected.items[0]
        assert stock(demo_engine, face, sku)[0] == at_face
        assert stock(demo_engine, reserve, sku)[0] == 1
        (row,) = [r for r in refills(demo_engine, sku) if r.task_id == task.task_id]
        assert row.moved == 0
        stock_ok(demo_engine)
        # the device took the move back: the refill is open again, its local stock as before
        assert wait(lambda: moves.task(task.task_id).is_open, 10)
        again = moves.task(task.task_id)
        assert again.moved == 0 and again.reason.startswith("the hub refused: ")
        assert f"{reserve} holds only 1 free" in again.reason
        with store.unit_of_work() as uow:
            local = (uow.catalogue.stock(face, sku), uow.catalogue.stock(reserve, sku))
        assert local == (device_face, device_reserve)
        # what is left to do: move the one free unit and close the refill short
        moves.move(task.task_id, 1, face, "alice")
        moves.close(task.task_id, "empty", "alice")
        assert agent.wait_acked(store.outbox_stats()[2], 30), agent.status()
        assert len(rejected.items) == 1
        (row,) = [r for r in refills(demo_engine, sku) if r.task_id == task.task_id]
        assert (row.state, row.moved) == ("done", 1)
        assert stock(demo_engine, face, sku)[0] == at_face + 1
        stock_ok(demo_engine)
    finally:
        agent.stop()
        store.close()
        hub.stop()
