"""The one place that wires concrete classes together: settings -> store, devices, sync, app.

Nothing is built at import time; :func:`build_context` builds, the app runs.

* Devices: ``device_drivers.factory.build_devices(settings.devices, demo=...)``, a
  :class:`~device_drivers.base.Devices`, started here and handed to the app as
  ``ctx.devices``. With no printer configured, demo mode prints into a spool folder (the
  spool printer of :mod:`device_drivers.printer`). A keyboard-wedge scanner among them
  becomes ``ctx.wedge``: the app feeds it every key typed into a scan field.
* Use cases: every service the screens call, the label service with the label renderer
  (:class:`device_drivers.label_renderer.ShippingLabelRenderer`).
* Sync: a :class:`sync.device.SyncAgent` when ``[sync] enabled`` (in demo mode only with
  ``demo_hub``). A device a supervisor may use (``[device] role`` supervisor, or no role
  locked) then also gets the MQTT supervisor feed (its own MQTT link, opened when the board
  first opens), so the board shows every device of the site, not this one alone.
* Labels: the sender and return address of ``[label]`` (demo mode without them: the demo
  site's); reason codes of supervisor decisions: ``[supervisor] reasons``.
* Demo mode: the demo site, plus a few orders already picked into totes T0901... so the
  packer has work (the hub would send these). With ``demo_hub`` (``floor-app --demo --hub``,
  as ``floor-demo`` runs it) the store gets only the demo site's reference data and sync
  stays on: the tasks and orders come from the demo site's hub.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from device_drivers.base import LabelPrinter
from device_drivers.config import PrinterConfig
from device_drivers.documents import PdfDocuments
from device_drivers.factory import build_devices, wedge_of
from device_drivers.label_renderer import ShippingLabelRenderer
from floor_app import __version__
from floor_app.context import AppContext, DevicePresenceSource, health_of
from floor_app.demo import DEMO_SENDER, build_demo_site
from floor_app.domain.order import Address
from floor_app.domain.users import Role
from floor_app.services.catalogue import CatalogueService
from floor_app.services.counting import CountingService
from floor_app.services.demo_staging import stage_demo_packing, stage_demo_returns
from floor_app.services.documents import DocumentService
from floor_app.services.labels import LabelService
from floor_app.services.outbox import OutboxService
from floor_app.services.packing import PackingService
from floor_app.services.picking import PickingService
from floor_app.services.receiving import ReceivingService
from floor_app.services.returns import ReturnsService
from floor_app.services.session import SessionService
from floor_app.services.stock_moves import MoveService
from floor_app.services.supervision import LocalSupervisorFeed
from floor_app.settings import Settings
from floor_app.store import Store
from floor_app.store.seed import load_demo

if TYPE_CHECKING:
    from sync.device import SyncAgent

log = logging.getLogger("floor.bootstrap")


def demo_data_dir() -> Path:
    """Where demo mode keeps its store unless the config says otherwise."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "floor" / "demo"


def with_demo_store(settings: Settings, *, demo: bool) -> Settings:
    """``settings`` with the demo's data folder when in demo mode and none is configured."""
    if demo and "data_dir" not in settings.store.model_fields_set and settings.store.path is None:
        return settings.model_copy(
            update={"store": settings.store.model_copy(update={"data_dir": demo_data_dir()})}
        )
    return settings


def label_addresses(settings: Settings, *, demo: bool) -> tuple[Address | None, Address | None]:
    """The sender and return address labels print (``[label]``; in demo mode without a
    sender, the demo site's)."""
    label = settings.label
    sender = label.sender.to_address() if label.sender else (DEMO_SENDER if demo else None)
    return sender, label.return_to.to_address() if label.return_to else None


def build_context(
    settings: Settings,
    *,
    demo: bool = False,
    reset: bool = False,
    role: Role | None = None,
    demo_hub: bool = False,
) -> AppContext:
    """Open the store (seeding demo data in demo mode), build the use cases, devices, sync.

    ``role`` (default ``[device] role``): a supervisor device with sync enabled follows the
    whole site over MQTT (:class:`sync.device.supervisor_feed.MqttSupervisorFeed`).
    """
    settings = with_demo_store(settings, demo=demo)
    path = settings.db_path
    if demo:
        path.parent.mkdir(parents=True, exist_ok=True)
        if reset:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = Store.open(
        path,
        device_id=settings.device.id,
        site=settings.device.site,
        busy_timeout_ms=settings.store.busy_timeout_ms,
    )
    if demo and demo_hub:
        load_demo(store, build_demo_site, tasks=0)  # the work comes from the hub
    elif demo:
        load_demo(store, build_demo_site)
        stage_demo_packing(store)
        stage_demo_returns(store)
    devices = build_devices(settings.devices, demo=demo)
    if devices.printer is None and demo:
        devices.printer = _spool_printer(path.parent / "spool" / "printer")
    reasons = settings.supervisor.reason_codes()
    sender, return_to = label_addresses(settings, demo=demo)
    ctx = AppContext(
        settings=settings,
        store=store,
        sessions=SessionService(store),
        picking=PickingService(
            store,
            put_confirmation=settings.picking.put_confirmation,
            staging=settings.picking.staging,
            lot_rule=settings.picking.lot_rule,
        ),
        packing=PackingService(store, settings.device.station or "PACK-01", reasons=reasons),
        labels=LabelService(
            store,
            devices.printer,
            path.parent / "spool" / "labels",
            ShippingLabelRenderer(),
            sender=sender,
            return_to=return_to,
        ),
        returns=ReturnsService(store, settings.device.quarantine),
        counting=CountingService(store),
        moves=MoveService(store),
        receiving=ReceivingService(store, settings.device.dock, settings.device.quarantine),
        documents=DocumentService(
            store,
            PdfDocuments(path.parent / "spool" / "documents", settings.label.document_printer),
            sender,
        ),
        catalogue=CatalogueService(store),
        outbox=OutboxService(store),
        demo=demo,
        devices=devices,
        wedge=wedge_of(devices),
    )
    _start_devices(ctx)
    ctx.supervisor = LocalSupervisorFeed(
        store, DevicePresenceSource(ctx), clock=ctx.clock, reasons=reasons
    )
    if settings.sync.enabled and (demo_hub or not demo):
        agent = _wire_sync(ctx)
        if may_supervise(role or settings.device.role):
            _wire_supervisor_feed(ctx, agent)
        agent.start()  # after the feed joined its connection: one per device
    return ctx


def may_supervise(role: Role | None) -> bool:
    """True when a supervisor may work on a device locked to ``role`` (None: any role)."""
    return role is None or role is Role.SUPERVISOR


def _start_devices(ctx: AppContext) -> None:
    """Start every device (each one is stopped when the context closes)."""
    for device in ctx.devices.all():
        try:
            device.start()
        except Exception as exc:  # a driver that cannot start is a state, not a crash
            log.warning("cannot start %s: %s", device.name, exc)
        ctx.closers.append(device.stop)
    ctx.device_health = lambda: health_of(ctx.devices)


def _spool_printer(folder: Path) -> LabelPrinter:
    """The printer of demo mode without one configured: each label a file in ``folder``."""
    from device_drivers.printer import build_printer

    config = PrinterConfig(name="spool", transport="spool", spool_dir=folder, required=False)
    return build_printer(config.name, config)


def _wire_supervisor_feed(ctx: AppContext, agent: SyncAgent) -> None:
    """The site's devices and orders over MQTT, read on the device's one connection (the
    broker binds a client id to its identity); decisions still go through the outbox."""
    from sync.device import link_options
    from sync.device.supervisor_feed import FeedSettings, MqttSupervisorFeed

    feed = MqttSupervisorFeed(
        ctx.store,
        DevicePresenceSource(ctx),
        FeedSettings(link=link_options(ctx.settings.sync), site=ctx.settings.device.site),
        clock=ctx.clock,
        reasons=ctx.settings.supervisor.reason_codes(),
        shared=agent,
    )
    ctx.supervisor = feed  # it connects when the board first follows it
    ctx.closers.append(feed.stop)
    ctx.closers.append(feed.stop)


def _wire_sync(ctx: AppContext) -> SyncAgent:
    """The device's sync agent (started by the caller, once every reader joined it)."""
    from sync.device import AgentOptions, SyncAgent, link_options

    agent = SyncAgent(
        ctx.store,
        AgentOptions(
            link=link_options(ctx.settings.sync),
            site=ctx.settings.device.site,
            app_version=__version__,
            heartbeat_s=ctx.settings.sync.heartbeat_s,
            retention_s=ctx.settings.sync.retention_days * 86400.0,
            retention_max_events=ctx.settings.sync.retention_max_events,
        ),
        device_health=ctx.device_health,
    )
    ctx.sync = agent
    ctx.closers.append(agent.stop)
    return agent
