"""What the running app is handed by bootstrap: settings, store, use cases, devices, sync.

Plain data, no Textual: the UI reads it, bootstrap builds it, tests change its devices to fakes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from device_drivers.base import Devices
from floor_app.hub_sync import DeviceSync, LinkState, SyncStatus
from floor_app.services.picking import PickingService
from floor_app.services.session import SessionService
from floor_app.settings import Settings
from floor_app.store import Store, StoreError

if TYPE_CHECKING:
    from device_drivers.wedge import KeyboardWedgeScanner
    from floor_app.services.catalogue import CatalogueService
    from floor_app.services.counting import CountingService
    from floor_app.services.documents import DocumentService
    from floor_app.services.labels import LabelService
    from floor_app.services.outbox import OutboxService
    from floor_app.services.packing import PackingService
    from floor_app.services.receiving import ReceivingService
    from floor_app.services.returns import ReturnsService
    from floor_app.services.stock_moves import MoveService
    from floor_app.services.supervision import DevicePresence, SupervisorFeed

log = logging.getLogger("floor.context")


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
    """Everything a screen may use. ``sync`` is None when not configured.

    Screens reach state only through the use cases (``sessions``, ``picking`` ... ``outbox``);
    ``store`` is for bootstrap and sync. ``devices`` are the station's built and started
    drivers (any of them absent); ``wedge`` is the keyboard-wedge scanner among them that
    keys typed into the scan fields are fed to.
    """

    settings: Settings
    store: Store
    sessions: SessionService
    picking: PickingService
    packing: PackingService
    labels: LabelService
    returns: ReturnsService
    counting: CountingService
    moves: MoveService
    receiving: ReceivingService
    documents: DocumentService
    catalogue: CatalogueService
    outbox: OutboxService
    demo: bool = False
    devices: Devices = field(default_factory=Devices)
    sync: DeviceSync | None = None
    device_health: Callable[[], dict[str, str]] = field(default=lambda: {})
    closers: list[Callable[[], None]] = field(default_factory=list)
    supervisor: SupervisorFeed | None = None
    wedge: KeyboardWedgeScanner | None = None
    activity: Activity = field(default_factory=Activity)
    clock: Callable[[], float] = time.time

    def sync_status(self) -> SyncStatus:
        """The sync agent's status (demo mode or sync off: stopped, so offline)."""
        if self.sync is None:
            return SyncStatus(LinkState.STOPPED)
        return self.sync.status()

    def close(self) -> None:
        """Stop devices and sync, close the store (in reverse order of building)."""
        for closer in reversed(self.closers):
            try:
                closer()
            except Exception:  # one that cannot stop must not keep the others running
                log.exception("stopping %r failed", closer)
        self.store.close()


def health_of(devices: Devices) -> dict[str, str]:
    """``{name: state}`` of ``devices`` as text (see :meth:`Devices.states`)."""
    return {name: state.value for name, state in devices.states().items()}


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
        except StoreError:  # a busy store: "unknown" in the row, not a broken feed
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
