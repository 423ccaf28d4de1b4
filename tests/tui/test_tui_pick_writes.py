"""The pick hot path writes the same rows the ORM path writes, gap-free, state and event
together (real SQLite)."""

from __future__ import annotations

import pytest

from floor_app.context import AppContext
from floor_app.domain.errors import QuantityError
from floor_app.domain.order import OrderState
from floor_app.domain.picking import TaskState
from floor_app.store import outbox

pytestmark = pytest.mark.integration


def test_fast_path_rows_match_the_orm_outbox_and_counts(demo_ctx: AppContext) -> None:
    picking = demo_ctx.picking
    task = picking.start("PT-0002", "alice").task
    for line in task.ordered_lines():
        for _ in range(line.qty):
            picking.confirm(task.task_id, line.line_id, 1, "alice", task=task)
    with demo_ctx.store.read() as s:
        records = outbox.all_records(s)
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    picks = [r for r in records if r.type == "pick.confirmed"]
    assert len(picks) == sum(ln.qty for ln in task.lines)
    assert all(r.kind == "fact" and r.device_id == "hh-01" for r in picks)
    assert picks[0].payload.keys() == {
        "task",
        "line",
        "order",
        "sku",
        "location",
        "qty",
        "tote_position",
        "user",
    }
    # an ORM-written event after them continues the same sequence
    with demo_ctx.store.unit_of_work() as uow:
        from floor_app.domain.events import TaskCompleted

        rec = uow.emit(TaskCompleted(task="PT-0002", user="alice"))
        uow.commit()
    assert rec.seq == records[-1].seq + 1
    fresh = picking.task("PT-0002")
    assert fresh.is_complete and fresh.state is TaskState.IN_PROGRESS
    with demo_ctx.store.unit_of_work() as uow:
        for order_id in {ln.order_id for ln in fresh.lines}:
            order = uow.orders.get(order_id)
            assert order.state is OrderState.PICKED
            assert all(ln.picked == ln.qty for ln in order.lines)


def test_a_stale_cached_task_is_reloaded_and_an_error_changes_nothing(
    demo_ctx: AppContext,
) -> None:
    picking = demo_ctx.picking
    cached = picking.start("PT-0001", "alice").task
    line = cached.ordered_lines()[0]
    picking.confirm(cached.task_id, line.line_id, 1, "alice")  # behind the cache's back
    stale = picking.task("PT-0001")
    stale.line(line.line_id).picked = 0
    before = demo_ctx.store.outbox_stats()[0]
    with pytest.raises(QuantityError):
        picking.confirm(cached.task_id, line.line_id, 1, "alice", task=stale)
    assert demo_ctx.store.outbox_stats()[0] == before
    assert picking.task("PT-0001").line(line.line_id).picked == line.qty
