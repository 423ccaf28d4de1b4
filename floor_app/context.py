"""What the running app is handed by bootstrap: settings, store, use cases, devices, sync.

Plain data, no Textual: the UI reads it, bootstrap builds it, tests build it with fakes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from device_drivers.base import Device, LabelPrinter, Scale, ScanSource
from floor_app.services.picking import PickingService
from floor_app.services.session import SessionService
from floor_app.settings import Settings
from floor_app.store import Store

if TYPE_CHECKING:
    from device_drivers.wedge import KeyboardWedgeScanner
    from floor_app.services.labels import LabelService
    from floor_app.services.packing import PackingService
    from floor_app.services.returns import ReturnsService
    from floor_app.services.supervision import DevicePresence, SupervisorFeed


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """What the header shows about sync."""

    online: bool
    detail: str = ""


@dataclass(slots=True)
class Activity:
    """What this device is doing now, for its own presence row and heartbeat."""

    task: str = ""
    last_scan: str = ""
    last_scan_at: float | None = None

    def scanned(self, text: str) -> None:
        """Note a scan."""
        self.last_scan = text
        self.last_scan_at = time.time()


@dataclass(slots=True)
class AppContext:
    """Everything a screen may use. ``devices`` and ``sync`` are None when not configured.

    ``scanners`` are the scan sources (scanners and cameras) the app listens to;
    ``printer`` and ``scale`` the station's, when it has them. ``wedge`` is the keyboard-wedge
    scanner (also one of ``scanners``) that keys typed into the scan fields are fed to.
    """

    settings: Settings
    store: Store
    sessions: SessionService
    picking: PickingService
    demo: bool = False
    devices: Any = None
    sync: Any = None
    device_health: Callable[[], dict[str, str]] = field(default=lambda: {})
    closers: list[Callable[[], None]] = field(default_factory=list)
    packing: PackingService | None = None
    labels: LabelService | None = None
    returns: ReturnsService | None = None
    supervisor: SupervisorFeed | None = None
    scanners: list[ScanSource[Any]] = field(default_factory=list)
    printer: LabelPrinter | None = None
    scale: Scale | None = None
    wedge: KeyboardWedgeScanner | None = None
    activity: Activity = field(default_factory=Activity)
    clock: Callable[[], float] = time.time

    def sync_status(self) -> SyncStatus:
        """Online/offline as the sync agent sees it (demo mode: offline, no broker)."""
        if self.sync is None:
            return SyncStatus(False, "demo" if self.demo else "sync off")
        status = self.sync.status()
        return SyncStatus(
            bool(getattr(status, "online", False)), str(getattr(status, "detail", ""))
        )

    def all_devices(self) -> list[Device[Any]]:
        """Every driver this context holds (scanners, cameras, printer, scale)."""
        out: list[Device[Any]] = list(self.scanners)
        out += [d for d in (self.printer, self.scale) if d is not None]
        return out

    def close(self) -> None:
        """Stop devices and sync, close the store (in reverse order of building)."""
        for closer in reversed(self.closers):
            try:
                closer()
            except Exception:
                continue
        self.store.close()


def health_of(devices: list[Device[Any]]) -> dict[str, str]:
    """``{kind: state}`` of ``devices`` (the first of each kind; others get a number)."""
    out: dict[str, str] = {}
    for device in devices:
        name = device.kind
        n = 2
        while name in out:
            name, n = f"{device.kind}{n}", n + 1
        out[name] = device.state.value
    return out


class DevicePresenceSource:
    """This device's own row for the supervisor: user, task, outbox, last scan, health."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def __call__(self) -> DevicePresence:
        from floor_app.services.supervision import DevicePresence

        ctx = self.ctx
        try:
            depth, oldest, _ = ctx.store.outbox_stats()
            user = ctx.store.meta("current_user", "") or ""
        except Exception:
            depth, oldest, user = -1, None, ""
        now = ctx.clock()
        act = ctx.activity
        return DevicePresence(
            device_id=ctx.settings.device.id,
            online=True if ctx.sync is None else ctx.sync_status().online,
            user=user,
            task=act.task,
            outbox_depth=depth,
            oldest_unsent_age_s=None if oldest is None else max(0.0, now - oldest),
            last_scan=act.last_scan,
            last_scan_age_s=None if act.last_scan_at is None else max(0.0, now - act.last_scan_at),
            health=ctx.device_health(),
            station=ctx.settings.device.station,
        )
