"""A keyboard-wedge scanner typing into the terminal, told from a person by key timing.

The keys are pressed through Pilot; their times come from a scripted clock (the app's
``wedge_keys`` hooks) rather than from sleeping: a scanner burst has 3 ms between keys and
ends with Enter, a person types with 150 ms between keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import context_from_seed
from pilot_steps import put_tote, totes_scanned
from textual.pilot import Pilot
from textual.widgets import Input, Static

from device_drivers.wedge import KeyboardWedgeScanner
from floor_app.context import AppContext
from floor_app.ui.app import FloorApp
from floor_app.ui.screens.pick import PickScreen
from floor_app.ui.screens.picker_home import PickerHomeScreen

pytestmark = pytest.mark.tui

BURST_GAP_S = 0.003
HUMAN_GAP_S = 0.150


class ScriptedClock:
    """Key times as the test says they were read."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _text(app: FloorApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def _field(app: FloorApp) -> str:
    return app.screen.query_one("#scan", Input).value


async def _keys(pilot: Pilot[int], clock: ScriptedClock, keys: list[str], gap: float) -> None:
    for key in keys:
        clock.t += gap
        await pilot.press(key)


async def scanner_burst(pilot: Pilot[int], clock: ScriptedClock, code: str) -> None:
    """What a wedge scanner sends: the code at a few ms a key, then Enter."""
    clock.t += 1.0  # a pause since the last key
    await _keys(pilot, clock, [*code, "enter"], BURST_GAP_S)
    await pilot.pause()


async def person_types(pilot: Pilot[int], clock: ScriptedClock, text: str) -> None:
    """A person typing ``text`` and Enter, 150 ms a key."""
    clock.t += 1.0
    await _keys(pilot, clock, [*text, "enter"], HUMAN_GAP_S)
    await pilot.pause()


@pytest.fixture
def wedge_ctx(seeded_store: Path, tmp_path: Path) -> tuple[AppContext, KeyboardWedgeScanner]:
    ctx = context_from_seed(seeded_store, tmp_path)
    wedge = KeyboardWedgeScanner()
    wedge.start()
    ctx.devices.scanners.append(wedge)
    ctx.wedge = wedge
    return ctx, wedge


async def _until(pilot: Pilot[int], check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait (generously) for the app's flush timer to do its work."""
    for _ in range(int(timeout / 0.02)):
        if check():
            return
        await pilot.pause(0.02)
    assert check()


async def _go_to(pilot: Pilot[int], ctx: AppContext, line_id: str) -> None:
    """Skip stops (F7) until ``line_id`` is the current one."""
    while ctx.picking.task("PT-0003").next_line().line_id != line_id:  # type: ignore[union-attr]
        await pilot.press("f7")
        await pilot.pause()


def _app(ctx: AppContext, clock: ScriptedClock) -> FloorApp:
    app = FloorApp(ctx)
    assert app.wedge_keys is not None
    app.wedge_keys.key_time = lambda event: clock()
    app.wedge_keys.now = clock
    return app


def test_scanner_bursts_are_scans_and_a_person_types_a_quantity(
    wedge_ctx: tuple[AppContext, KeyboardWedgeScanner],
) -> None:
    ctx, wedge = wedge_ctx
    clock = ScriptedClock()

    async def scenario() -> None:
        app = _app(ctx, clock)
        task = totes_scanned(ctx, "PT-0003")
        async with app.run_test(size=(80, 24)) as pilot:
            await scanner_burst(pilot, clock, "B1001")  # the badge, scanned
            # PT-0003 (lines of 2+), in progress since its totes were scanned, opens
            assert isinstance(app.screen, PickScreen) and app.screen.pick_task.task_id == "PT-0003"
            first, second = [
                ln for ln in ctx.picking.task("PT-0003").ordered_lines() if ln.qty == 2
            ][:2]
            # A person types a quantity in the quantity step, key by key.
            await _go_to(pilot, ctx, first.line_id)
            await scanner_burst(pilot, clock, first.location)
            assert "Scan the item" in _text(app, "#prompt")
            assert _field(app) == ""  # the burst never reached the field
            await scanner_burst(pilot, clock, first.gtin)
            assert ctx.picking.task("PT-0003").line(first.line_id).picked == 1
            clock.t += 1.0
            await _keys(pilot, clock, ["1"], HUMAN_GAP_S)
            clock.t += HUMAN_GAP_S  # the person looks up: the window passes
            await _until(pilot, lambda: _field(app) == "1")  # typed into the field
            await _keys(pilot, clock, ["enter"], HUMAN_GAP_S)
            await pilot.pause()
            assert ctx.picking.task("PT-0003").line(first.line_id).picked == 2
            await scanner_burst(pilot, clock, put_tote(task, first.line_id))  # into its tote
            # A barcode scanned while the quantity field has focus is a scan, not a quantity.
            await _go_to(pilot, ctx, second.line_id)
            await scanner_burst(pilot, clock, second.location)
            await scanner_burst(pilot, clock, second.gtin)
            assert ctx.picking.task("PT-0003").line(second.line_id).picked == 1
            assert app.focused is app.screen.query_one("#scan", Input)
            await scanner_burst(pilot, clock, second.gtin)
            assert ctx.picking.task("PT-0003").line(second.line_id).picked == 2
            assert _field(app) == ""
            assert wedge.counters.scans == 7

    asyncio.run(scenario())
    ctx.close()


def test_a_person_typing_slowly_is_typing_not_a_scan(
    wedge_ctx: tuple[AppContext, KeyboardWedgeScanner],
) -> None:
    ctx, wedge = wedge_ctx
    clock = ScriptedClock()

    async def scenario() -> None:
        app = _app(ctx, clock)
        totes_scanned(ctx, "PT-0003")
        async with app.run_test(size=(80, 24)) as pilot:
            clock.t += 1.0
            await _keys(pilot, clock, [*"B100"], HUMAN_GAP_S)
            await pilot.pause()
            # held at most one window, then typed into the field in order
            assert app.screen.query_one("#badge", Input).value.startswith("B10")
            await person_types(pilot, clock, "1")
            # typed badge + Enter logs in; PT-0003, in progress, opens
            assert isinstance(app.screen, PickScreen) and app.screen.pick_task.task_id == "PT-0003"
            assert wedge.counters.scans == 0
            line = next(ln for ln in ctx.picking.task("PT-0003").ordered_lines() if ln.qty >= 2)
            await _go_to(pilot, ctx, line.line_id)
            await person_types(pilot, clock, line.location)
            await person_types(pilot, clock, line.gtin)
            assert ctx.picking.task("PT-0003").line(line.line_id).picked == 1
            # typed mistakes can be corrected: Backspace reaches the field after held keys
            clock.t += 1.0
            await _keys(pilot, clock, ["9", "backspace", "1", "enter"], HUMAN_GAP_S)
            await pilot.pause()
            assert ctx.picking.task("PT-0003").line(line.line_id).picked == 2
            assert wedge.counters.scans == 0

    asyncio.run(scenario())
    ctx.close()


def test_a_burst_without_enter_is_neither_typed_nor_scanned(
    wedge_ctx: tuple[AppContext, KeyboardWedgeScanner],
) -> None:
    ctx, wedge = wedge_ctx
    clock = ScriptedClock()

    async def scenario() -> None:
        app = _app(ctx, clock)
        bells: list[int] = []
        app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
        async with app.run_test(size=(80, 24)) as pilot:
            clock.t += 1.0
            await _keys(pilot, clock, [*"B1001"], BURST_GAP_S)
            clock.t += 1.0  # silence: the suffix was lost
            await _until(pilot, lambda: "scan again" in _text(app, "#message"))
            assert app.screen.query_one("#badge", Input).value == ""
            assert bells
            assert wedge.counters.scans == 0
            await scanner_burst(pilot, clock, "B1001")  # scanned again, complete
            assert isinstance(app.screen, PickerHomeScreen)

    asyncio.run(scenario())
    ctx.close()
