"""Changing the text of a line widget without a layout pass of the whole screen.

``Static.update`` asks for a layout by default, and in Textual a layout request of one
widget reflows the whole screen (every widget arranged again, then everything under the
changed regions painted). The pick screen changes a count and a message on every scan, so
that reflow was most of the time from a confirmed scan to the painted frame.
:func:`set_text` skips an update that changes nothing and asks for a repaint only (no
layout) when the widget's size cannot change: its width does not follow its content, and
either its height is a fixed number of lines or the old and the new text each fit on one
line.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Static


def _one_line(text: object, width: int) -> bool:
    return isinstance(text, str) and "\n" not in text and cell_len(text) <= width


def set_text(widget: Static, text: str) -> None:
    """Show ``text`` in ``widget``; lay the screen out again only if its size may change."""
    old = widget.content
    if old == text:
        return
    layout = True
    if not widget.display:
        layout = False  # a hidden widget is laid out when it is shown again
    elif widget.is_mounted:
        styles = widget.styles
        width = styles.width  # None: as wide as its container
        if width is None or not width.is_auto:
            height = styles.height
            if height is not None and height.is_cells:
                layout = False  # e.g. the header's "height: 1"
            else:
                room = widget.content_size.width
                layout = not (room > 0 and _one_line(old, room) and _one_line(text, room))
    widget.update(text, layout=layout)
