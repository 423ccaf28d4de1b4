"""Messages shared across the app: scans from any source, device and sync changes.

Driver and sync threads only ever call :meth:`textual.app.App.post_message` with one of
these (thread-safe); the app hands each to the active screen on the UI thread.
"""

from __future__ import annotations

import time
from enum import StrEnum

from textual.message import Message

from device_drivers.base import DeviceKind, DeviceState, StateChange
from floor_app.domain.errors import Reason
from floor_app.hub_sync import StaleStore, StoreRecovered


class ScanArrived(Message):
    """A code was read: by a hardware scanner or camera, or typed and submitted."""

    def __init__(self, text: str, source: str, received: float | None = None) -> None:
        super().__init__()
        self.text = text
        self.source = source
        self.received = time.monotonic() if received is None else received


class DeviceChanged(Message):
    """A device changed state (plugged, unplugged, paper out ...)."""

    def __init__(self, kind: DeviceKind, change: StateChange[DeviceState]) -> None:
        super().__init__()
        self.device = change.device
        self.kind = kind
        self.old: DeviceState = change.old
        self.new: DeviceState = change.new
        self.error = change.error


class SyncNoticeKind(StrEnum):
    """What a :class:`SyncNotice` is about."""

    REFUSED = "refused"
    """The hub refused a claim as stale."""
    REJECTED = "rejected"
    """An event failed the hub's checks."""
    TASK_CANCELLED = "task_cancelled"
    """The hub cancelled a task this device holds."""
    TASK_ASSIGNED = "task_assigned"
    """The hub assigned this device a task."""
    ORDER_PICKED = "order_picked"
    """An order this station packs has been picked (elsewhere, perhaps)."""
    TOTES = "totes"
    """The hub said which orders some totes hold (or that they are free)."""
    ONLINE = "online"
    OFFLINE = "offline"


class SyncNotice(Message):
    """Something the hub said that the user must see: a refused claim, a cancellation."""

    def __init__(
        self,
        kind: SyncNoticeKind | str,
        reason: str | Reason,
        *,
        task_id: str | None = None,
        order_id: str | None = None,
        claim: str = "",
    ) -> None:
        super().__init__()
        self.kind = SyncNoticeKind(kind)
        #: what the hub said, as a code with parameters and in English (see ``reason``)
        self.why = reason if isinstance(reason, Reason) else Reason(reason)
        self.reason = self.why.text
        self.task_id = task_id
        self.order_id = order_id
        #: the event type of a refused claim (``tote.assigned`` ...)
        self.claim = claim


class StoreNews(Message):
    """The hub found this device's store stale (``stale``), or it was recovered."""

    def __init__(self, stale: StaleStore | None, recovered: StoreRecovered | None = None) -> None:
        super().__init__()
        self.stale = stale
        self.recovered = recovered
