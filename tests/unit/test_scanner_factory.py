"""build_devices: one place choosing drivers by configuration; demo builds fakes only."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from device_drivers.base import Camera, CameraState, Devices, LabelPrinter, PrinterState, PrintJob
from device_drivers.config import CameraConfig, DevicesSettings, PrinterConfig
from device_drivers.demo_scale import DemoScale, Parcel
from device_drivers.factory import (
    UnavailableCamera,
    UnavailablePrinter,
    build_devices,
    wedge_of,
)
from device_drivers.fakes import FakeCamera, FakePrinter, FakeScale, FakeScanner
from device_drivers.hid_scanner import HidScanner
from device_drivers.scale import SerialScale
from device_drivers.serial_scanner import SerialScanner
from device_drivers.wedge import KeyboardWedgeScanner

pytestmark = pytest.mark.unit

CONFIGURED = {
    "scanners": [
        {"kind": "serial", "name": "hand", "port": "/dev/ttyUSB0"},
        {"kind": "hid", "name": "ring", "device": "/dev/input/event3", "required": False},
        {"kind": "wedge", "name": "keys"},
    ],
    "camera": {"source": 0},
    "printer": {"transport": "tcp", "host": "127.0.0.1"},
    "scale": {"port": "/dev/ttyUSB1"},
}


def test_each_kind_gets_its_driver_and_keeps_name_and_required() -> None:
    devices = build_devices(DevicesSettings.model_validate({**CONFIGURED, "camera": None}))
    serial, hid, wedge = devices.scanners
    assert isinstance(serial, SerialScanner) and serial.name == "hand" and serial.required
    assert isinstance(hid, HidScanner) and not hid.required
    assert isinstance(wedge, KeyboardWedgeScanner) and wedge_of(devices) is wedge
    assert isinstance(devices.scale, SerialScale)
    assert [d.name for d in devices.all()] == ["hand", "ring", "keys", "printer", "scale"]


def test_nothing_configured_means_the_terminal_wedge() -> None:
    devices = build_devices(DevicesSettings())
    assert [type(d) for d in devices.all()] == [KeyboardWedgeScanner]
    assert not devices.scanners[0].required


def _stub_modules(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    calls: dict[str, list[Any]] = {"camera": [], "printer": []}

    class StubCamera(FakeCamera):
        def __init__(self, name: str, config: CameraConfig) -> None:
            super().__init__(name, required=config.required)
            calls["camera"].append((name, config))

    def stub_build_printer(name: str, config: PrinterConfig) -> LabelPrinter:
        calls["printer"].append((name, config))
        return FakePrinter(name, required=config.required)

    camera_module = types.ModuleType("device_drivers.camera")
    camera_module.OpenCvCamera = StubCamera  # type: ignore[attr-defined]
    printer_module = types.ModuleType("device_drivers.printer")
    printer_module.build_printer = stub_build_printer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "device_drivers.camera", camera_module)
    monkeypatch.setitem(sys.modules, "device_drivers.printer", printer_module)
    return calls


def test_camera_and_printer_come_from_their_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _stub_modules(monkeypatch)
    settings = DevicesSettings.model_validate(CONFIGURED)
    devices = build_devices(settings)
    assert isinstance(devices.camera, Camera) and isinstance(devices.printer, LabelPrinter)
    assert calls["camera"] == [("camera", settings.camera)]
    assert calls["printer"] == [("printer", settings.printer)]


def test_a_driver_that_cannot_load_is_a_state_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "device_drivers.camera", None)  # import fails
    monkeypatch.setitem(sys.modules, "device_drivers.printer", types.ModuleType("empty"))
    devices = build_devices(DevicesSettings.model_validate(CONFIGURED))
    assert isinstance(devices.camera, UnavailableCamera)
    assert isinstance(devices.printer, UnavailablePrinter)
    devices.camera.start()
    devices.printer.start()
    assert devices.camera.state is CameraState.ERROR
    assert "camera driver unavailable" in devices.camera.last_error
    assert devices.printer.state is PrinterState.ERROR
    result = devices.printer.print_job(PrintJob("job-1", b"^XA^XZ"))
    assert not result.printed and "printer driver unavailable" in result.error
    assert devices.printer.query_status().raw == ""
    devices.stop()
    assert devices.camera.state is CameraState.STOPPED


def test_demo_builds_fakes_and_a_scale() -> None:
    devices = build_devices(DevicesSettings.model_validate(CONFIGURED), demo=True)
    hand, ring, keys = devices.scanners
    assert isinstance(hand, FakeScanner) and hand.name == "hand"
    assert isinstance(ring, FakeScanner)
    assert isinstance(keys, KeyboardWedgeScanner)
    assert isinstance(devices.camera, FakeCamera)
    assert isinstance(devices.printer, FakePrinter)
    assert isinstance(devices.scale, FakeScale)


def test_demo_with_nothing_configured_has_a_scanner_to_inject_into_and_a_scale() -> None:
    devices = build_devices(DevicesSettings(), demo=True)
    devices.start()
    (scanner,) = devices.scanners
    assert isinstance(scanner, FakeScanner)
    got: list[str] = []
    scanner.on_scan(lambda s: got.append(s.text))
    scanner.scan("T0901")
    assert got == ["T0901"]
    assert isinstance(devices.scale, DemoScale)  # it weighs the parcel put on it
    devices.scale.put(Parcel((250, 120), 180))
    assert abs(devices.scale.read(timeout=1).grams - 550) <= 5
    assert devices.printer is None  # bootstrap spools labels into a folder
    devices.stop()


def test_stop_carries_on_past_a_failing_device() -> None:
    class Broken(FakeScanner):
        def stop(self) -> None:
            raise RuntimeError("stuck")

    good = FakeScanner("good")
    good.start()
    Devices(scanners=[good, Broken("bad")]).stop()
    assert good.state.value == "stopped"
