"""Fixtures for driving the app with Textual's Pilot on a real store seeded with demo data.

The demo store is seeded once per test session and copied for each test (seeding takes
about half a second; a copy a few milliseconds).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from device_drivers.base import CameraState, PrinterState, ScaleState, ScannerState
from floor_app.bootstrap import build_context
from floor_app.context import AppContext
from floor_app.settings import Settings, load_settings

FIXED_NOW = 1_795_000_000.0  # 2026-11-18, a fixed clock for deterministic screens


def tui_settings(data_dir: Path, **ui: object) -> Settings:
    return load_settings(
        None,
        store={"data_dir": str(data_dir)},
        sync={"enabled": False},
        ui={"idle_lock_s": 0, **ui},
    )


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("seed")
    ctx = build_context(tui_settings(folder), demo=True)
    path = ctx.settings.db_path
    ctx.close()
    return path


CONNECTING = {
    ScannerState.CONNECTING,
    CameraState.CONNECTING,
    PrinterState.CONNECTING,
    ScaleState.CONNECTING,
}


def devices_settled(ctx: AppContext, timeout: float = 30.0) -> AppContext:
    """``ctx`` once no device is still connecting (the demo's spool printer checks its
    folder on a thread of its own), so every screen shows each device's settled state."""
    deadline = time.monotonic() + timeout
    while any(state in CONNECTING for state in ctx.devices.states().values()):
        assert time.monotonic() < deadline, f"devices still connecting: {ctx.devices.states()}"
        time.sleep(0.005)
    return ctx


def context_from_seed(seed: Path, tmp_path: Path, **ui: object) -> AppContext:
    settings = tui_settings(tmp_path, **ui)
    shutil.copy(seed, settings.db_path)
    return devices_settled(build_context(settings, demo=True))


@pytest.fixture
def demo_ctx(seeded_store: Path, tmp_path: Path) -> Iterator[AppContext]:
    ctx = context_from_seed(seeded_store, tmp_path)
    yield ctx
    ctx.close()
