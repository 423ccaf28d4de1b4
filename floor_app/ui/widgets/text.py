"""Changing the text of a line widget without a layout pass of the whole screen.

``Static.update`` asks for a layout by default, and in Textual a layout request of one
widget reflows the whole screen (every widget arranged again, then everything under the
changed regions painted). The pick screen changes a count and a message on every scan, so
that reflow was most of the time from a confirmed scan to the painted frame.
:func:`set_text` skips an update that changes nothing and asks for a repaint only (no
layout) when the widget's height cannot change: the old and the new text each fit on one
line of a widget whose width does not follow its content.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Static


def _one_line(text: object, width: int) -> bool:
    return isinstance(text, str) and "\n" not in text and cell_len(text) <= width


def set_text(widget: Static, text: str, *, fixed_height: bool = False) -> None:
    """Show ``text`` in ``widget``; lay the screen out again only if its size may change.

    ``fixed_height``: the widget's height is set in CSS (e.g. ``height: 1``), so its text
    never changes its size whatever its length.
    """
    old = widget.content
    if old == text:
        return
    layout = True
    if fixed_height or not widget.display:
        layout = False  # a hidden widget is laid out when it is shown again
    elif widget.is_mounted:
        width = widget.styles.width  # None: as wide as its container
        if width is None or not width.is_auto:
            room = widget.content_size.width
            layout = not (room > 0 and _one_line(old, room) and _one_line(text, room))
    widget.update(text, layout=layout)
