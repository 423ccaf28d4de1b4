"""The pick hot path writes the same rows the ORM path writes, gap-free, state and event
together (real SQLite)."""

from __future__ import annotations

import pytest
from pilot_steps import put_tote, totes_scanned

from floor_app.context import AppContext
from floor_app.domain.errors import IllegalTransition, QuantityError
from floor_app.domain.order import OrderState
from floor_app.domain.picking import TaskState
from floor_app.services.pick_writes import PickWrites
from floor_app.store import outbox

pytestmark = pytest.mark.integration


def test_fast_path_rows_match_the_orm_outbox_and_counts(demo_ctx: AppContext) -> None:
    picking = demo_ctx.picking
    task = totes_scanned(demo_ctx, "PT-0002")
    for line in task.ordered_lines():
        for _ in range(line.qty):
            picking.confirm(task.task_id, line.line_id, 1, "alice", task=task)
        task = picking.confirm_put(
            task.task_id, line.line_id, put_tote(task, line.line_id), "alice"
        ).task
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
        "tote",
        "lot",
        "lot_substituted",
        "serial",
    }
    assert picks[0].payload["lot"] == "" and picks[0].payload["lot_substituted"] is False
    assert picks[0].payload["tote"] == put_tote(task, picks[0].payload["line"])
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
    cached = totes_scanned(demo_ctx, "PT-0001")
    line = cached.ordered_lines()[0]
    picking.confirm(cached.task_id, line.line_id, 1, "alice")  # behind the cache's back
    stale = picking.task("PT-0001")
    stale.line(line.line_id).picked = 0
    before = demo_ctx.store.outbox_stats()[0]
    with pytest.raises(QuantityError):
        picking.confirm(cached.task_id, line.line_id, 1, "alice", task=stale)
    assert demo_ctx.store.outbox_stats()[0] == before
    assert picking.task("PT-0001").line(line.line_id).picked == line.qty


def test_the_fast_path_moves_orders_only_as_the_state_machine_allows(
    demo_ctx: AppContext,
) -> None:
    task = demo_ctx.picking.task("PT-0002")
    order_id = task.lines[0].order_id
    with demo_ctx.store.unit_of_work() as uow:
        before = uow.orders.get(order_id)
        writes = PickWrites(uow.session)
        with pytest.raises(IllegalTransition, match="cannot go from allocated to shipped"):
            writes.move_order(order_id, before.state, [OrderState.SHIPPED])
        with pytest.raises(IllegalTransition, match="cannot go from picking to packed"):
            writes.move_order(order_id, before.state, [OrderState.PICKING, OrderState.PACKED])
        after = uow.orders.get(order_id)
    assert before.state is OrderState.ALLOCATED
    assert (after.state, after.version) == (before.state, before.version)


def test_a_pick_leaves_an_order_the_state_machine_does_not_move_alone(
    demo_ctx: AppContext,
) -> None:
    picking = demo_ctx.picking
    task = totes_scanned(demo_ctx, "PT-0002")
    line = task.ordered_lines()[0]
    with demo_ctx.store.unit_of_work() as uow:
        order = uow.orders.get(line.order_id)
        order.hold("customer called")
        uow.orders.save(order)
        uow.commit()
    picking.confirm(task.task_id, line.line_id, 1, "alice", task=task)
    with demo_ctx.store.unit_of_work() as uow:
        held = uow.orders.get(line.order_id)
    assert (held.state, held.version) == (OrderState.HELD, order.version)
    assert held.line(line.order_line_no).picked == 1
