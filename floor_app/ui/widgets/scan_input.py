"""The scan field (also the quantity field): an Input whose keys pass the keyboard wedge.

When the device has a keyboard-wedge scanner (``AppContext.wedge``), every key typed into
this field is first given to the app's :class:`~floor_app.ui.wedge_keys.WedgeKeys`: a
scanner's burst becomes a scan (never text in the field), a person's keys are typed as
usual. Without a wedge it is a plain :class:`~textual.widgets.Input`.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class ScanInput(Input):
    """A text field for scans and typed quantities that a wedge scanner cannot type into."""

    async def _on_key(self, event: events.Key) -> None:
        router = getattr(self.app, "wedge_keys", None)
        if router is not None and router.key(self, event):
            event.stop()
            event.prevent_default()
