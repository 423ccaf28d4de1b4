"""Guided picking end to end: a real store, a fake hardware scanner, the real screens."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import context_from_seed
from fakes import FakeSync
from pilot_steps import put_tote, totes_scanned
from textual.pilot import Pilot
from textual.widgets import Static

from device_drivers.fakes import FakeScanner
from floor_app.context import AppContext
from floor_app.domain.order import OrderState
from floor_app.domain.picking import TaskState
from floor_app.hub_sync import ClaimRefusal
from floor_app.ui.app import FloorApp
from floor_app.ui.screens.guard_dialogs import UndoScreen
from floor_app.ui.screens.pick import PickScreen
from floor_app.ui.screens.pick_dialogs import TaskDoneScreen, TaskStoppedScreen
from floor_app.ui.screens.picker_home import PickerHomeScreen
from sync.device.push_apply import PushApplier, news_of
from sync.protocol import PushMessage, TaskCancelled

pytestmark = pytest.mark.tui


def _text(app: FloorApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def _login_and_open(pilot: Pilot[int], task_index: int = 0) -> None:
    await pilot.press(*"B1001", "enter")
    await pilot.pause()
    for _ in range(task_index):
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()


async def _type(pilot: Pilot[int], text: str) -> None:
    await pilot.press(*text, "enter")
    await pilot.pause()


@pytest.fixture
def scanner_ctx(seeded_store: Path, tmp_path: Path) -> tuple[AppContext, FakeScanner]:
    ctx = context_from_seed(seeded_store, tmp_path)
    scanner = FakeScanner("scanner")
    scanner.start()
    ctx.devices.scanners.append(scanner)
    return ctx, scanner


@pytest.mark.parametrize("size", [(80, 24), (40, 16)])
def test_a_whole_task_picked_with_the_hardware_scanner(
    scanner_ctx: tuple[AppContext, FakeScanner], size: tuple[int, int]
) -> None:
    ctx, scanner = scanner_ctx

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=size) as pilot:
            await _login_and_open(pilot, task_index=1)  # PT-0002: 4 lines into 4 totes
            screen = app.screen
            assert isinstance(screen, PickScreen)
            for code in ("T0061", "T0062", "T0063", "T0064"):  # an empty tote per position
                scanner.scan(code)
                await pilot.pause()
            task = ctx.picking.task("PT-0002")
            for line in task.ordered_lines():
                scanner.scan(line.location)
                await pilot.pause()
                assert "Scan the item" in _text(app, "#prompt")
                for _ in range(line.qty):
                    scanner.scan(line.gtin.lstrip("0"))
                    await pilot.pause()
                assert f"scan the tote ({put_tote(task, line.line_id)})" in _text(app, "#prompt")
                scanner.scan(put_tote(task, line.line_id))
                await pilot.pause()
            assert isinstance(app.screen, TaskDoneScreen)  # each tote with its order
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen)
            assert "PT-0002 done" in _text(app, "#message")
        done = ctx.picking.task("PT-0002")
        assert done.state is TaskState.DONE and done.is_complete
        types = [r.type for r in ctx.store.pending()]
        units = sum(ln.qty for ln in done.lines)
        assert types.count("pick.confirmed") == units
        assert types.count("tote.assigned") == 4 and types.count("tote.put") == len(done.lines)
        assert types[-1] == "task.completed"
        with ctx.store.unit_of_work() as uow:
            for order_id in {ln.order_id for ln in done.lines}:
                assert uow.orders.get(order_id).state is OrderState.PICKED

    asyncio.run(scenario())
    ctx.close()


def test_wrong_scans_flash_ring_and_change_nothing(demo_ctx: AppContext) -> None:
    async def scenario() -> None:
        app = FloorApp(demo_ctx)
        bells: list[int] = []
        app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
        totes_scanned(demo_ctx, "PT-0001")
        async with app.run_test(size=(80, 24)) as pilot:
            await _login_and_open(pilot)
            task = demo_ctx.picking.task("PT-0001")
            line = task.ordered_lines()[0]
            other = task.ordered_lines()[1]
            before = demo_ctx.store.outbox_stats()[0]
            await _type(pilot, "HELLO-123")
            assert "unknown code" in _text(app, "#message")
            assert app.screen.has_class("-flash")
            await _type(pilot, line.gtin)
            assert f"Scan location {line.location} first" in _text(app, "#message")
            await _type(pilot, other.location)
            assert f"Wrong location: you scanned {other.location}" in _text(app, "#message")
            await _type(pilot, line.location)
            await _type(pilot, other.location)  # a location when the item is expected
            assert "Wrong location" in _text(app, "#message")
            await _type(pilot, other.gtin)
            assert "Wrong item" in _text(app, "#message") and other.sku in _text(app, "#message")
            await _type(pilot, "B1001")
            assert "badge" in _text(app, "#message")
            assert len(bells) == 6
            assert demo_ctx.store.outbox_stats()[0] == before  # nothing was recorded
            assert demo_ctx.picking.task("PT-0001").line(line.line_id).picked == 0

    asyncio.run(scenario())


def test_typed_quantity_guard_undo_skip_and_short(demo_ctx: AppContext) -> None:
    async def scenario() -> None:
        app = FloorApp(demo_ctx)
        totes_scanned(demo_ctx, "PT-0003")
        async with app.run_test(size=(80, 24)) as pilot:
            await _login_and_open(pilot, task_index=2)  # PT-0003 has lines of 2+
            task = demo_ctx.picking.task("PT-0003")
            line = next(ln for ln in task.ordered_lines() if ln.qty >= 2)
            while demo_ctx.picking.task("PT-0003").next_line().line_id != line.line_id:  # type: ignore[union-attr]
                await pilot.press("f7")
                await pilot.pause()
            await _type(pilot, line.location)
            await _type(pilot, line.gtin)
            assert demo_ctx.picking.task("PT-0003").line(line.line_id).picked == 1
            await _type(pilot, "99")  # more than is open
            assert f"99 is more than the {line.qty - 1} still open" in _text(app, "#message")
            await _type(pilot, "0" + line.gtin.lstrip("0"))  # a barcode in the quantity field
            assert demo_ctx.picking.task("PT-0003").line(line.line_id).picked == 2
            await pilot.press("f8", "f8", "f8", "enter")  # undo: asked once, Enter is no yes
            await pilot.pause()
            assert isinstance(app.screen, UndoScreen)
            question = str(app.screen.query_one("#guard-question", Static).render())
            assert f"Take back 1 x {line.sku} picked at {line.location}" in question
            assert demo_ctx.picking.task("PT-0003").line(line.line_id).picked == 2
            await pilot.press("escape")  # keep it
            await pilot.pause()
            assert "Kept" in _text(app, "#message")
            assert demo_ctx.picking.task("PT-0003").line(line.line_id).picked == 2
            await pilot.press("f8")
            await pilot.pause()
            await _type(pilot, "A01-01-1A")  # not the item: refused, still asking
            assert isinstance(app.screen, UndoScreen)
            await _type(pilot, line.gtin)  # the item's own barcode takes it back
            assert "Undone" in _text(app, "#message")
            assert demo_ctx.picking.task("PT-0003").line(line.line_id).picked == 1
            await pilot.press("f8", "y")  # and the other unit, by y
            await pilot.pause()
            assert demo_ctx.picking.task("PT-0003").line(line.line_id).picked == 0
            await _type(pilot, line.gtin)  # picked again
            assert demo_ctx.picking.task("PT-0003").line(line.line_id).picked == 1
            await pilot.press("f6", "3")  # short the rest: not found
            await pilot.pause()
            assert "Short" in _text(app, "#message")
            after = demo_ctx.picking.task("PT-0003").line(line.line_id)
            assert after.short == line.qty - 1 and after.short_reason == "not_found"
            await pilot.press("f7")  # the unit picked waits for its tote scan first
            await pilot.pause()
            assert "first and scan" in _text(app, "#message")
            await _type(pilot, put_tote(task, line.line_id))
            assert "✓" in _text(app, "#message")
            nxt = demo_ctx.picking.task("PT-0003").next_line()
            assert nxt is not None
            await pilot.press("f7")
            await pilot.pause()
            assert "moved to the end" in _text(app, "#message")
            types = [r.type for r in demo_ctx.store.pending()]
            assert types.count("pick.confirmed") == 3 and types.count("pick.undone") == 2
            assert "pick.short" in types

    asyncio.run(scenario())


def test_scanner_unplugged_mid_task_says_what_to_do(
    scanner_ctx: tuple[AppContext, FakeScanner],
) -> None:
    ctx, scanner = scanner_ctx

    async def scenario() -> None:
        app = FloorApp(ctx)
        totes_scanned(ctx, "PT-0001")
        async with app.run_test(size=(40, 16)) as pilot:
            await _login_and_open(pilot)
            scanner.unplug()
            await pilot.pause()
            assert "unplugged" in _text(app, "#message") and "type the codes" in _text(
                app, "#message"
            )
            app.screen.query_one("#status-header", Static).refresh_status()  # type: ignore[attr-defined]
            assert "S✗" in _text(app, "#status-header")
            line = ctx.picking.task("PT-0001").ordered_lines()[0]
            await _type(pilot, line.location)  # typing goes on working
            assert "Scan the item" in _text(app, "#prompt")
            scanner.replug()
            await pilot.pause()
            assert "is back" in _text(app, "#message")

    asyncio.run(scenario())
    ctx.close()


def test_task_cancelled_by_the_hub_shows_what_to_do_with_picked_goods(
    seeded_store: Path, tmp_path: Path
) -> None:
    ctx = context_from_seed(seeded_store, tmp_path)
    sync = FakeSync()
    ctx.sync = sync

    async def scenario() -> None:
        app = FloorApp(ctx)
        task = totes_scanned(ctx, "PT-0001")
        async with app.run_test(size=(80, 24)) as pilot:
            await _login_and_open(pilot)
            line = ctx.picking.task("PT-0001").ordered_lines()[0]
            await _type(pilot, line.location)
            await _type(pilot, line.gtin)
            push = PushMessage(
                device_id="hh-01",
                cursor=1,
                item=TaskCancelled(task_id="PT-0001", reason="order cancelled by the customer"),
            )
            PushApplier(ctx.store).apply(push)
            sync.push_applied.tell(news_of(push))
            await pilot.pause()
            assert isinstance(app.screen, TaskStoppedScreen)
            assert "order cancelled by the customer" in _text(app, "#stopped-reason")
            assert "returns area RET-01" in _text(app, "#stopped-do")
            lines = [str(w.render()) for w in app.screen.query(".stopped-line").results(Static)]
            code = put_tote(task, line.line_id)
            assert lines == [f"Tote {line.tote_position} ({code}): 1 x {line.sku}"]
            await _type(pilot, "A01-01-1A")
            assert isinstance(app.screen, TaskStoppedScreen)  # only the returns area closes it
            await _type(pilot, "RET-01")
            assert isinstance(app.screen, PickerHomeScreen)

    asyncio.run(scenario())
    ctx.close()


def test_hub_refusing_the_task_claim_as_stale(seeded_store: Path, tmp_path: Path) -> None:
    ctx = context_from_seed(seeded_store, tmp_path)
    sync = FakeSync()
    ctx.sync = sync

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await _login_and_open(pilot)
            sync.claim_refused.tell(
                ClaimRefusal(3, "task PT-0001 is leased to hh-03 (version 4)", task_id="PT-0001")
            )
            await pilot.pause()
            assert isinstance(app.screen, TaskStoppedScreen)
            assert "leased to hh-03" in _text(app, "#stopped-reason")
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen)
            sync.claim_refused.tell(ClaimRefusal(4, "order SO-100009 changed (version 7)"))
            await pilot.pause()
            assert "The hub refused: order SO-100009 changed" in _text(app, "#message")

    asyncio.run(scenario())
    ctx.close()
