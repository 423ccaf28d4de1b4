"""Totes from pick to pack on the real screens: totes scanned at the start of a task, a busy
tote refused naming its order, each put confirmed by a tote scan, the end of a task naming
each tote with its order and destination, a pack station opening by tote an order another
device picked, and a station that has not heard of a tote yet."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import context_from_seed
from fakes import FakeSync
from pilot_steps import put_tote, text_of, totes_scanned, type_scan
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from floor_app.context import AppContext
from floor_app.domain.order import OrderState
from floor_app.domain.picking import ShortReason
from floor_app.domain.totes import ToteState
from floor_app.hub_sync import ClaimRefusal
from floor_app.ui.app import FloorApp
from floor_app.ui.screens.packer_home import PackerHomeScreen
from floor_app.ui.screens.pick import PickScreen
from floor_app.ui.screens.pick_dialogs import TaskDoneScreen
from floor_app.ui.screens.picker_home import PickerHomeScreen
from sync.device.push_apply import PushApplier, news_of
from sync.device.tote_refusals import take_back_refused_tote
from sync.protocol import (
    OrderModel,
    OrderSnapshot,
    PushMessage,
    SiteToteModel,
    ToteContents,
)

pytestmark = pytest.mark.tui

SIZES = [(80, 24), (40, 16)]


def events(ctx: AppContext, event_type: str) -> list[dict[str, object]]:
    return [r.payload for r in ctx.store.pending() if r.type == event_type]


async def open_task(pilot: Pilot[int], task_id: str, badge: str = "B1001") -> None:
    """Log in by ``badge`` and open ``task_id`` from the task list (a task in progress
    opens by itself at the login)."""
    await pilot.press(*badge, "enter")
    await pilot.pause()
    screen = pilot.app.screen
    if isinstance(screen, PickScreen) and screen.pick_task.task_id == task_id:
        return
    table = screen.query_one("#tasks", DataTable)
    for _ in range(table.get_row_index(task_id)):
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_a_task_starts_with_its_totes_and_a_busy_tote_is_refused_naming_its_order(
    demo_ctx: AppContext, size: tuple[int, int]
) -> None:
    with demo_ctx.store.unit_of_work() as uow:
        staged = uow.totes.get("T0901")  # the demo's picked order waiting for packing
    assert staged is not None and staged.state is ToteState.HOLDING

    async def scenario() -> None:
        app = FloorApp(demo_ctx)
        async with app.run_test(size=size) as pilot:
            await open_task(pilot, "PT-0001")
            assert isinstance(app.screen, PickScreen)
            task = demo_ctx.picking.task("PT-0001")
            assert "totes 0/4" in text_of(app, "#pick-title")
            assert "empty tote for tote 1" in text_of(app, "#prompt")
            assert "T0061 · T0062 · CART-01" in text_of(app, "#demo")  # what the step takes
            before = demo_ctx.store.outbox_stats()[0]
            await type_scan(pilot, "T0901")
            message = text_of(app, "#message")
            assert f"Tote T0901 still holds order {staged.order_id}" in message
            assert app.screen.has_class("-flash")
            assert demo_ctx.store.outbox_stats()[0] == before  # nothing recorded
            await type_scan(pilot, task.ordered_lines()[0].location)  # not a tote
            assert "not a tote or a cart" in text_of(app, "#message")
            await type_scan(pilot, "T0061")
            assert "totes 1/4" in text_of(app, "#pick-title")
            assert "empty tote for tote 2" in text_of(app, "#prompt")
            assert "T0062 · T0063 · CART-01" in text_of(app, "#demo")  # T0061 is taken now
            await type_scan(pilot, "T0061")
            assert "T0061 is already tote 1 of this task" in text_of(app, "#message")
            await type_scan(pilot, "CART-01")  # the rest on one cart, in cart order
            assert "4 totes ✓" in text_of(app, "#message")
            first = task.ordered_lines()[0]
            assert f"Scan location {first.location}" in text_of(app, "#prompt")
        scanned = demo_ctx.picking.task("PT-0001").totes
        assert [(t.position, t.tote_id) for t in scanned] == [
            (1, "T0061"),
            (2, "T0001"),
            (3, "T0002"),
            (4, "T0003"),
        ]
        claims = events(demo_ctx, "tote.assigned")
        assert [(c["tote"], c["position"], c["order"]) for c in claims] == [
            (t.tote_id, t.position, t.order_id) for t in scanned
        ]
        with demo_ctx.store.unit_of_work() as uow:
            assert all(uow.totes.get(t.tote_id).state is ToteState.FILLING for t in scanned)  # type: ignore[union-attr]

    asyncio.run(scenario())


def test_the_hub_refusing_a_tote_asks_for_another(seeded_store: Path, tmp_path: Path) -> None:
    ctx = context_from_seed(seeded_store, tmp_path)
    sync = FakeSync()
    ctx.sync = sync

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(40, 16)) as pilot:
            await open_task(pilot, "PT-0001")
            await type_scan(pilot, "T0061")
            seq = next(r.seq for r in ctx.store.pending() if r.type == "tote.assigned")
            reason = "tote T0061 still holds order SO-100150, not packed yet"
            assert take_back_refused_tote(ctx.store, seq)  # as the sync agent does
            sync.claim_refused.tell(ClaimRefusal(seq, reason, "tote.assigned"))
            await pilot.pause()
            assert isinstance(app.screen, PickScreen)  # the task goes on
            assert f"The hub refused a tote: {reason}" in text_of(app, "#message")
            assert "totes 0/4" in text_of(app, "#pick-title")
            assert "empty tote for tote 1" in text_of(app, "#prompt")
            await type_scan(pilot, "T0062")
            assert "totes 1/4" in text_of(app, "#pick-title")

    asyncio.run(scenario())
    ctx.close()


@pytest.mark.parametrize("size", SIZES)
def test_each_put_is_confirmed_by_a_scan_of_its_tote(
    demo_ctx: AppContext, size: tuple[int, int]
) -> None:
    task = totes_scanned(demo_ctx, "PT-0002")
    first, second = task.ordered_lines()[:2]
    assert first.tote_position != second.tote_position

    async def scenario() -> None:
        app = FloorApp(demo_ctx)
        async with app.run_test(size=size) as pilot:
            await open_task(pilot, "PT-0002")
            await type_scan(pilot, first.location)
            for _ in range(first.qty):
                await type_scan(pilot, first.gtin)
            code = put_tote(task, first.line_id)
            prompt = text_of(app, "#prompt")
            assert f"Put it in tote {first.tote_position} and scan the tote ({code})" in prompt
            assert code in text_of(app, "#demo")
            await type_scan(pilot, first.gtin)  # another unit instead of the tote
            assert f"tote {first.tote_position} first and scan {code}" in text_of(app, "#message")
            other = put_tote(task, second.line_id)
            await type_scan(pilot, other)
            message = text_of(app, "#message")
            assert f"Wrong tote: {other} — this goes in tote {first.tote_position}" in message
            assert events(demo_ctx, "tote.put") == []
            await type_scan(pilot, code)
            assert f"In tote {first.tote_position} ({code}) ✓" in text_of(app, "#message")
            assert f"Scan location {second.location}" in text_of(app, "#prompt") or (
                "Scan the item" in text_of(app, "#prompt")  # the next stop is at the same place
            )
        puts = events(demo_ctx, "tote.put")
        assert puts == [
            {
                "task": "PT-0002",
                "line": first.line_id,
                "tote": code,
                "order": first.order_id,
                "qty": first.qty,
                "user": "alice",
            }
        ]
        picks = events(demo_ctx, "pick.confirmed")
        assert {p["tote"] for p in picks} == {code}

    asyncio.run(scenario())


@pytest.mark.parametrize(("size", "language"), [((80, 24), "en"), ((40, 16), "zh")])
def test_the_end_of_a_task_names_each_tote_with_its_order_and_where_to_take_it(
    demo_ctx: AppContext, size: tuple[int, int], language: str
) -> None:
    picking = demo_ctx.picking
    user, badge = ("alice", "B1001") if language == "en" else ("wangfang", "B1002")
    task = totes_scanned(demo_ctx, "PT-0003", user)
    lines = task.ordered_lines()
    last = lines[-1]
    # one unit of this line is picked, the rest short: its order waits for a supervisor,
    # so its tote goes to staging
    partial = next(ln for ln in lines if ln.qty >= 2 and ln.order_id != last.order_id)
    for line in lines[:-1]:
        picking.confirm("PT-0003", line.line_id, 1 if line is partial else line.qty, user)
        if line is partial:
            picking.report_short("PT-0003", line.line_id, line.qty - 1, ShortReason.EMPTY, user)
        picking.confirm_put("PT-0003", line.line_id, put_tote(task, line.line_id), user)

    async def scenario() -> None:
        app = FloorApp(demo_ctx, language=language)
        async with app.run_test(size=size) as pilot:
            await open_task(pilot, "PT-0003", badge)
            await type_scan(pilot, last.location)
            for _ in range(last.qty):
                await type_scan(pilot, last.gtin)
            await type_scan(pilot, put_tote(task, last.line_id))
            assert isinstance(app.screen, TaskDoneScreen)
            shown = [str(w.render()) for w in app.screen.query(".done-line").results(Static)]
            expected = []
            for tote in task.totes:
                where = "STAGE-01" if tote.order_id == partial.order_id else "PACK-01"
                order = tote.order_id if language == "en" else f"订单 {tote.order_id}"
                expected.append(f"{tote.tote_id} · {order} → {where}")
            assert shown == expected
            title = str(app.screen.query_one(".title", Static).render())
            assert ("take each tote" if language == "en" else "请送走每个周转箱") in title
            dialog = app.screen.query_one(".dialog")
            assert dialog.region.bottom <= size[1] and dialog.region.right <= size[0]
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen)
            done = "PT-0003 done" if language == "en" else "任务 PT-0003 完成"
            assert done in text_of(app, "#message")
        with demo_ctx.store.unit_of_work() as uow:
            for tote in task.totes:
                held = uow.totes.get(tote.tote_id)
                assert held is not None and held.state is ToteState.HOLDING
                assert held.order_id == tote.order_id

    asyncio.run(scenario())


def test_a_tote_nothing_went_into_goes_back_to_the_stack(demo_ctx: AppContext) -> None:
    picking = demo_ctx.picking
    task = totes_scanned(demo_ctx, "PT-0002")
    lines = task.ordered_lines()
    empty = lines[0]  # the only line of its tote: short, nothing went in
    assert sum(1 for ln in lines if ln.tote_position == empty.tote_position) == 1
    picking.report_short("PT-0002", empty.line_id, empty.qty, ShortReason.EMPTY, "alice")
    for line in lines[1:]:
        picking.confirm("PT-0002", line.line_id, line.qty, "alice")
        picking.confirm_put("PT-0002", line.line_id, put_tote(task, line.line_id), "alice")
    drops = picking.complete("PT-0002", "alice").drops
    code = put_tote(task, empty.line_id)
    assert [(d.tote, d.units, d.order_id) for d in drops if d.tote == code] == [(code, 0, "")]
    with demo_ctx.store.unit_of_work() as uow:
        freed = uow.totes.get(code)
    assert freed is not None and freed.state is ToteState.FREE

    async def scenario() -> None:
        app = FloorApp(demo_ctx)
        async with app.run_test(size=(40, 16)) as pilot:
            await app.push_screen(TaskDoneScreen("PT-0002", drops))
            await pilot.pause()
            shown = [str(w.render()) for w in app.screen.query(".done-line").results(Static)]
            assert f"{code}: empty — back to the tote stack" in shown

    asyncio.run(scenario())


def _station(seeded_store: Path, tmp_path: Path) -> tuple[AppContext, FakeSync]:
    ctx = context_from_seed(seeded_store, tmp_path)
    sync = FakeSync()
    ctx.sync = sync
    return ctx, sync


def _push(ctx: AppContext, sync: FakeSync, cursor: int, item: object) -> int:
    """Apply the hub's push ``item`` at ``cursor`` as the sync agent does; the next cursor."""
    message = PushMessage.model_validate({"device_id": "hh-01", "cursor": cursor, "item": item})
    PushApplier(ctx.store).apply(message)
    sync.push_applied.tell(news_of(message))
    return cursor + 1


def _picked_elsewhere(ctx: AppContext, order_id: str) -> OrderModel:
    """``order_id`` as the hub sends it once another device picked it."""
    with ctx.store.unit_of_work() as uow:
        order = uow.orders.get(order_id)
    for line in order.lines:
        line.picked = line.qty
    order.state, order.version = OrderState.PICKED, order.version + 4
    return OrderModel.from_domain(order)


@pytest.mark.parametrize("size", SIZES)
def test_a_station_opens_by_tote_an_order_another_device_picked(
    seeded_store: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    ctx, sync = _station(seeded_store, tmp_path)
    order = _picked_elsewhere(ctx, "SO-100150")
    cursor = _push(ctx, sync, 1, OrderSnapshot(order=order).model_dump())
    held = SiteToteModel.model_validate(
        {"tote": "T0123", "state": "holding", "order_id": "SO-100150", "destination": "PACK-01"}
    )
    _push(ctx, sync, cursor, ToteContents(totes=[held]).model_dump())

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=size) as pilot:
            await pilot.press(*"B2001", "enter")
            await pilot.pause()
            assert isinstance(app.screen, PackerHomeScreen)
            assert "T0123" in text_of(app, "#demo")  # the tote waits here
            await type_scan(pilot, "T0123")
            assert app.screen.view is not None
            assert app.screen.view.order.order_id == "SO-100150"
            assert "Packing SO-100150" in text_of(app, "#message")

    asyncio.run(scenario())
    ctx.close()


@pytest.mark.parametrize("size", SIZES)
def test_a_station_that_has_not_heard_of_a_tote_says_so_and_takes_the_packing_slip(
    seeded_store: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    ctx, sync = _station(seeded_store, tmp_path)
    for cursor, order_id in enumerate(("SO-100150", "SO-100151"), start=1):
        snapshot = OrderSnapshot(order=_picked_elsewhere(ctx, order_id))
        _push(ctx, sync, cursor, snapshot.model_dump())

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=size) as pilot:
            await pilot.press(*"B2001", "enter")
            await pilot.pause()
            await type_scan(pilot, "T0500")
            assert "No word yet which order tote T0500 holds" in text_of(app, "#message")
            assert "packing slip of tote T0500" in text_of(app, "#prompt")
            assert "Demo — type: SO-" in text_of(app, "#demo")  # the orders a slip may name
            await type_scan(pilot, "SO-100150")  # the packing slip in the tote
            screen = app.screen
            assert isinstance(screen, PackerHomeScreen) and screen.view is not None
            assert screen.view.order.order_id == "SO-100150"
            await pilot.press("escape")  # set it aside: the tote is its order's now
            await pilot.pause()
            await type_scan(pilot, "T0500")
            assert screen.view is not None and screen.view.order.order_id == "SO-100150"
            await pilot.press("escape")
            await pilot.pause()
            # a tote the station has not heard of, until the hub's word comes
            await type_scan(pilot, "T0501")
            assert "No word yet which order tote T0501 holds" in text_of(app, "#message")
            held = SiteToteModel.model_validate(
                {"tote": "T0501", "state": "holding", "order_id": "SO-100151"}
            )
            _push(ctx, sync, 3, ToteContents(totes=[held]).model_dump())
            await pilot.pause()
            assert "The hub says which order tote T0501 holds" in text_of(app, "#message")
            assert "Scan a tote or an order" in text_of(app, "#prompt")
            await type_scan(pilot, "T0501")
            assert screen.view is not None and screen.view.order.order_id == "SO-100151"

    asyncio.run(scenario())
    with ctx.store.unit_of_work() as uow:
        noted = uow.totes.get("T0500")
    assert noted is not None and noted.order_id == "SO-100150"
    assert noted.state is ToteState.HOLDING
    ctx.close()


def test_packing_releases_the_tote_and_its_code_is_free_for_a_new_task(
    demo_ctx: AppContext,
) -> None:
    """The demo's one device: a tote packed at the station is taken again by the picker."""
    packing = demo_ctx.packing
    view = packing.open("T0906")
    session = view.session.session_id
    for sku, qty in view.session.expected.items():
        for _ in range(qty):
            view, _item = packing.verify(session, view.skus[sku].gtin)
    packing.weigh(session, view.expected_weight_g, "ben")

    async def scenario() -> None:
        app = FloorApp(demo_ctx)
        async with app.run_test(size=(40, 16)) as pilot:
            await open_task(pilot, "PT-0001")
            await type_scan(pilot, "T0906")  # free again: packing released it
            assert "totes 1/4" in text_of(app, "#pick-title")

    asyncio.run(scenario())
    assert events(demo_ctx, "tote.released")[0]["tote"] == "T0906"
