"""Blind counts end to end: count tasks pushed into a real store, opened from the picker's
home, counted by scans and typed totals, each result one stock.counted in the outbox;
a recount refuses its first counter; bad input changes nothing. Snapshots at 80x24 and
40x16, English and Chinese."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXED_NOW, context_from_seed
from pilot_steps import (
    login_and_open,
    screen_text,
    snapshot_matches,
    snapshot_steps,
    text_of,
    type_scan,
)
from sqlalchemy import text
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from device_drivers.fakes import FakeScanner
from floor_app.context import AppContext
from floor_app.domain.stockwork import StockTask, StockTaskKind, StockTaskState
from floor_app.services.counting import CountingService
from floor_app.ui.app import FloorApp
from floor_app.ui.screens.picker_home import PickerHomeScreen
from floor_app.ui.screens.stock_count import StockCountScreen
from sync.device.push_apply import PushApplier
from sync.device.supervisor_feed import FeedSettings, MqttSupervisorFeed
from sync.mqtt import LinkOptions, parse_broker_url
from sync.protocol import CountDifference, PushMessage, StockTaskAssigned, StockTaskModel

pytestmark = pytest.mark.tui

GTIN_1 = "4260123000011"  # SKU-00001, 70 units at A01-01-2A in the demo store
GTIN_3 = "4260123000035"  # SKU-00003, at A01-01-1A
PICK_TASKS = 6  # the demo store's pick tasks come first in the list


def count_task(task_id: str, location: str, sku: str = "", **extra: Any) -> StockTask:
    return StockTask(task_id, StockTaskKind.COUNT, sku, "", location, "", **extra)


def push_counts(ctx: AppContext) -> None:
    """The hub's pushes of three count tasks, through the device's real push path."""
    applier = PushApplier(ctx.store)
    tasks = [
        count_task("ST-000001", "A01-01-2A", "SKU-00001"),
        count_task("ST-000002", "A01-02-2A", "SKU-00002", attempt=2, not_user="alice"),
        count_task("ST-000003", "A01-01-1A"),
    ]
    for cursor, task in enumerate(tasks, start=1):
        item = StockTaskAssigned(task=StockTaskModel.from_domain(task))
        assert applier.apply(PushMessage(device_id=ctx.store.device_id, cursor=cursor, item=item))


@pytest.fixture
def count_ctx(seeded_store: Path, tmp_path: Path) -> tuple[AppContext, FakeScanner]:
    ctx = context_from_seed(seeded_store, tmp_path, bell=False)
    push_counts(ctx)
    scanner = FakeScanner("scanner")
    scanner.start()
    ctx.devices.scanners.append(scanner)
    return ctx, scanner


def counted_events(ctx: AppContext) -> list[dict[str, Any]]:
    return [dict(r.payload) for r in ctx.store.pending() if r.type == "stock.counted"]


@pytest.mark.parametrize("size", [(80, 24), (40, 16)])
def test_a_blind_count_by_scans_and_a_typed_total_is_one_event(
    count_ctx: tuple[AppContext, FakeScanner], size: tuple[int, int]
) -> None:
    ctx, scanner = count_ctx

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=size) as pilot:
            await login_and_open(pilot, "B1001", PICK_TASKS)
            assert isinstance(app.screen, StockCountScreen)
            assert "Scan location A01-01-2A" in text_of(app, "#prompt")
            scanner.scan("A01-01-2A")
            await pilot.pause()
            for _ in range(3):
                scanner.scan(GTIN_1)
                await pilot.pause()
            assert "Counted 3" in text_of(app, "#tally")
            await type_scan(pilot, "68")  # the total, typed
            assert "Counted 68" in text_of(app, "#tally")
            assert "70" not in screen_text(app)  # what the stock says is never shown
            assert counted_events(ctx) == []  # nothing recorded before the confirmation
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen)
            assert "Count ST-000001 done" in text_of(app, "#message")
        (event,) = counted_events(ctx)
        assert event == {
            "task": "ST-000001",
            "location": "A01-01-2A",
            "sku": "SKU-00001",
            "counted": 68,
            "user": "alice",
            "attempt": 1,
        }
        assert CountingService(ctx.store).task("ST-000001").state is StockTaskState.DONE

    asyncio.run(scenario())


def test_a_location_count_takes_each_item_then_location_done(
    count_ctx: tuple[AppContext, FakeScanner],
) -> None:
    ctx, scanner = count_ctx

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await login_and_open(pilot, "B1001", PICK_TASKS + 2)
            assert "every item" in text_of(app, "#count-title")
            await type_scan(pilot, "A01-01-1A")
            await type_scan(pilot, GTIN_3)  # typed on the keyboard: a code, not 4 trillion units
            scanner.scan(GTIN_3)
            await pilot.pause()
            assert "Counted 2" in text_of(app, "#tally")
            await pilot.press("f10")  # not yet: the item is not confirmed
            await pilot.pause()
            assert "Confirm 2 x SKU-00003 first" in text_of(app, "#message")
            await pilot.press("enter")
            await pilot.pause()
            assert "Counted 2 x SKU-00003" in text_of(app, "#message")
            scanner.scan(GTIN_3)  # counted already in this task
            await pilot.pause()
            assert "SKU-00003 is already counted here (2)" in text_of(app, "#message")
            await pilot.press("f10")
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen)
        assert [(e["sku"], e["counted"]) for e in counted_events(ctx)] == [
            ("SKU-00003", 2),
            ("", 0),
        ]
        assert CountingService(ctx.store).task("ST-000003").state is StockTaskState.DONE

    asyncio.run(scenario())


def test_a_recount_refuses_the_user_who_counted_first(
    count_ctx: tuple[AppContext, FakeScanner],
) -> None:
    ctx, _ = count_ctx

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await login_and_open(pilot, "B1001", PICK_TASKS + 1)
            assert isinstance(app.screen, PickerHomeScreen)
            assert (
                "you counted A01-02-2A first: this recount must be done by someone else"
                in text_of(app, "#message")
            )
        assert counted_events(ctx) == []
        assert CountingService(ctx.store).task("ST-000002").state is StockTaskState.ASSIGNED

    asyncio.run(scenario())


def test_bad_counts_are_refused_with_the_reason_and_record_nothing(
    count_ctx: tuple[AppContext, FakeScanner],
) -> None:
    ctx, _ = count_ctx

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await login_and_open(pilot, "B1001", PICK_TASKS)
            await type_scan(pilot, "A01-01-9A")
            assert "Wrong location: you scanned A01-01-9A" in text_of(app, "#message")
            await type_scan(pilot, GTIN_1)
            assert "Scan location A01-01-2A first" in text_of(app, "#message")
            await type_scan(pilot, "A01-01-2A")
            await type_scan(pilot, "-3")
            assert "a count cannot be negative (-3)" in text_of(app, "#message")
            await type_scan(pilot, GTIN_3)
            assert "This count is of SKU-00001, not SKU-00003" in text_of(app, "#message")
            assert isinstance(app.screen, StockCountScreen)
            assert app.screen.query_one("#tally", Static).render() == ""
        assert counted_events(ctx) == []
        with pytest.raises(Exception, match="a count cannot be negative"):
            CountingService(ctx.store).record("ST-000001", "SKU-00001", -1, "alice")
        assert counted_events(ctx) == []

    asyncio.run(scenario())


def test_an_empty_place_is_counted_as_zero(count_ctx: tuple[AppContext, FakeScanner]) -> None:
    ctx, _ = count_ctx

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(40, 16)) as pilot:
            await login_and_open(pilot, "B1001", PICK_TASKS)
            await type_scan(pilot, "A01-01-2A")
            await type_scan(pilot, "0")
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen)
        assert [(e["sku"], e["counted"]) for e in counted_events(ctx)] == [("SKU-00001", 0)]

    asyncio.run(scenario())


# -- snapshots ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (40, 16)], ids=["80x24", "40x16"])
@pytest.mark.parametrize(
    ("name", "badge", "language"), [("count", "B1001", "en"), ("count_zh", "B1002", "zh")]
)
def test_count_snapshot(
    snap_compare: Any,
    seeded_store: Path,
    tmp_path: Path,
    name: str,
    badge: str,
    language: str,
    size: tuple[int, int],
) -> None:
    steps = snapshot_steps(badge, PICK_TASKS, "A01-01-2A", GTIN_1, GTIN_1)
    assert snapshot_matches(
        snap_compare, seeded_store, tmp_path, push_counts, steps, language=language, size=size
    )


# -- the supervisor -------------------------------------------------------------------------


def supervisor_with_difference(ctx: AppContext) -> MqttSupervisorFeed:
    """The supervisor's MQTT feed (not connected) holding one difference the hub published."""
    assert ctx.supervisor is not None
    feed = MqttSupervisorFeed(
        ctx.store,
        ctx.supervisor._own,  # type: ignore[attr-defined]
        FeedSettings(link=LinkOptions(parse_broker_url("mqtt://127.0.0.1:1")), site="dc1"),
        clock=ctx.clock,
    )
    diff = CountDifference(
        count_id=7,
        task_id="ST-000002",
        location="A01-01-2A",
        sku="SKU-00001",
        expected=70,
        counted=64,
        user="sam",
        reason="recount by sam (64) after a first count by alice",
        at=FIXED_NOW - 300,
    )
    assert feed.apply_count_difference("7", diff)
    ctx.supervisor = feed
    ctx.closers.append(feed.stop)  # the board starts it: its thread must not outlive the test
    return feed


def test_the_supervisor_sees_a_count_difference_and_acknowledges_it(
    seeded_store: Path, tmp_path: Path
) -> None:
    ctx = context_from_seed(seeded_store, tmp_path, bell=False)
    ctx.clock = lambda: FIXED_NOW
    supervisor_with_difference(ctx)

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B3001", "enter")
            await pilot.pause()
            await pilot.press("2")
            await pilot.pause()
            table = app.screen.query_one("#exceptions", DataTable)
            rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
            count_rows = [r for r in rows if r[0] == "count"]
            assert count_rows == [
                [
                    "count",
                    "A01-01-2A SKU-00001",
                    "70 → 64 (-6) sam: recount by sam (64) after a first count by alice",
                    "5m",
                ]
            ]
            table.move_cursor(row=rows.index(count_rows[0]))
            await pilot.press("k", "enter")  # asked first: yes
            await pilot.pause()
            acknowledged = "Count difference at A01-01-2A SKU-00001 acknowledged"
            assert acknowledged in text_of(app, "#message")
            rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
            assert not [r for r in rows if r[0] == "count"]
        (event,) = [r for r in ctx.store.pending() if r.type == "count.acknowledged"]
        assert event.payload == {"count_id": 7, "user": "grace"}

    try:
        asyncio.run(scenario())
    finally:
        ctx.close()


@pytest.mark.parametrize("size", [(80, 24), (40, 16)], ids=["80x24", "40x16"])
@pytest.mark.parametrize(("badge", "language"), [("B3001", "en"), ("B3002", "zh")])
def test_supervisor_count_difference_snapshot(
    snap_compare: Any,
    seeded_store: Path,
    tmp_path: Path,
    badge: str,
    language: str,
    size: tuple[int, int],
) -> None:
    ctx = context_from_seed(seeded_store, tmp_path, bell=False)
    ctx.clock = lambda: FIXED_NOW
    supervisor_with_difference(ctx)
    app = FloorApp(ctx, language=language)

    async def steps(pilot: Pilot[Any]) -> None:
        with ctx.store.engine.begin() as conn:
            conn.execute(text("UPDATE orders SET updated_at = :t"), {"t": FIXED_NOW - 1800})
        await pilot.press(*badge, "enter")
        await pilot.pause()
        with ctx.store.engine.begin() as conn:
            conn.execute(text("UPDATE outbox SET created_at = :t"), {"t": FIXED_NOW - 42})
        await pilot.press("2")
        await pilot.pause()
        for h in app.screen.query("#status-header"):
            h.refresh_status()  # type: ignore[attr-defined]
        await pilot.pause()

    try:
        assert snap_compare(app, terminal_size=size, run_before=steps)
    finally:
        ctx.close()
