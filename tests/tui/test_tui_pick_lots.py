"""Picking a lot-tracked item on the real screens with a hardware scanner: a scan without its
lot, a wrong lot and an expired lot are refused with the reason and change nothing; the
right lot is counted and its event carries the lot; where the site allows it, another
unexpired lot is taken and recorded as a substitution."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import context_from_seed
from pilot_steps import totes_scanned
from textual.pilot import Pilot
from textual.widgets import Static

from device_drivers.fakes import FakeScanner
from floor_app.context import AppContext
from floor_app.domain.lots import LotRule
from floor_app.domain.picking import PickLine
from floor_app.ui.app import FloorApp
from floor_app.ui.screens.pick import PickScreen

pytestmark = pytest.mark.tui

LOT = "L2404A"


@pytest.fixture(params=["alice"])
def lot_ctx(
    request: pytest.FixtureRequest, seeded_store: Path, tmp_path: Path
) -> tuple[AppContext, FakeScanner, PickLine]:
    """The demo's first task started by the picker (``alice`` unless the test says), its
    first stop made a lot-tracked item holding lot L2404A."""
    ctx = context_from_seed(seeded_store, tmp_path)
    scanner = FakeScanner("scanner")
    scanner.start()
    ctx.devices.scanners.append(scanner)
    task = totes_scanned(ctx, "PT-0001", user=request.param)
    line = task.ordered_lines()[0]
    line.lot_tracked, line.lot, line.expiry = True, LOT, "2030-06-30"
    with ctx.store.unit_of_work() as uow:
        uow.tasks.save(task)
        uow.commit()
    return ctx, scanner, line


def gs1(line: PickLine, lot: str, expiry: str = "300630") -> str:
    """The item's GS1-128 code with its expiry (AI 17, YYMMDD) and lot (AI 10)."""
    return f"]C101{line.gtin}17{expiry}10{lot}"


async def open_first_task(pilot: Pilot[int], badge: str = "B1001") -> None:
    """Log in by badge and open the first task of the list."""
    await pilot.press(*badge, "enter")
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


def picks(ctx: AppContext) -> list[dict[str, object]]:
    return [dict(r.payload) for r in ctx.store.pending() if r.type == "pick.confirmed"]


@pytest.mark.parametrize("size", [(80, 24), (40, 16)])
def test_a_wrong_lot_an_expired_lot_then_the_right_lot(
    lot_ctx: tuple[AppContext, FakeScanner, PickLine], size: tuple[int, int]
) -> None:
    ctx, scanner, line = lot_ctx

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=size) as pilot:
            await open_first_task(pilot)
            assert isinstance(app.screen, PickScreen)

            async def scan(code: str) -> str:
                scanner.scan(code)
                await pilot.pause()
                return str(app.screen.query_one("#message", Static).render())

            await scan(line.location)
            assert f"lot {LOT}" in str(app.screen.query_one("#item", Static).render())
            said = await scan(line.gtin.lstrip("0"))  # the plain EAN carries no lot
            assert "lot-tracked" in said and "AI 10" in said
            said = await scan(gs1(line, "L9999X"))
            assert "lot L9999X is not the lot to pick: take lot L2404A" in said
            said = await scan(gs1(line, LOT, expiry="240101"))
            assert "lot L2404A expired on 2024-01-01" in said
            assert picks(ctx) == []
            said = await scan(gs1(line, LOT))
            assert "1 of 1" in said  # counted
        (pick,) = picks(ctx)
        assert pick["lot"] == LOT and pick["lot_substituted"] is False and pick["qty"] == 1

    asyncio.run(scenario())
    ctx.close()


def test_a_site_that_allows_substitution_records_it(
    lot_ctx: tuple[AppContext, FakeScanner, PickLine],
) -> None:
    ctx, scanner, line = lot_ctx
    ctx.picking.lot_rule = LotRule.SUBSTITUTE

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_first_task(pilot)
            for code in (line.location, gs1(line, "L2404B", expiry="240101"), gs1(line, "L2404B")):
                scanner.scan(code)
                await pilot.pause()
        (pick,) = picks(ctx)  # the expired one was refused even so
        assert pick["lot"] == "L2404B" and pick["lot_substituted"] is True

    asyncio.run(scenario())
    ctx.close()


@pytest.mark.parametrize("lot_ctx", ["wangfang"], indirect=True)
def test_the_chinese_screen_says_why_in_chinese(
    lot_ctx: tuple[AppContext, FakeScanner, PickLine],
) -> None:
    ctx, scanner, line = lot_ctx

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(40, 16)) as pilot:
            await open_first_task(pilot, "B1002")  # 王芳 works in Chinese
            scanner.scan(line.location)
            await pilot.pause()
            scanner.scan(gs1(line, "L9999X"))
            await pilot.pause()
            said = str(app.screen.query_one("#message", Static).render())
            assert "不是要拣的批次" in said and "L2404A" in said

    asyncio.run(scenario())
    ctx.close()


def test_a_case_barcode_counts_the_units_it_holds(seeded_store: Path, tmp_path: Path) -> None:
    from floor_app.domain.gtin import with_check_digit
    from floor_app.store.tables import BarcodeRow

    ctx = context_from_seed(seeded_store, tmp_path)
    scanner = FakeScanner("scanner")
    scanner.start()
    ctx.devices.scanners.append(scanner)
    task = totes_scanned(ctx, "PT-0001")
    line = next(ln for ln in task.ordered_lines() if ln.qty >= 2)
    too_big = with_check_digit("1" + line.gtin[1:-1])
    exact = with_check_digit("2" + line.gtin[1:-1])
    with ctx.store.unit_of_work() as uow:
        uow.session.add(BarcodeRow(gtin=too_big, sku=line.sku, pack_qty=line.qty + 1))
        uow.session.add(BarcodeRow(gtin=exact, sku=line.sku, pack_qty=line.qty))
        uow.commit()

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_first_task(pilot)
            while ctx.picking.task("PT-0001").ordered_lines()[0].line_id != line.line_id:
                await pilot.press("f7")  # skip to the stop with the line
                await pilot.pause()
            for code in (line.location, too_big):
                scanner.scan(code)
                await pilot.pause()
            said = str(app.screen.query_one("#message", Static).render())
            assert f"{line.qty + 1} is more than the {line.qty} still open" in said
            scanner.scan(exact)
            await pilot.pause()
        (pick,) = picks(ctx)
        assert pick["qty"] == line.qty

    asyncio.run(scenario())
    ctx.close()


def test_each_serial_is_scanned_once_and_an_undo_puts_it_back(
    seeded_store: Path, tmp_path: Path
) -> None:
    from floor_app.ui.screens.guard_dialogs import UndoScreen

    ctx = context_from_seed(seeded_store, tmp_path)
    scanner = FakeScanner("scanner")
    scanner.start()
    ctx.devices.scanners.append(scanner)
    task = totes_scanned(ctx, "PT-0001")
    line = next(ln for ln in task.ordered_lines() if ln.qty >= 2)
    line.serial_tracked = True
    with ctx.store.unit_of_work() as uow:
        uow.tasks.save(task)
        uow.commit()

    def serial(n: str) -> str:
        return f"]C101{line.gtin}21SN{n}"

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(40, 16)) as pilot:
            await open_first_task(pilot)
            while ctx.picking.task("PT-0001").ordered_lines()[0].line_id != line.line_id:
                await pilot.press("f7")
                await pilot.pause()

            async def scan(code: str) -> str:
                scanner.scan(code)
                await pilot.pause()
                return str(app.screen.query_one("#message", Static).render())

            await scan(line.location)
            said = await scan(line.gtin.lstrip("0"))
            assert "serial-tracked" in said and "AI 21" in said
            assert "1 of" in await scan(serial("001"))
            said = await scan(serial("001"))
            assert "serial SN001" in said and "already picked" in said
            await pilot.press(*"1", "enter")  # a typed quantity is not a serial
            await pilot.pause()
            said = str(app.screen.query_one("#message", Static).render())
            assert "serial-tracked" in said
            await pilot.press("f8")  # take SN001 back
            await pilot.pause()
            assert isinstance(app.screen, UndoScreen)
            await pilot.press("y")
            await pilot.pause()
            assert "1 of" in await scan(serial("001"))  # on the shelf again: picked anew
        events = [(r.type, dict(r.payload)) for r in ctx.store.pending()]
        serials = [(t, p["serial"]) for t, p in events if t in ("pick.confirmed", "pick.undone")]
        assert serials == [
            ("pick.confirmed", "SN001"),
            ("pick.undone", "SN001"),
            ("pick.confirmed", "SN001"),
        ]

    asyncio.run(scenario())
    ctx.close()
