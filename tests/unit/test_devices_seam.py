"""What bootstrap hands the app about devices: Devices, their states by name, and how the
screens read those states."""

from __future__ import annotations

import pytest

from device_drivers.base import (
    CameraState,
    DeviceKind,
    Devices,
    PrinterState,
    ScaleState,
    ScannerState,
)
from device_drivers.fakes import FakeCamera, FakePrinter, FakeScale, FakeScanner
from floor_app.ui.devices import LOST, READY, RETURNS_FROM, health_mark, state_named

pytestmark = pytest.mark.unit


def test_devices_in_order_with_their_states_by_kind() -> None:
    hand, ring = FakeScanner("hand"), FakeScanner("ring")
    camera, printer, scale = FakeCamera("cam"), FakePrinter("zebra"), FakeScale("bench")
    devices = Devices(scanners=[hand, ring], camera=camera, printer=printer, scale=scale)
    assert devices.scan_sources() == [hand, ring, camera]
    assert devices.all() == [hand, ring, camera, printer, scale]
    devices.start()
    ring.unplug()
    printer.paper_out()
    assert devices.states() == {
        "scanner": ScannerState.READY,
        "scanner2": ScannerState.DISCONNECTED,
        "camera": CameraState.READY,
        "printer": PrinterState.PAPER_OUT,
        "scale": ScaleState.READY,
    }
    assert [d.kind for d in devices.all()] == [
        DeviceKind.SCANNER,
        DeviceKind.SCANNER,
        DeviceKind.CAMERA,
        DeviceKind.PRINTER,
        DeviceKind.SCALE,
    ]
    devices.stop()
    assert all(state.value == "stopped" for state in devices.states().values())


def test_an_empty_station_has_no_devices() -> None:
    assert Devices().all() == [] and Devices().states() == {}


@pytest.mark.parametrize(
    ("state", "mark"),
    [
        (ScannerState.READY, "✓"),
        (PrinterState.PRINTING, "✓"),
        (ScaleState.CONNECTING, "…"),
        (CameraState.DISCONNECTED, "✗"),
        (PrinterState.ERROR, "✗"),
        (PrinterState.PAPER_OUT, "!"),
        (ScannerState.STOPPED, "!"),
        (None, "!"),
    ],
)
def test_health_marks(state: ScannerState | PrinterState | None, mark: str) -> None:
    assert health_mark(state, other="!") == mark


def test_lost_and_back() -> None:
    assert {PrinterState.PAPER_OUT, PrinterState.HEAD_OPEN, ScaleState.ERROR} <= LOST
    assert PrinterState.PAUSED not in LOST and PrinterState.PRINTING not in LOST
    assert ScannerState.READY in READY and PrinterState.PRINTING not in READY
    assert ScannerState.CONNECTING in RETURNS_FROM and PrinterState.PAPER_OUT not in RETURNS_FROM


def test_states_reported_by_other_devices_are_read_back() -> None:
    assert state_named("paper_out") is PrinterState.PAPER_OUT
    assert state_named("ready") == ScannerState.READY
    assert state_named("offline") is None


def test_a_failing_listener_is_logged_and_the_others_still_hear(
    caplog: pytest.LogCaptureFixture,
) -> None:
    scanner = FakeScanner("hand")
    heard: list[str] = []

    def broken(_: object) -> None:
        raise RuntimeError("listener bug")

    scanner.on_scan(broken)
    scanner.on_scan(lambda scan: heard.append(scan.text))
    scanner.on_state_change(broken)
    scanner.on_state_change(lambda change: heard.append(change.new.value))
    with caplog.at_level("ERROR", logger="floor.devices"):
        scanner.start()
        scanner.scan("T0901")
    assert heard == ["ready", "T0901"]
    assert [r.getMessage() for r in caplog.records] == [
        "hand: a state listener failed",
        "hand: a scan listener failed",
    ]
