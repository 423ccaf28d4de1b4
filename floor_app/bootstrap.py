"""The one place that wires concrete classes together: settings -> store, devices, sync, app.

Nothing is built at import time; :func:`build_context` builds, :func:`run_app` runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from floor_app.context import AppContext
from floor_app.demo import build_demo_site
from floor_app.services.picking import PickingService
from floor_app.services.session import SessionService
from floor_app.settings import Settings
from floor_app.store import Store
from floor_app.store.seed import load_demo


def demo_data_dir() -> Path:
    """Where demo mode keeps its store unless the config says otherwise."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "floor" / "demo"


def build_context(settings: Settings, *, demo: bool = False, reset: bool = False) -> AppContext:
    """Open the store (seeding demo data in demo mode) and build the use cases."""
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
    return AppContext(
        settings=settings,
        store=store,
        sessions=SessionService(store),
        picking=PickingService(store),
        demo=demo,
    )
