"""What the running app is handed by bootstrap: settings, store, use cases, devices, sync.

Plain data, no Textual: the UI reads it, bootstrap builds it, tests build it with fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from floor_app.services.picking import PickingService
from floor_app.services.session import SessionService
from floor_app.settings import Settings
from floor_app.store import Store


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """What the header shows about sync."""

    online: bool
    detail: str = ""


@dataclass(slots=True)
class AppContext:
    """Everything a screen may use. ``devices`` and ``sync`` are None when not configured."""

    settings: Settings
    store: Store
    sessions: SessionService
    picking: PickingService
    demo: bool = False
    devices: Any = None
    sync: Any = None
    device_health: Callable[[], dict[str, str]] = field(default=lambda: {})
    closers: list[Callable[[], None]] = field(default_factory=list)

    def sync_status(self) -> SyncStatus:
        """Online/offline as the sync agent sees it (demo mode: offline, no broker)."""
        if self.sync is None:
            return SyncStatus(False, "demo" if self.demo else "sync off")
        status = self.sync.status()
        return SyncStatus(
            bool(getattr(status, "online", False)), str(getattr(status, "detail", ""))
        )

    def close(self) -> None:
        """Stop devices and sync, close the store (in reverse order of building)."""
        for closer in reversed(self.closers):
            try:
                closer()
            except Exception:
                continue
        self.store.close()
