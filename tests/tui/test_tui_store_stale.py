"""A store the hub found stale, as the user and the supervisor see it: the device says that
nothing is sent and only a supervisor's badge starts the recovery; the work goes on meanwhile;
the end of the recovery is told; a store left stale says so again at the next start."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import context_from_seed
from fakes import FakeSync
from textual.widgets import Static

from floor_app.hub_sync import StaleStore, StoreRecovered
from floor_app.ui.app import FloorApp
from floor_app.ui.screens.guard_dialogs import StoreStaleScreen
from floor_app.ui.screens.picker_home import PickerHomeScreen

STALE = StaleStore("behind", 50, 45, "this device's store ends at event 45 ...")


def _text(app: FloorApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


@pytest.mark.parametrize("size", [(80, 24), (40, 16)])
def test_the_hubs_stale_word_stops_nothing_but_only_a_supervisor_recovers(
    seeded_store: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    ctx = context_from_seed(seeded_store, tmp_path)
    ctx.sync = sync = FakeSync()

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=size) as pilot:
            await pilot.press(*"B1001", "enter")  # a picker at work
            await pilot.pause()
            sync.stale = STALE
            sync.store_stale.tell(STALE)
            await pilot.pause()
            assert isinstance(app.screen, StoreStaleScreen)
            assert "50" in _text(app, "#guard-question") and "45" in _text(app, "#guard-question")
            await pilot.press("y")  # not enough: a supervisor decides
            await pilot.press(*"B1001", "enter")
            await pilot.pause()
            assert isinstance(app.screen, StoreStaleScreen)
            assert "not a supervisor" in _text(app, "#message")
            await pilot.press("escape")  # the work goes on
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen)
            assert sync.recoveries == []
            sync.store_stale.tell(STALE)  # said again: asked again
            await pilot.pause()
            await pilot.press(*"B3001", "enter")  # the supervisor's badge
            await pilot.pause()
            assert sync.recoveries == ["grace"]
            assert isinstance(app.screen, PickerHomeScreen)
            sync.stale = None
            sync.store_recovered.tell(StoreRecovered(50, 0, 3, 20, ("31 pick.confirmed",)))
            await pilot.pause()
            shown = " ".join(str(n.message) for n in app._notifications)
            assert "after event 50" in shown and "20 events" in shown

    asyncio.run(scenario())
    ctx.close()


def test_a_store_left_stale_says_so_at_the_next_start(seeded_store: Path, tmp_path: Path) -> None:
    ctx = context_from_seed(seeded_store, tmp_path)
    ctx.sync = sync = FakeSync()
    sync.stale = STALE

    async def scenario() -> None:
        app = FloorApp(ctx, language="zh")
        async with app.run_test(size=(40, 16)) as pilot:
            await pilot.pause()
            await pilot.pause()
            assert isinstance(app.screen, StoreStaleScreen)
            assert "中心 50" in _text(app, "#guard-question")

    asyncio.run(scenario())
    ctx.close()
