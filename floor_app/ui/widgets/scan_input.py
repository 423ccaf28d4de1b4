"""The scan field (also the quantity field): an Input whose keys pass the keyboard wedge.

When the device has a keyboard-wedge scanner (``AppContext.wedge``), every key typed into
this field is first given to the app's :class:`~floor_app.ui.wedge_keys.WedgeKeys`: a
scanner's burst becomes a scan (never text in the field), a person's keys are typed as
usual. Without a wedge it is a plain :class:`~textual.widgets.Input`.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.widgets import Input


class ScanInput(Input):
    """A text field for scans and typed quantities that a wedge scanner cannot type into.

    Enter empties the field at once, before the screen handles what was submitted: a
    scanner sends its next code straight after the Enter, and those keys must start a
    fresh code rather than be appended to the old one (or be wiped by a late clear).
    ``clear_on_submit=False`` keeps the text (the user field of a user+PIN login).
    """

    def __init__(self, *args: Any, clear_on_submit: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clear_on_submit = clear_on_submit

    async def action_submit(self) -> None:
        if not self.clear_on_submit:
            await super().action_submit()
            return
        value = self.value
        result = self.validate(value) if "submitted" in self.validate_on else None
        self.value = ""
        self.post_message(self.Submitted(self, value, result))

    async def _on_key(self, event: events.Key) -> None:
        router = getattr(self.app, "wedge_keys", None)
        if router is not None and router.key(self, event):
            event.stop()
            event.prevent_default()
