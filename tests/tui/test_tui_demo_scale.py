"""The demo pack station weighs what was packed: the demo scale reads the verified units and
the carton (not a fixed parcel), and F9 makes the next weighing fail the weight check."""

from __future__ import annotations

import asyncio

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from device_drivers.demo_scale import DemoScale
from device_drivers.fakes import FakeScanner
from floor_app.context import AppContext
from floor_app.ui.app import FloorApp
from floor_app.ui.screens.packer_home import PackerHomeScreen

pytestmark = pytest.mark.tui


async def _settle(pilot: Pilot[None], app: FloorApp) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def _open_and_verify(
    pilot: Pilot[None], app: FloorApp, scanner: FakeScanner, tote: str, *, before_last: str = ""
) -> PackerHomeScreen:
    scanner.scan(tote)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, PackerHomeScreen) and screen.view is not None
    gtins = [
        screen.view.skus[sku].gtin
        for sku, qty in screen.view.session.expected.items()
        for _ in range(qty)
    ]
    for n, gtin in enumerate(gtins):
        if before_last and n == len(gtins) - 1:
            await pilot.press(before_last)
        scanner.scan(gtin)
        await pilot.pause()
    await _settle(pilot, app)
    return screen


def test_the_demo_scale_weighs_the_carton_and_f9_misweighs(demo_ctx: AppContext) -> None:
    ctx = demo_ctx
    scale = ctx.devices.scale
    assert isinstance(scale, DemoScale)
    scanner = next(s for s in ctx.devices.scanners if isinstance(s, FakeScanner))

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B2001", "enter")
            await pilot.pause()
            screen = await _open_and_verify(pilot, app, scanner, "T0901")
            first = screen.view
            assert first is not None and first.session.weight_g is not None
            assert abs(first.session.weight_g - first.expected_weight_g) <= 2 + (
                first.expected_weight_g * 0.005
            )
            screen.action_leave()
            await pilot.pause()

            screen = await _open_and_verify(pilot, app, scanner, "T0902", before_last="f9")
            view = screen.view
            assert view is not None and view.session.weight_g is None  # refused
            message = str(screen.query_one("#message", Static).render())
            assert f"expected {view.expected_weight_g:,} g" in message
            await pilot.press("f8")  # weigh again: the scale reads true this time
            await _settle(pilot, app)
            view = screen.view
            assert view is not None and view.session.weight_g is not None
            assert abs(view.session.weight_g - view.expected_weight_g) <= view.tolerance_g

    asyncio.run(scenario())
