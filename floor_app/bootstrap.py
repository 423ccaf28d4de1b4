"""The one place that wires concrete classes together: settings -> store, devices, sync, app.

Nothing is built at import time; :func:`build_context` builds, the app runs.

* Devices: ``device_drivers.factory.build_devices(settings.devices, demo=...)`` when that
  module exists; its result (an object with ``scanners``/``cameras``/``printer``/``scale``
  attributes, a mapping, or a list of drivers) is sorted into the context. With no
  printer configured, demo mode prints into a spool folder. A keyboard-wedge scanner among
  them becomes ``ctx.wedge``: the app feeds it every key typed into a scan field.
* Sync: a :class:`sync.device.SyncAgent` when ``[sync] enabled`` and not in demo mode; a
  supervisor device then also gets the MQTT supervisor feed (its own paho client).
* Demo mode: the demo site, plus a few orders already picked into totes T0901... so the
  packer has work (the hub would send these).
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from device_drivers.base import Device, LabelPrinter, Scale, ScanSource
from floor_app import __version__
from floor_app.context import AppContext, DevicePresenceSource, health_of
from floor_app.demo import build_demo_site
from floor_app.domain.users import Role
from floor_app.services.demo_staging import stage_demo_packing, stage_demo_returns
from floor_app.services.labels import LabelService, SpoolFolderPrinter
from floor_app.services.packing import PackingService
from floor_app.services.picking import PickingService
from floor_app.services.returns import ReturnsService
from floor_app.services.session import SessionService
from floor_app.services.supervision import LocalSupervisorFeed
from floor_app.settings import Settings
from floor_app.store import Store
from floor_app.store.seed import load_demo

log = logging.getLogger("floor.bootstrap")


def demo_data_dir() -> Path:
    """Where demo mode keeps its store unless the config says otherwise."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "floor" / "demo"


def build_context(
    settings: Settings, *, demo: bool = False, reset: bool = False, role: Role | None = None
) -> AppContext:
    """Open the store (seeding demo data in demo mode), build the use cases, devices, sync.

    ``role`` (default ``[device] role``): a supervisor device with sync enabled follows the
    whole site over MQTT (:class:`sync.supervisor_feed.MqttSupervisorFeed`).
    """
    if demo and "data_dir" not in settings.store.model_fields_set and settings.store.path is None:
        data_dir = demo_data_dir()
        settings = settings.model_copy(
            update={"store": settings.store.model_copy(update={"data_dir": data_dir})}
        )
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
    if demo:
        load_demo(store, build_demo_site)
        stage_demo_packing(store)
        stage_demo_returns(store)
    ctx = AppContext(
        settings=settings,
        store=store,
        sessions=SessionService(store),
        picking=PickingService(store),
        demo=demo,
    )
    ctx.packing = PackingService(store, settings.device.station or "PACK-01")
    ctx.returns = ReturnsService(store, settings.device.quarantine)
    _wire_devices(ctx, demo=demo)
    ctx.labels = LabelService(store, ctx.printer, path.parent / "spool" / "labels")
    ctx.supervisor = LocalSupervisorFeed(store, DevicePresenceSource(ctx), clock=ctx.clock)
    if settings.sync.enabled and not demo:
        _wire_sync(ctx)
        if (role or settings.device.role) is Role.SUPERVISOR:
            _wire_supervisor_feed(ctx)
    return ctx


def _sort_devices(ctx: AppContext, built: Any) -> None:
    items: Iterable[Any]
    if isinstance(built, Mapping):
        items = built.values()
    elif isinstance(built, Iterable):
        items = built
    else:
        items = [
            *(getattr(built, "scanners", None) or []),
            *(getattr(built, "cameras", None) or []),
            *[getattr(built, name, None) for name in ("scanner", "camera", "printer", "scale")],
        ]
    for item in items:
        if isinstance(item, ScanSource) and item not in ctx.scanners:
            ctx.scanners.append(item)
        elif isinstance(item, LabelPrinter) and ctx.printer is None:
            ctx.printer = item
        elif isinstance(item, Scale) and ctx.scale is None:
            ctx.scale = item


def _wire_devices(ctx: AppContext, *, demo: bool) -> None:
    try:
        factory = importlib.import_module("device_drivers.factory")
    except ImportError:
        factory = None
    if factory is not None and hasattr(factory, "build_devices"):
        built = factory.build_devices(ctx.settings.devices, demo=demo)
        ctx.devices = built
        _sort_devices(ctx, built)
    if ctx.printer is None and demo:
        ctx.printer = SpoolFolderPrinter(ctx.settings.db_path.parent / "spool" / "printer")
    devices: list[Device[Any]] = ctx.all_devices()
    for device in devices:
        try:
            device.start()
        except Exception as exc:  # a driver that cannot start is a state, not a crash
            log.warning("cannot start %s: %s", device.name, exc)
        ctx.closers.append(device.stop)
    ctx.device_health = lambda: health_of(ctx.all_devices())
    ctx.wedge = _wedge_of(ctx.scanners)


def _wedge_of(scanners: Iterable[Any]) -> Any:
    """The first keyboard-wedge scanner among ``scanners`` (keys typed into the terminal)."""
    from device_drivers.wedge import KeyboardWedgeScanner

    return next((s for s in scanners if isinstance(s, KeyboardWedgeScanner)), None)


def _broker(ctx: AppContext) -> Any:
    from sync.device import parse_broker_url

    s = ctx.settings.sync
    broker = parse_broker_url(s.broker)
    if s.username:
        broker = type(broker)(
            broker.host, broker.port, broker.tls, s.username, s.password.get_secret_value()
        )
    return broker


def _wire_supervisor_feed(ctx: AppContext) -> None:
    """The site's devices and orders over MQTT; decisions still go through the outbox."""
    from sync.supervisor_feed import FeedSettings, MqttSupervisorFeed

    s = ctx.settings.sync
    feed = MqttSupervisorFeed(
        ctx.store,
        DevicePresenceSource(ctx),
        FeedSettings(
            broker=_broker(ctx),
            site=ctx.settings.device.site,
            ca_file=str(s.ca_file) if s.ca_file else None,
            cert_file=str(s.cert_file) if s.cert_file else None,
            key_file=str(s.key_file) if s.key_file else None,
        ),
        clock=ctx.clock,
    )
    feed.start()
    ctx.supervisor = feed
    ctx.closers.append(feed.stop)


def _wire_sync(ctx: AppContext) -> None:
    from sync.device import SyncAgent, SyncSettings

    s = ctx.settings.sync
    broker = _broker(ctx)
    agent = SyncAgent(
        ctx.store,
        SyncSettings(
            broker=broker,
            site=ctx.settings.device.site,
            app_version=__version__,
            heartbeat_s=s.heartbeat_s,
            ca_file=s.ca_file,
            cert_file=s.cert_file,
            key_file=s.key_file,
        ),
        device_health=ctx.device_health,
    )
    agent.start()
    ctx.sync = agent
    ctx.closers.append(agent.stop)
