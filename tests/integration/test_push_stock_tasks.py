"""Stock tasks pushed by the hub land in the device store exactly once, keep local progress
and are cancelled by a later push."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from floor_app.domain.stockwork import StockTask, StockTaskKind, StockTaskState
from floor_app.store import Store
from sync.device import PushApplier
from sync.protocol import (
    PushMessage,
    StockTaskAssigned,
    StockTaskCancelled,
    StockTaskModel,
    decode,
    encode,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "hh-01.db", device_id="hh-01", site="dc1")
    yield s
    s.close()


def task(version: int = 2, moved: int = 0) -> StockTask:
    return StockTask(
        "ST-000001",
        StockTaskKind.REPLENISH,
        "SKU-00001",
        "04012345000017",
        "R01-01-1A",
        "A01-01-1A",
        qty=12,
        moved=moved,
        lot="LOT-7",
        expiry="2027-03-01",
        urgent=True,
        version=version,
    )


def push(cursor: int, item: StockTaskAssigned | StockTaskCancelled) -> PushMessage:
    message = PushMessage(device_id="hh-01", cursor=cursor, item=item)
    decoded = decode(PushMessage, encode(message))  # through the wire format
    assert decoded == message
    return decoded


def test_an_assigned_stock_task_is_stored_and_a_cancel_closes_it(store: Store) -> None:
    applier = PushApplier(store)
    assert applier.apply(push(1, StockTaskAssigned(task=StockTaskModel.from_domain(task()))))
    with store.unit_of_work() as uow:
        stored = uow.stock_tasks.get("ST-000001")
        assert stored == task()
        assert [t.task_id for t in uow.stock_tasks.open(StockTaskKind.REPLENISH)] == ["ST-000001"]
        assert uow.stock_tasks.open(StockTaskKind.COUNT) == []
    outcome = applier.apply(push(2, StockTaskCancelled(task_id="ST-000001", reason="face full")))
    assert "cancelled" in outcome.note
    with store.unit_of_work() as uow:
        cancelled = uow.stock_tasks.get("ST-000001")
    assert cancelled.state is StockTaskState.CANCELLED and cancelled.reason == "face full"
    again = applier.apply(push(3, StockTaskCancelled(task_id="ST-000001", reason="again")))
    assert "already cancelled" in again.note


def test_a_lagging_push_keeps_what_the_device_moved(store: Store) -> None:
    applier = PushApplier(store)
    applier.apply(push(1, StockTaskAssigned(task=StockTaskModel.from_domain(task()))))
    with store.unit_of_work() as uow:
        local = uow.stock_tasks.get("ST-000001")
        local.confirm_move(5)
        uow.stock_tasks.save(local)
        uow.commit()
    applier.apply(push(2, StockTaskAssigned(task=StockTaskModel.from_domain(task(version=3)))))
    with store.unit_of_work() as uow:
        assert uow.stock_tasks.get("ST-000001").moved == 5
    older = applier.apply(
        push(3, StockTaskAssigned(task=StockTaskModel.from_domain(task(version=1))))
    )
    assert "newer" in older.note
