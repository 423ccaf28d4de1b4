"""The HID scanner against a virtual keyboard made with uinput: typed codes become scans
and the device is grabbed (no other reader gets the keys). Needs /dev/uinput."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from drivers_pty import wait_for

from device_drivers.base import Scan, ScannerState
from device_drivers.config import HidScannerConfig
from device_drivers.hid_scanner import HidScanner
from device_drivers.keymaps import Layout, type_text

pytestmark = pytest.mark.integration

if not os.path.exists("/dev/uinput"):
    pytest.skip("no /dev/uinput on this machine (uinput kernel module)", allow_module_level=True)
if not os.access("/dev/uinput", os.W_OK):
    pytest.skip("/dev/uinput is not writable by this user", allow_module_level=True)
evdev = pytest.importorskip("evdev", reason="the evdev package is not installed")


@pytest.fixture
def keyboard() -> Iterator[Any]:
    ui = evdev.UInput({evdev.ecodes.EV_KEY: list(range(1, 120))}, name="floor-test-scanner")
    time.sleep(0.2)  # udev creates the event node
    yield ui
    ui.close()


def type_into(ui: Any, text: str, layout: Layout) -> None:
    for code, value in type_text(text, layout):
        ui.write(evdev.ecodes.EV_KEY, code, value)
        ui.syn()


@pytest.mark.parametrize("layout", ["us", "de"])
def test_typed_code_becomes_a_scan_and_is_grabbed(keyboard: Any, layout: Layout) -> None:
    scanner = HidScanner(HidScannerConfig(device=keyboard.device.path, layout=layout))
    scans: list[Scan] = []
    scanner.on_scan(scans.append)
    scanner.start()
    try:
        assert wait_for(lambda: scanner.state is ScannerState.READY), scanner.last_error
        assert scanner.grabbed
        other = evdev.InputDevice(keyboard.device.path)
        with pytest.raises(OSError):
            other.grab()  # held exclusively by the scanner
        other.close()
        type_into(keyboard, "]C1SO-100234\x1d21Z\r", layout)
        assert wait_for(lambda: len(scans) == 1)
        assert scans[0].text == "SO-100234\x1d21Z" and scans[0].aim == "]C1"
    finally:
        scanner.stop()


def test_device_found_by_name_and_unplug(keyboard: Any) -> None:
    scanner = HidScanner(HidScannerConfig(device="name:floor-test-scanner", reconnect_min_s=0.05))
    scanner.start()
    try:
        assert wait_for(lambda: scanner.state is ScannerState.READY), scanner.last_error
        keyboard.close()
        assert wait_for(lambda: scanner.state is ScannerState.DISCONNECTED)
    finally:
        scanner.stop()
