"""The scan field (also the quantity field): an Input whose keys pass the keyboard wedge.

When the device has a keyboard-wedge scanner (``AppContext.wedge``), every key typed into
this field is first given to the app's :class:`~floor_app.ui.wedge_keys.WedgeKeys`: a
scanner's burst becomes a scan (never text in the field), a person's keys are typed as
usual. Without a wedge it is a plain :class:`~textual.widgets.Input`, except that Enter
and the other named keys act as they arrive (see :meth:`ScanInput._on_key`).

A field takes at most :data:`MAX_SCAN` characters (or the ``max_length`` it is given): a
key past that is refused and the field posts :class:`ScanInput.Capped`, which the screen
says in one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import events
from textual.message import Message
from textual.widgets import Input

#: the longest code a scan field takes (the longest floor code, a GS1 string, is ~80)
MAX_SCAN = 128


class ScanInput(Input):
    """A text field for scans and typed quantities that a wedge scanner cannot type into.

    Enter empties the field at once, before the screen handles what was submitted: a
    scanner sends its next code straight after the Enter, and those keys must start a
    fresh code rather than be appended to the old one (or be wiped by a late clear).
    ``clear_on_submit=False`` keeps the text (the user field of a user+PIN login).
    """

    @dataclass
    class Capped(Message):
        """A key was refused: the field holds its ``limit`` of characters already."""

        limit: int

    def __init__(
        self,
        *args: Any,
        clear_on_submit: bool = True,
        max_length: int = MAX_SCAN,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, max_length=max_length, **kwargs)
        self.clear_on_submit = clear_on_submit

    def restricted(self) -> None:
        """A key was refused; when for the length, say so (:class:`Capped`)."""
        limit = self.max_length
        if limit and len(self.value) >= limit:
            self.post_message(self.Capped(limit))

    async def action_submit(self) -> None:
        if not self.clear_on_submit:
            await super().action_submit()
            return
        value = self.value
        result = self.validate(value) if "submitted" in self.validate_on else None
        self.value = ""
        self.post_message(self.Submitted(self, value, result))

    async def _on_key(self, event: events.Key) -> None:
        from floor_app.ui.app import FloorApp

        app = self.app
        router = app.wedge_keys if isinstance(app, FloorApp) else None
        if router is not None and router.key(self, event):
            event.stop()
            event.prevent_default()
            return
        if not event.is_printable and await self.app._check_bindings(event.key):
            # A named key's binding (Enter submits, arrows, F-keys) acts here, in the order
            # the keys came. Left to bubble up to the app, it would act only after the keys
            # typed behind it had gone into the field: the next scan glued to this one, or
            # a list's Down applied after the Enter that opens its row.
            event.stop()
            event.prevent_default()
