"""set_text: a text that stays on one line is repainted without a layout of the screen; a
text that wraps (or a widget sized by its content) still gets one; the same text nothing."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from floor_app.ui.widgets.text import set_text

pytestmark = pytest.mark.tui


class Lines(App[None]):
    CSS = "#auto { width: auto; } #fixed { height: 1; }"

    def compose(self) -> ComposeResult:
        yield Static("counted 1 of 10", id="line")
        yield Static("A-01", id="auto")
        yield Static("header", id="fixed")
        yield Static("below", id="below")


def _layouts(widget: Static) -> int:
    return widget._layout_updates


def test_layout_only_when_the_height_may_change() -> None:
    async def scenario() -> None:
        app = Lines()
        async with app.run_test(size=(30, 10)) as pilot:
            await pilot.pause()
            line = app.query_one("#line", Static)
            auto = app.query_one("#auto", Static)
            fixed = app.query_one("#fixed", Static)
            below = app.query_one("#below", Static)
            y = below.region.y

            before = _layouts(line)
            set_text(line, "counted 2 of 10")
            assert _layouts(line) == before  # one line before and after: repaint only
            await pilot.pause()
            assert str(line.render()) == "counted 2 of 10"

            set_text(line, "counted 2 of 10")  # the same text: nothing at all
            assert _layouts(line) == before

            set_text(line, "a message far too long to fit on one line of thirty")
            assert _layouts(line) == before + 1  # it wraps: the screen is laid out
            await pilot.pause()
            assert line.region.height == 2
            assert below.region.y == y + 1

            before = _layouts(auto)
            set_text(auto, "A-01-02")  # as wide as its text: laid out again
            assert _layouts(auto) == before + 1

            before = _layouts(fixed)
            set_text(fixed, "a header far longer than the screen is wide, cut")
            assert _layouts(fixed) == before  # one line whatever the text

    asyncio.run(scenario())
