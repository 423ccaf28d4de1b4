"""Refills and put-aways end to end: stock tasks pushed into a real store, opened from the
picker's home, worked by scans (source, items, destination), each trip one stock.moved in
the outbox with the local stock; a task closed short is one stock_task.closed; a task the
hub cancels stops; bad input changes nothing. Snapshots at 80x24 and 40x16, English and
Chinese."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from conftest import context_from_seed
from fakes import FakeSync
from pilot_steps import login_and_open, snapshot_matches, snapshot_steps, text_of, type_scan
from sqlalchemy import update

from device_drivers.fakes import FakeScanner
from floor_app.context import AppContext
from floor_app.domain.stockwork import StockTask, StockTaskKind, StockTaskState
from floor_app.services.stock_moves import MoveService
from floor_app.store.tables import SkuRow
from floor_app.ui.app import FloorApp
from floor_app.ui.screens.pick_dialogs import ShortReasonScreen
from floor_app.ui.screens.picker_home import PickerHomeScreen
from floor_app.ui.screens.stock_move import StockMoveScreen
from sync.device.push_apply import PushApplier, news_of
from sync.device.rejections import take_back_rejected
from sync.protocol import PushMessage, StockTaskAssigned, StockTaskCancelled, StockTaskModel

pytestmark = pytest.mark.tui

GTIN_1 = "4260123000011"  # SKU-00001: 70 at the face A01-01-2A, 65 in reserve at A01-01-4A
GTIN_2 = "4260123000028"  # SKU-00002
PICK_TASKS = 6  # the demo store's pick tasks come first in the list
REFILL, PUTAWAY = PICK_TASKS, PICK_TASKS + 1  # rows: the urgent refill, then the put-away


def pushed_moves() -> list[StockTask]:
    return [
        StockTask(
            "ST-000011",
            StockTaskKind.REPLENISH,
            "SKU-00001",
            "04260123000011",
            "A01-01-4A",
            "A01-01-2A",
            qty=5,
            lot="L00001-1",
            urgent=True,
        ),
        StockTask(
            "ST-000012",
            StockTaskKind.PUTAWAY,
            "SKU-00002",
            "04260123000028",
            "T0007",
            "A01-02-2A",
            qty=3,
            reason="order cancelled",
        ),
    ]


def push(ctx: AppContext, *items: Any, start: int = 1) -> None:
    """Apply the hub's pushes through the device's real push path."""
    applier = PushApplier(ctx.store)
    for cursor, item in enumerate(items, start=start):
        assert applier.apply(PushMessage(device_id=ctx.store.device_id, cursor=cursor, item=item))


def push_moves(ctx: AppContext) -> None:
    push(ctx, *(StockTaskAssigned(task=StockTaskModel.from_domain(t)) for t in pushed_moves()))


@pytest.fixture
def move_ctx(seeded_store: Path, tmp_path: Path) -> tuple[AppContext, FakeScanner]:
    ctx = context_from_seed(seeded_store, tmp_path, bell=False)
    push_moves(ctx)
    scanner = FakeScanner("scanner")
    scanner.start()
    ctx.devices.scanners.append(scanner)
    return ctx, scanner


def events(ctx: AppContext, kind: str = "stock.moved") -> list[dict[str, Any]]:
    return [dict(r.payload) for r in ctx.store.pending() if r.type == kind]


def stock(ctx: AppContext, location: str, sku: str) -> int:
    with ctx.store.unit_of_work() as uow:
        return uow.catalogue.stock(location, sku)


@pytest.mark.parametrize("size", [(80, 24), (40, 16)])
def test_a_refill_in_two_trips_is_two_moves_with_the_local_stock(
    move_ctx: tuple[AppContext, FakeScanner], size: tuple[int, int]
) -> None:
    ctx, scanner = move_ctx

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=size) as pilot:
            await login_and_open(pilot, "B1001", REFILL)
            assert isinstance(app.screen, StockMoveScreen)
            assert "refill · URGENT" in text_of(app, "#move-title")
            assert "Go to A01-01-4A" in text_of(app, "#prompt")
            assert "lot L00001-1" in text_of(app, "#item")
            scanner.scan("A01-01-4A")
            await pilot.pause()
            for _ in range(2):
                scanner.scan(GTIN_1)
                await pilot.pause()
            assert "Carrying 2 · 5 to move" in text_of(app, "#carried")
            await type_scan(pilot, "3")  # typed: how many are carried
            assert "Carrying 3" in text_of(app, "#carried")
            assert "Take the 3 to A01-01-2A" in text_of(app, "#prompt")
            assert events(ctx) == []  # nothing recorded before the destination
            scanner.scan("A01-01-2A")
            await pilot.pause()
            assert "Moved 3 x SKU-00001 to A01-01-2A" in text_of(app, "#message")
            assert "2 still to move: scan A01-01-4A again" in text_of(app, "#prompt")
            scanner.scan("A01-01-4A")
            await pilot.pause()
            await type_scan(pilot, "2")
            scanner.scan("A01-01-2A")
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen)
            assert "ST-000011 done" in text_of(app, "#message")
        assert events(ctx) == [
            {
                "task": "ST-000011",
                "sku": "SKU-00001",
                "from_location": "A01-01-4A",
                "to_location": "A01-01-2A",
                "qty": qty,
                "reason": "replenish",
                "user": "alice",
                "lot": "L00001-1",
                "serial": "",
            }
            for qty in (3, 2)
        ]
        assert (stock(ctx, "A01-01-4A", "SKU-00001"), stock(ctx, "A01-01-2A", "SKU-00001")) == (
            60,
            75,
        )
        task = MoveService(ctx.store).task("ST-000011")
        assert (task.state, task.moved) == (StockTaskState.DONE, 5)

    asyncio.run(scenario())


def test_a_put_away_from_a_tote_goes_to_the_suggested_or_another_storage_location(
    move_ctx: tuple[AppContext, FakeScanner],
) -> None:
    ctx, _ = move_ctx

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B1001", "enter")
            await pilot.pause()
            await type_scan(pilot, "T0007")  # the tote starts its put-away, at the source
            assert isinstance(app.screen, StockMoveScreen)
            assert "put away" in text_of(app, "#move-title")
            assert "Scan each SKU-00002 you take" in text_of(app, "#prompt")
            await type_scan(pilot, "3")
            assert "Put the 3 in A01-02-2A (or another storage location)" in text_of(app, "#prompt")
            await type_scan(pilot, "PACK-01")
            assert "PACK-01 is a pack location: put the units in a storage location" in text_of(
                app, "#message"
            )
            await type_scan(pilot, "A01-02-4A")  # the reserve: storage too
            assert isinstance(app.screen, PickerHomeScreen)
        (event,) = events(ctx)
        assert (event["from_location"], event["to_location"], event["qty"]) == (
            "T0007",
            "A01-02-4A",
            3,
        )
        assert event["reason"] == "putaway"
        assert stock(ctx, "A01-02-4A", "SKU-00002") == 80  # 77 + 3; a tote holds no stock

    asyncio.run(scenario())


def test_bad_moves_are_refused_with_the_reason_and_record_nothing(
    move_ctx: tuple[AppContext, FakeScanner],
) -> None:
    ctx, _ = move_ctx

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await login_and_open(pilot, "B1001", REFILL)
            await type_scan(pilot, GTIN_1)
            assert "this task takes from A01-01-4A" in text_of(app, "#message")
            await type_scan(pilot, "3")
            assert "Scan A01-01-4A first" in text_of(app, "#message")
            await type_scan(pilot, "A01-02-4A")  # another reserve
            wrong = "you scanned A01-02-4A: this task takes from A01-01-4A"
            assert wrong in text_of(app, "#message")
            await type_scan(pilot, "A01-01-4A")
            await type_scan(pilot, "A01-01-2A")  # the destination before taking anything
            assert "Take the items first" in text_of(app, "#message")
            await type_scan(pilot, GTIN_2)
            assert "SKU-00002 is not the item of this task (SKU-00001)" in text_of(app, "#message")
            await type_scan(pilot, "6")
            assert "6 is more than the 5 still open" in text_of(app, "#message")
            await type_scan(pilot, "4260123999995")
            assert "no SKU has the barcode" in text_of(app, "#message")
            await type_scan(pilot, "4")
            await type_scan(pilot, "A01-02-2A")  # another pick face
            assert "this refill goes to the pick face A01-01-2A, not A01-02-2A" in text_of(
                app, "#message"
            )
            await type_scan(pilot, "A01-01-9Z")
            await pilot.press("escape")  # units carried: Esc is refused
            await pilot.pause()
            assert isinstance(app.screen, StockMoveScreen)
            assert "You carry 4 x SKU-00001" in text_of(app, "#message")
            await pilot.press("f6")  # closing short while carrying is refused too
            await pilot.pause()
            assert isinstance(app.screen, StockMoveScreen)
            await pilot.press("f8")
            await pilot.pause()
            assert "Carrying 0" in text_of(app, "#carried")
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen)
        assert events(ctx) == []
        assert stock(ctx, "A01-01-4A", "SKU-00001") == 65
        task = MoveService(ctx.store).task("ST-000011")
        assert (task.state, task.moved) == (StockTaskState.IN_PROGRESS, 0)
        with pytest.raises(Exception, match="more than the 5 still to move"):
            MoveService(ctx.store).move("ST-000011", 6, "A01-01-2A", "alice")
        with pytest.raises(Exception, match="location A01-01-9Z does not exist"):
            MoveService(ctx.store).move("ST-000012", 1, "A01-01-9Z", "alice")
        assert events(ctx) == []

    asyncio.run(scenario())


def test_a_refill_closed_short_is_one_event_with_the_reason(
    move_ctx: tuple[AppContext, FakeScanner],
) -> None:
    ctx, scanner = move_ctx

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(40, 16)) as pilot:
            await login_and_open(pilot, "B1001", REFILL)
            scanner.scan("A01-01-4A")
            await pilot.pause()
            scanner.scan(GTIN_1)
            await pilot.pause()
            scanner.scan("A01-01-2A")
            await pilot.pause()
            await pilot.press("f6")
            await pilot.pause()
            assert isinstance(app.screen, ShortReasonScreen)
            await pilot.press("1")  # the reserve is empty
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen)
            assert "ST-000011 closed: Location empty" in text_of(app, "#message")
        assert [e["qty"] for e in events(ctx)] == [1]
        assert events(ctx, "stock_task.closed") == [
            {"task": "ST-000011", "reason": "empty", "user": "alice"}
        ]
        task = MoveService(ctx.store).task("ST-000011")
        assert (task.state, task.moved) == (StockTaskState.DONE, 1)
        assert [t.task_id for t in MoveService(ctx.store).open_moves()] == ["ST-000012"]

    asyncio.run(scenario())


def test_a_task_the_hub_cancels_stops_and_says_to_put_the_units_back(
    move_ctx: tuple[AppContext, FakeScanner],
) -> None:
    ctx, scanner = move_ctx
    ctx.sync = sync = FakeSync()

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await login_and_open(pilot, "B1001", REFILL)
            scanner.scan("A01-01-4A")
            await pilot.pause()
            await type_scan(pilot, "2")
            cancel = StockTaskCancelled(task_id="ST-000011", reason="the face was counted full")
            push(ctx, cancel, start=3)
            pushed = PushMessage(device_id=ctx.store.device_id, cursor=3, item=cancel)
            sync.push_applied.tell(news_of(pushed))
            await pilot.pause()
            assert "the face was counted full" in text_of(app, "#message")
            assert "put the 2 x SKU-00001 back" in text_of(app, "#prompt")
            scanner.scan("A01-01-2A")  # nothing is recorded any more
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen)
        assert events(ctx) == []
        assert MoveService(ctx.store).task("ST-000011").state is StockTaskState.CANCELLED
        with pytest.raises(Exception, match="cancelled by the hub"):
            MoveService(ctx.store).move("ST-000011", 1, "A01-01-2A", "alice")

    asyncio.run(scenario())


# -- snapshots ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (40, 16)], ids=["80x24", "40x16"])
@pytest.mark.parametrize(
    ("name", "badge", "language"), [("refill", "B1001", "en"), ("refill_zh", "B1002", "zh")]
)
def test_refill_snapshot(
    snap_compare: Any,
    seeded_store: Path,
    tmp_path: Path,
    name: str,
    badge: str,
    language: str,
    size: tuple[int, int],
) -> None:
    steps = snapshot_steps(badge, REFILL, "A01-01-4A", GTIN_1, GTIN_1)
    assert snapshot_matches(
        snap_compare, seeded_store, tmp_path, push_moves, steps, language=language, size=size
    )


def test_the_move_service_refuses_what_makes_no_sense_and_records_nothing(
    move_ctx: tuple[AppContext, FakeScanner],
) -> None:
    ctx, _ = move_ctx
    moves = MoveService(ctx.store)
    count = StockTask("ST-000013", StockTaskKind.COUNT, "", "", "A01-01-2A", "")
    push(ctx, StockTaskAssigned(task=StockTaskModel.from_domain(count)), start=3)
    refusals = [
        (lambda: moves.move("ST-000011", 0, "A01-01-2A", "alice"), "a move needs a positive"),
        (lambda: moves.move("ST-000011", 1, "A01-01-4A", "alice"), "is where the units come"),
        (lambda: moves.move("ST-000012", 1, "QUAR-01", "alice"), "QUAR-01 is a quarantine"),
        (lambda: moves.move("ST-000013", 1, "A01-01-2A", "alice"), "is a count task, not a move"),
        (lambda: moves.close("ST-000011", "  ", "alice"), "closing a task needs a reason"),
        (lambda: moves.start("ST-999999", "alice"), "unknown stock task ST-999999"),
    ]
    for call, reason in refusals:
        with pytest.raises(Exception, match=reason):
            call()
    assert events(ctx) == [] and events(ctx, "stock_task.closed") == []
    moves.move("ST-000012", 3, "A01-02-2A", "alice")
    with pytest.raises(Exception, match="ST-000012 is already done"):
        moves.move("ST-000012", 1, "A01-02-2A", "alice")
    with pytest.raises(Exception, match="ST-000012 is already done"):
        moves.close("ST-000012", "empty", "alice")
    assert [e["qty"] for e in events(ctx)] == [3]
    assert [t.task_id for t in moves.open_moves()] == ["ST-000011"]


def test_a_rejected_move_or_close_is_taken_back_once(
    move_ctx: tuple[AppContext, FakeScanner],
) -> None:
    ctx, _ = move_ctx
    moves = MoveService(ctx.store)
    moved = moves.move("ST-000011", 2, "A01-01-2A", "alice")
    closed = moves.close("ST-000011", "damaged", "alice")
    assert moves.task("ST-000011").state is StockTaskState.DONE
    before = (stock(ctx, "A01-01-4A", "SKU-00001"), stock(ctx, "A01-01-2A", "SKU-00001"))
    assert before == (63, 72)

    note = take_back_rejected(ctx.store, closed.seq, "stock task ST-000011 is not known")
    assert "ST-000011: 2 of 5 moved, in_progress" in note
    for _ in range(2):  # a rejection delivered twice is taken back once
        take_back_rejected(ctx.store, moved.seq, "A01-01-4A holds no SKU-00001")
    task = moves.task("ST-000011")
    assert (task.state, task.moved) == (StockTaskState.IN_PROGRESS, 0)
    assert task.reason == "the hub refused: A01-01-4A holds no SKU-00001"
    assert (stock(ctx, "A01-01-4A", "SKU-00001"), stock(ctx, "A01-01-2A", "SKU-00001")) == (65, 70)
    assert [t.task_id for t in moves.open_moves()] == ["ST-000011", "ST-000012"]
    assert take_back_rejected(ctx.store, 999, "no such event") == ""


def test_a_rejected_move_of_a_task_closed_afterwards_leaves_it_closed(
    move_ctx: tuple[AppContext, FakeScanner],
) -> None:
    ctx, _ = move_ctx
    moves = MoveService(ctx.store)
    moved = moves.move("ST-000011", 2, "A01-01-2A", "alice")
    moves.close("ST-000011", "empty", "alice")  # the hub applies this close
    take_back_rejected(ctx.store, moved.seq, "A01-01-4A holds no SKU-00001")
    task = moves.task("ST-000011")
    assert (task.state, task.moved) == (StockTaskState.DONE, 0)  # ended on the hub too
    assert (stock(ctx, "A01-01-4A", "SKU-00001"), stock(ctx, "A01-01-2A", "SKU-00001")) == (65, 70)
    assert [t.task_id for t in moves.open_moves()] == ["ST-000012"]


def test_a_rejected_move_gives_back_only_what_it_took_from_the_source(
    move_ctx: tuple[AppContext, FakeScanner],
) -> None:
    ctx, _ = move_ctx
    with ctx.store.unit_of_work() as uow:
        uow.catalogue.set_stock("A01-01-4A", "SKU-00001", 3)  # the device thought 3 were there
        uow.commit()
    moves = MoveService(ctx.store)
    moved = moves.move("ST-000011", 5, "A01-01-2A", "alice")
    assert (stock(ctx, "A01-01-4A", "SKU-00001"), stock(ctx, "A01-01-2A", "SKU-00001")) == (0, 75)
    take_back_rejected(ctx.store, moved.seq, "A01-01-4A holds only 3 free of SKU-00001")
    assert (stock(ctx, "A01-01-4A", "SKU-00001"), stock(ctx, "A01-01-2A", "SKU-00001")) == (3, 70)
    task = moves.task("ST-000011")
    assert (task.state, task.moved) == (StockTaskState.IN_PROGRESS, 0)


def test_a_serial_tracked_item_is_put_away_unit_by_unit_with_its_serials(
    move_ctx: tuple[AppContext, FakeScanner],
) -> None:
    ctx, _ = move_ctx
    with ctx.store.unit_of_work() as uow:
        uow.session.execute(
            update(SkuRow).where(SkuRow.sku == "SKU-00002").values(serial_tracked=True)
        )
        uow.commit()

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B1001", "enter")
            await pilot.pause()
            await type_scan(pilot, "T0007")  # the put-away of 3 x SKU-00002, at its source
            assert isinstance(app.screen, StockMoveScreen)
            await type_scan(pilot, GTIN_2)  # no serial number
            assert "scan each unit's serial number" in text_of(app, "#message")
            await type_scan(pilot, "3")  # nor a typed quantity
            assert "scan each unit's serial number" in text_of(app, "#message")
            await type_scan(pilot, f"]C101{GTIN_2.zfill(14)}21SN-1")
            await type_scan(pilot, f"]C101{GTIN_2.zfill(14)}21SN-1")
            assert "serial SN-1 is carried already" in text_of(app, "#message")
            for serial in ("SN-2", "SN-3"):
                await type_scan(pilot, f"]C101{GTIN_2.zfill(14)}21{serial}")
            assert "Carrying 3" in text_of(app, "#carried")
            await type_scan(pilot, "A01-02-4A")
            assert isinstance(app.screen, PickerHomeScreen)
        moved = [(e["qty"], e["serial"]) for e in events(ctx)]
        assert moved == [(1, "SN-1"), (1, "SN-2"), (1, "SN-3")]
        assert stock(ctx, "A01-02-4A", "SKU-00002") == 80

    asyncio.run(scenario())
