"""Steps the screen tests take through a Pilot: log in and open a row of the task list,
type a scan, read a widget's text, and a snapshot of a screen reached by such steps; and,
for tests about the stops of a task, its totes scanned beforehand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from conftest import FIXED_NOW, context_from_seed
from textual.pilot import Pilot
from textual.widgets import Input, Static

from floor_app.context import AppContext
from floor_app.domain.picking import PickTask
from floor_app.ui.app import FloorApp


def totes_scanned(ctx: AppContext, task_id: str, user: str = "alice") -> PickTask:
    """Start ``task_id`` as ``user`` and scan a free tote for each of its positions (as the
    picker does first), through the picking service: the task then opens at its first stop."""
    picking = ctx.picking
    task = picking.start(task_id, user).task
    while task.totes_to_scan():
        task = picking.assign_totes(task_id, picking.free_totes(1)[0], user).task
    return task


def put_tote(task: PickTask, line_id: str) -> str:
    """The code of the tote ``line_id`` of ``task`` goes into."""
    tote = task.tote_for(task.line(line_id).tote_position)
    assert tote is not None and tote.is_scanned
    return tote.tote_id


def text_of(app: FloorApp, selector: str) -> str:
    """The rendered text of the Static ``selector`` on the current screen."""
    return str(app.screen.query_one(selector, Static).render())


def screen_text(app: FloorApp) -> str:
    """The rendered text of every Static on the current screen."""
    return " ".join(str(w.render()) for w in app.screen.query(Static))


async def login_and_open(pilot: Pilot[Any], badge: str, row: int) -> None:
    """Log in by ``badge`` and start the task in ``row`` of the list."""
    await pilot.press(*badge, "enter")
    await pilot.pause()
    for _ in range(row):
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()


async def type_scan(pilot: Pilot[Any], text: str) -> None:
    """Type ``text`` and Enter, as a keyboard wedge scanner does."""
    await pilot.press(*text, "enter")
    await pilot.pause()


def snapshot_steps(badge: str, row: int, *typed: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Log in, open ``row``, type ``typed``; then still cursors and a fresh header."""

    async def run(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, FloorApp)
        await login_and_open(pilot, badge, row)
        for entry in typed:
            await type_scan(pilot, entry)
        for widget in app.screen.query(Input):
            widget.cursor_blink = False
        for h in app.screen.query("#status-header"):
            h.refresh_status()  # type: ignore[attr-defined]
        await pilot.pause()

    return run


def snapshot_matches(
    snap_compare: Any,
    seed: Path,
    tmp_path: Path,
    prepare: Callable[[AppContext], None],
    steps: Callable[[Pilot[Any]], Awaitable[None]],
    *,
    language: str,
    size: tuple[int, int],
) -> bool:
    """The app on a copy of the seeded store at the fixed test time, ``prepare``d (tasks
    pushed ...), in ``language``, compared with its snapshot after ``steps``."""
    ctx = context_from_seed(seed, tmp_path, bell=False)
    ctx.clock = lambda: FIXED_NOW
    prepare(ctx)
    app = FloorApp(ctx, language=language)
    try:
        return bool(snap_compare(app, terminal_size=size, run_before=steps))
    finally:
        ctx.close()
