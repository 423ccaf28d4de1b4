"""The screen's keys at the bottom, on more lines where one does not hold them all.

Textual's footer is one line and cuts what does not fit: at 80 columns the pack station
lost its set-aside, log-out and quit keys. :class:`KeyBar` lists the same active bindings
(those shown, in the user's language) and wraps between keys, never inside one.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widgets import Static

#: the most lines the bar takes (three hold every key of the pack station at 40x16)
MAX_LINES = 3
GAP = "  "


def wrap_keys(items: list[tuple[str, str]], width: int) -> list[list[tuple[str, str]]]:
    """``items`` (key, description) on lines of at most ``width`` cells, whole items only."""
    lines: list[list[tuple[str, str]]] = [[]]
    used = 0
    for key, text in items:
        size = cell_len(f"{key} {text}")
        extra = size if not lines[-1] else size + len(GAP)
        if lines[-1] and used + extra > width:
            lines.append([])
            used, extra = 0, size
        lines[-1].append((key, text))
        used += extra
    return lines


class KeyBar(Static):
    """A footer that wraps (see the module docstring)."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: auto;
        max-height: 3;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self.draw)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: object) -> None:
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self.draw)

    def on_resize(self, event: events.Resize) -> None:
        self.draw()

    def items(self) -> list[tuple[str, str]]:
        """(key as shown, description) of each binding the screen shows, one per action."""
        seen: set[str] = set()
        out: list[tuple[str, str]] = []
        for _node, binding, enabled, _tip in self.screen.active_bindings.values():
            if not binding.show or not enabled or binding.action in seen:
                continue
            seen.add(binding.action)
            out.append((self.app.get_key_display(binding), binding.description))
        return out

    def draw(self) -> None:
        if not self.is_attached:  # a redraw asked for before its screen went away
            return
        width = self.size.width or self.app.size.width
        lines = wrap_keys(self.items(), max(1, width))[:MAX_LINES]
        text = Text()
        for n, line in enumerate(lines):
            if n:
                text.append("\n")
            for i, (key, description) in enumerate(line):
                if i:
                    text.append(GAP)
                text.append(key, style="bold")
                text.append(f" {description}")
        self.update(text)
