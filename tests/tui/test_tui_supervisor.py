"""The supervisor's views and decisions, and the idle lock, on a real store."""

from __future__ import annotations

import asyncio
import time

import pytest
from textual.widgets import DataTable, Static

from floor_app.context import AppContext
from floor_app.domain.order import OrderState
from floor_app.domain.picking import ShortReason, TaskState
from floor_app.services.supervision import LocalSupervisorFeed
from floor_app.ui.app import FloorApp
from floor_app.ui.screens.lock import LockScreen
from floor_app.ui.screens.picker_home import PickerHomeScreen

pytestmark = pytest.mark.tui


def _text(app: FloorApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def _make_exceptions(ctx: AppContext) -> tuple[str, str]:
    picking = ctx.picking
    task = picking.start("PT-0002", "alice").task
    line = task.ordered_lines()[0]
    picking.report_short(task.task_id, line.line_id, line.qty, ShortReason.DAMAGED, "alice")
    for ln in task.ordered_lines()[1:]:
        picking.confirm(task.task_id, ln.line_id, ln.qty, "alice")
    picking.complete(task.task_id, "alice")
    assert ctx.packing is not None
    view = ctx.packing.open("T0905")
    ctx.packing.hold(view.session.session_id, "Item missing", "ben")
    return line.order_id, view.order.order_id


def test_views_and_decisions(demo_ctx: AppContext) -> None:
    short_order, held_order = _make_exceptions(demo_ctx)
    picking = demo_ctx.picking
    picking.start("PT-0003", "wangfang")
    assert demo_ctx.supervisor is not None
    assert isinstance(demo_ctx.supervisor, LocalSupervisorFeed)
    demo_ctx.supervisor.clock = lambda: time.time() + 700  # PT-0003 is stalled by now

    async def scenario() -> None:
        app = FloorApp(demo_ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B3001", "enter")
            await pilot.pause()
            devices = app.screen.query_one("#devices", DataTable)
            assert devices.row_count == 1 and "hh-01" in str(devices.get_row_at(0)[0])
            await pilot.press("3")
            through = app.screen.query_one("#throughput", DataTable)
            rows = {
                str(through.get_row_at(i)[0]): through.get_row_at(i)
                for i in range(through.row_count)
            }
            assert "alice" in rows and int(rows["alice"][1]) > 0
            await pilot.press("4")
            backlog = app.screen.query_one("#bottlenecks", DataTable)
            stages = [str(backlog.get_row_at(i)[0]) for i in range(backlog.row_count)]
            assert stages[0] == "received" and "held" in stages
            await pilot.press("a")  # not in the exceptions view
            await pilot.pause()
            assert "Select an exception first" in _text(app, "#message")
            await pilot.press("2")
            exc = app.screen.query_one("#exceptions", DataTable)
            kinds = {
                str(exc.get_row_at(i)[1]): str(exc.get_row_at(i)[0]) for i in range(exc.row_count)
            }
            assert kinds == {short_order: "short", held_order: "held", "PT-0003": "stalled"}
            subjects = [str(exc.get_row_at(i)[1]) for i in range(exc.row_count)]
            for subject, key in ((short_order, "a"), (held_order, "r")):
                exc.move_cursor(row=subjects.index(subject))
                await pilot.press("r" if key == "a" else "a")  # the wrong action first
                await pilot.pause()
                assert "does not apply" in _text(app, "#message")
                await pilot.press(key)
                await pilot.pause()
                subjects = [str(exc.get_row_at(i)[1]) for i in range(exc.row_count)]
            exc.move_cursor(row=subjects.index("PT-0003"))
            await pilot.press("t", "2")  # the second picker in the list
            await pilot.pause()
            assert "given to" in _text(app, "#message")
            assert exc.row_count == 0
        with demo_ctx.store.unit_of_work() as uow:
            assert uow.orders.get(short_order).state is OrderState.PICKED
            assert uow.orders.get(held_order).state is OrderState.PACKING
            task = uow.tasks.get("PT-0003")
        assert task.state is TaskState.ASSIGNED and task.assigned_to != "wangfang"
        claims = [r for r in demo_ctx.store.pending() if r.kind == "claim"]
        assert [r.type for r in claims][-3:] == [
            "order.short_approved",
            "order.released",
            "task.reassigned",
        ]

    asyncio.run(scenario())


def test_idle_lock_keeps_the_work_and_opens_with_a_badge(demo_ctx: AppContext) -> None:
    demo_ctx.settings = demo_ctx.settings.model_copy(
        update={"ui": demo_ctx.settings.ui.model_copy(update={"idle_lock_s": 60})}
    )

    async def scenario() -> None:
        app = FloorApp(demo_ctx)
        async with app.run_test(size=(40, 16)) as pilot:
            await pilot.press(*"B1001", "enter")
            await pilot.pause()
            app.check_idle_lock(time.monotonic() + 61)
            await pilot.pause()
            assert isinstance(app.screen, LockScreen)
            await pilot.press(*"B1999", "enter")  # a disabled user
            await pilot.pause()
            assert "disabled" in _text(app, "#message")
            await pilot.press(*"B1001", "enter")
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen) and app.user_id == "alice"
            app.check_idle_lock(time.monotonic() + 61)
            await pilot.pause()
            await pilot.press(*"B1002", "enter")  # another picker takes over
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen) and app.user_id == "wangfang"
            types = [r.type for r in demo_ctx.store.pending()]
            assert types == ["user.logged_in", "user.logged_out", "user.logged_in"]

    asyncio.run(scenario())
