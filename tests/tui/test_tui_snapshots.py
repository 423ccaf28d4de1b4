"""Snapshots of each main screen at 80x24 and at handheld size 40x16 (English and Chinese).

Deterministic: a fixed clock, fixed event and order times, no blinking cursor. Update
after an intended change with ``pytest tests/tui/test_tui_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXED_NOW, context_from_seed
from sqlalchemy import text
from textual.pilot import Pilot
from textual.widgets import Input

from floor_app.context import AppContext
from floor_app.services.supervision import LocalSupervisorFeed
from floor_app.ui.app import FloorApp
from floor_app.ui.screens.supervisor_home import SupervisorHomeScreen

pytestmark = pytest.mark.tui
SIZES = [(80, 24), (40, 16)]


def _freeze(ctx: AppContext) -> None:
    with ctx.store.engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET created_at = :t"), {"t": FIXED_NOW - 42})
        conn.execute(text("UPDATE orders SET updated_at = :t"), {"t": FIXED_NOW - 1800})


def _steps(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, FloorApp)
        for key in keys:
            if key == "FREEZE":
                _freeze(app.ctx)
                continue
            if key == "PARCEL":  # the tracking number of a parcel the demo shipped
                with app.ctx.store.unit_of_work() as uow:
                    tracking = uow.packs.labels_in("confirmed")[0].tracking
                await pilot.press(*tracking)
                await pilot.pause()
                continue
            await pilot.press(*key) if len(key) > 1 and key.isupper() else await pilot.press(key)
            await pilot.pause()
        for widget in app.screen.query(Input):
            widget.cursor_blink = False
        if isinstance(app.screen, SupervisorHomeScreen):
            app.screen.refresh_views()  # its timer may not have run since FREEZE
        header = app.screen.query("#status-header")
        for h in header:
            h.refresh_status()  # type: ignore[attr-defined]
        await pilot.pause()

    return run


SCREENS = {
    "login": ("en", ()),
    "picker_home": ("en", ("B1001", "enter", "FREEZE")),
    "pick": ("en", ("B1001", "enter", "FREEZE", "enter", "CART-01", "enter")),
    "pick_totes_zh": ("zh", ("B1002", "enter", "FREEZE", "enter", "T0061", "enter")),
    "packer": ("en", ("B2001", "enter", "T0901", "enter", "FREEZE")),
    "supervisor": ("en", ("B3001", "enter", "FREEZE", "4")),
    "returns": ("en", ("B2001", "enter", "f5", "PARCEL", "enter", "FREEZE")),
    "returns_zh": ("zh", ("B2002", "enter", "f5", "PARCEL", "enter", "FREEZE")),
}


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen_snapshot(
    snap_compare: Any, seeded_store: Path, tmp_path: Path, screen: str, size: tuple[int, int]
) -> None:
    ctx = context_from_seed(seeded_store, tmp_path, bell=False)
    ctx.clock = lambda: FIXED_NOW
    assert isinstance(ctx.supervisor, LocalSupervisorFeed)
    ctx.supervisor.clock = ctx.clock
    language, keys = SCREENS[screen]
    expanded: list[str] = []
    for key in keys:
        expanded.extend(
            list(key)
            if key[:1].isupper() and len(key) > 1 and key not in ("FREEZE", "PARCEL")
            else [key]
        )
    app = FloorApp(ctx, language=language)
    try:
        assert snap_compare(app, terminal_size=size, run_before=_steps(*expanded))
    finally:
        ctx.close()
