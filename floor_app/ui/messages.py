"""Messages shared across the app: scans from any source, device and sync changes.

Driver and sync threads only ever call :meth:`textual.app.App.post_message` with one of
these (thread-safe); the app hands each to the active screen on the UI thread.
"""

from __future__ import annotations

import time

from textual.message import Message


class ScanArrived(Message):
    """A code was read: by a hardware scanner or camera, or typed and submitted."""

    def __init__(self, text: str, source: str, received: float | None = None) -> None:
        super().__init__()
        self.text = text
        self.source = source
        self.received = time.monotonic() if received is None else received


class DeviceChanged(Message):
    """A device changed state (plugged, unplugged, paper out ...)."""

    def __init__(self, device: str, kind: str, old: str, new: str, error: str = "") -> None:
        super().__init__()
        self.device = device
        self.kind = kind
        self.old = old
        self.new = new
        self.error = error


class SyncNotice(Message):
    """Something the hub said that the user must see: a refused claim, a cancellation."""

    def __init__(
        self, kind: str, reason: str, *, task_id: str | None = None, order_id: str | None = None
    ) -> None:
        super().__init__()
        self.kind = kind  # "refused", "rejected", "task_cancelled", "online", "offline"
        self.reason = reason
        self.task_id = task_id
        self.order_id = order_id
