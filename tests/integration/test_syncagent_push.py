"""The push stream: applying items to a real store, the cursor, resync and gaps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.mosquitto import MosquittoBroker, require_mosquitto
from support.mqtt_peer import ScriptedHub, fast_settings

from floor_app.demo import build_demo_site
from floor_app.domain.order import OrderState
from floor_app.domain.picking import PickLine, PickTask, TaskState
from floor_app.hub_sync import PushApplied, PushKind
from floor_app.store import Store
from sync.device import CURSOR_KEY, PushApplier, SyncAgent, news_of, stored_cursor
from sync.protocol import (
    OrderCancelled,
    OrderModel,
    OrderSnapshot,
    PickTaskModel,
    PushMessage,
    RosterUpdate,
    StationConfig,
    StockTaskCancelled,
    TaskAssigned,
    TaskCancelled,
    UserModel,
)

pytestmark = pytest.mark.integration

SITE = build_demo_site()


def task(version: int = 2, picked: int = 0) -> PickTask:
    order = SITE.orders[0]
    line = order.lines[0]
    return PickTask(
        "PT-77",
        [
            PickLine(
                "PT-77-1",
                order.order_id,
                line.line_no,
                line.sku,
                "04260123000017",
                "A-01-01-1-A",
                line.qty,
                picked=picked,
            )
        ],
        state=TaskState.ASSIGNED,
        assigned_to="alice",
        version=version,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "hh-01.db", device_id="hh-01", site="dc1")
    yield s
    s.close()


def push(cursor: int, item: object) -> PushMessage:
    return PushMessage(device_id="hh-01", cursor=cursor, item=item)  # type: ignore[arg-type]


def test_every_push_item_lands_in_the_store_with_its_cursor(store: Store) -> None:
    applier = PushApplier(store)
    order = SITE.orders[0]
    items = [
        OrderSnapshot(order=OrderModel.from_domain(order)),
        TaskAssigned(task=PickTaskModel.from_domain(task())),
        RosterUpdate(users=[UserModel.from_domain(u) for u in SITE.users]),
        StationConfig(station="PACK-01", settings={"printer": "tcp://127.0.0.1:9100"}),
        TaskCancelled(task_id="PT-77", reason="reallocated"),
        OrderCancelled(order_id=order.order_id, reason="customer cancelled"),
        OrderCancelled(order_id="SO-NOT-HERE", reason="not ours"),
    ]
    for cursor, item in enumerate(items, start=1):
        assert applier.apply(push(cursor, item)).applied
    assert stored_cursor(store) == len(items)
    with store.unit_of_work() as uow:
        assert uow.orders.get(order.order_id).state is OrderState.CANCELLED
        assert uow.tasks.get("PT-77").state is TaskState.CANCELLED
        assert len(uow.users.all()) == len(SITE.users)
        assert json.loads(uow.meta.get("station_config:PACK-01") or "{}") == {
            "printer": "tcp://127.0.0.1:9100"
        }


def test_the_app_hears_what_each_push_was_and_which_end_a_task() -> None:
    items = [
        TaskCancelled(task_id="PT-77", reason="reallocated"),
        StockTaskCancelled(task_id="ST-000011", reason="the face was counted full"),
        OrderCancelled(order_id="SO-100001", reason="customer cancelled"),
        StationConfig(station="PACK-01", settings={"scale": True}),
    ]
    news = [news_of(push(cursor, item)) for cursor, item in enumerate(items, start=1)]
    assert news == [
        PushApplied(1, PushKind.TASK_CANCELLED, task_id="PT-77", reason="reallocated"),
        PushApplied(
            2,
            PushKind.STOCK_TASK_CANCELLED,
            task_id="ST-000011",
            reason="the face was counted full",
        ),
        PushApplied(3, PushKind.ORDER_CANCELLED, order_id="SO-100001", reason="customer cancelled"),
        PushApplied(4, PushKind.STATION_CONFIG),
    ]
    assert [n.ends_task for n in news] == [True, True, False, False]


def test_a_push_at_or_below_the_cursor_changes_nothing(store: Store) -> None:
    applier = PushApplier(store)
    assert applier.apply(
        push(1, TaskAssigned(task=PickTaskModel.from_domain(task(version=2))))
    ).applied
    outcome = applier.apply(push(1, TaskAssigned(task=PickTaskModel.from_domain(task(version=9)))))
    assert not outcome.applied
    with store.unit_of_work() as uow:
        assert uow.tasks.get("PT-77").version == 2
    with pytest.raises(ValueError, match="skips ahead"):
        applier.apply(push(5, TaskCancelled(task_id="PT-77", reason="x")))
    assert stored_cursor(store) == 1


def test_a_lagging_snapshot_never_takes_back_local_progress(store: Store) -> None:
    applier = PushApplier(store)
    applier.apply(push(1, TaskAssigned(task=PickTaskModel.from_domain(task(version=2, picked=0)))))
    with store.unit_of_work() as uow:
        t = uow.tasks.get("PT-77")
        t.lines[0].picked = 1
        uow.tasks.save(t)
        uow.commit()
    applier.apply(push(2, TaskAssigned(task=PickTaskModel.from_domain(task(version=3, picked=0)))))
    with store.unit_of_work() as uow:
        t = uow.tasks.get("PT-77")
        assert (t.version, t.lines[0].picked) == (3, 1)
    applier.apply(push(3, TaskAssigned(task=PickTaskModel.from_domain(task(version=1)))))
    with store.unit_of_work() as uow:
        assert uow.tasks.get("PT-77").version == 3  # older than what we hold


# -- through a real broker -----------------------------------------------------------------


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    require_mosquitto()
    b = MosquittoBroker(tmp_path / "broker")
    b.start()
    yield b
    b.kill()


@pytest.mark.mqtt
def test_the_stream_resumes_from_the_stored_cursor(broker: MosquittoBroker, store: Store) -> None:
    hub = ScriptedHub(broker.host, broker.port).start()
    order = SITE.orders[1]
    # three pushes waiting before the device ever connects: it gets them by asking
    for item in [
        OrderSnapshot(order=OrderModel.from_domain(order)),
        TaskAssigned(task=PickTaskModel.from_domain(task())),
        RosterUpdate(users=[UserModel.from_domain(SITE.users[0])]),
    ]:
        hub.push("hh-01", item, publish=False)
    applied: list[PushApplied] = []
    agent = SyncAgent(store, fast_settings(broker.url))
    agent.on_push_applied(applied.append)
    agent.start()
    try:
        assert hub.wait_for(lambda: stored_cursor(store) == 3, 15)
        assert hub.sync_requests[0].since_cursor == 0
        # listeners hear of a push just after its commit: wait for the last one
        assert hub.wait_for(lambda: len(applied) >= 3, 5)
        assert applied == [
            PushApplied(
                1, PushKind.ORDER_SNAPSHOT, order_id=order.order_id, order_state=order.state
            ),
            PushApplied(2, PushKind.TASK_ASSIGNED, task_id="PT-77"),
            PushApplied(3, PushKind.ROSTER),
        ]
        hub.push("hh-01", OrderCancelled(order_id=order.order_id, reason="customer"))
        assert hub.wait_for(lambda: stored_cursor(store) == 4, 10)
    finally:
        agent.stop()
    # offline: two more items; on the next start the device asks from cursor 4
    hub.push("hh-01", TaskCancelled(task_id="PT-77", reason="lease moved"), publish=False)
    hub.push("hh-01", StationConfig(station="PACK-01", settings={"scale": True}), publish=False)
    agent = SyncAgent(store, fast_settings(broker.url))
    agent.start()
    try:
        assert hub.wait_for(lambda: stored_cursor(store) == 6, 15)
        assert hub.sync_requests[-1].since_cursor == 4
        with store.unit_of_work() as uow:
            assert uow.orders.get(order.order_id).state is OrderState.CANCELLED
            assert uow.tasks.get("PT-77").state is TaskState.CANCELLED
    finally:
        agent.stop()
        hub.stop()


@pytest.mark.mqtt
def test_a_gap_is_held_back_and_filled_by_a_resync(broker: MosquittoBroker, store: Store) -> None:
    hub = ScriptedHub(broker.host, broker.port).start()
    agent = SyncAgent(store, fast_settings(broker.url))
    agent.start()
    try:
        assert agent.wait_online(10)
        assert hub.wait_for(lambda: len(hub.sync_requests) == 1, 5)
        hub.push(
            "hh-01", RosterUpdate(users=[UserModel.from_domain(SITE.users[0])]), publish=False
        )  # lost
        hub.push(
            "hh-01", RosterUpdate(users=[UserModel.from_domain(SITE.users[1])])
        )  # arrives: a gap
        assert hub.wait_for(lambda: stored_cursor(store) == 2, 10)
        assert len(hub.sync_requests) >= 2
        with store.unit_of_work() as uow:
            assert len(uow.users.all()) == 2
        assert agent.status().counters.get("push.gap_seen", 0) >= 1
        assert store.meta(CURSOR_KEY) == "2"
    finally:
        agent.stop()
        hub.stop()


@pytest.mark.mqtt
def test_pushes_held_behind_a_gap_never_stall_a_broker_with_a_small_window(
    tmp_path: Path, store: Store
) -> None:
    require_mosquitto()
    broker = MosquittoBroker(tmp_path / "small-window", max_inflight_messages=3).start()
    hub = ScriptedHub(broker.host, broker.port).start()
    agent = SyncAgent(store, fast_settings(broker.url))
    agent.start()
    try:
        assert agent.wait_online(10)
        assert hub.wait_for(lambda: len(hub.sync_requests) == 1, 5)
        users = [UserModel.from_domain(u) for u in SITE.users]
        hub.push("hh-01", RosterUpdate(users=users[:1]), publish=False)  # lost: a gap at 1
        for i in range(12):  # more held behind the gap than the broker's window
            hub.push("hh-01", RosterUpdate(users=users[i % len(users) : i % len(users) + 1]))
        assert hub.wait_for(lambda: stored_cursor(store) == 13, 15), stored_cursor(store)
        assert agent.status().counters.get("push.gap_seen", 0) >= 1
    finally:
        agent.stop()
        hub.stop()
        broker.kill()
