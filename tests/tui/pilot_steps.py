"""Steps the screen tests take through a Pilot: log in and open a row of the task list,
type a scan, read a widget's text, and the steps before a snapshot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Static

from floor_app.ui.app import FloorApp


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
