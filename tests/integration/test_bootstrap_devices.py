"""Bootstrap builds the station's devices with the factory, starts them, hands them to the
app as Devices, and stops them when the context closes."""

from __future__ import annotations

from pathlib import Path

import pytest

from device_drivers.base import LabelPrinter, ScannerState
from device_drivers.fakes import FakeScale, FakeScanner
from device_drivers.wedge import KeyboardWedgeScanner
from floor_app.bootstrap import build_context
from floor_app.settings import load_settings

pytestmark = pytest.mark.integration


def test_demo_devices_are_built_started_and_stopped(tmp_path: Path) -> None:
    settings = load_settings(None, store={"data_dir": str(tmp_path)}, sync={"enabled": False})
    ctx = build_context(settings, demo=True)
    try:
        (scanner,) = ctx.devices.scanners
        assert isinstance(scanner, FakeScanner) and scanner.state is ScannerState.READY
        assert isinstance(ctx.devices.scale, FakeScale)
        assert isinstance(ctx.devices.printer, LabelPrinter)
        assert ctx.devices.printer.name == "spool"
        assert ctx.labels.printer is ctx.devices.printer
        assert ctx.wedge is None
        assert set(ctx.device_health()) == {"scanner", "printer", "scale"}
    finally:
        ctx.close()
    assert {state.value for state in ctx.devices.states().values()} == {"stopped"}


def test_the_terminal_is_the_wedge_when_no_scanner_is_configured(tmp_path: Path) -> None:
    settings = load_settings(None, store={"data_dir": str(tmp_path)}, sync={"enabled": False})
    ctx = build_context(settings)
    try:
        (wedge,) = ctx.devices.scanners
        assert isinstance(wedge, KeyboardWedgeScanner) and ctx.wedge is wedge
        assert ctx.devices.printer is None and ctx.labels.printer is None
    finally:
        ctx.close()
