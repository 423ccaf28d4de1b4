"""The one place that chooses driver implementations from configuration.

``build_devices(settings.devices)`` returns a :class:`~device_drivers.base.Devices` with
every configured device built but not started (bootstrap starts them and hands them to the
app). The camera and the printer come from :mod:`device_drivers.camera` and
:mod:`device_drivers.printer`, imported only when configured; if such a module cannot be
imported, the device is still listed, as an :class:`UnavailableCamera` or
:class:`UnavailablePrinter` in state ``error`` naming the import error, so diagnostics show
it and nothing crashes.

With ``demo=True`` nothing touches hardware: each configured scanner becomes a
:class:`~device_drivers.fakes.FakeScanner` (one named ``scanner`` when none is configured),
the camera and printer become fakes when configured, and the station always has a
:class:`~device_drivers.demo_scale.DemoScale`, which weighs the parcel the pack station puts
on it. A configured keyboard wedge is
the terminal itself, so it stays real in demo mode too.

With no scanner configured at all, the devices include a
:class:`~device_drivers.wedge.KeyboardWedgeScanner` (not required): scans typed into the
terminal are then told from a person typing.
"""

from __future__ import annotations

import importlib

from device_drivers.base import (
    Camera,
    CameraState,
    Devices,
    LabelPrinter,
    PrinterState,
    PrinterStatus,
    PrintJob,
    PrintResult,
    Scale,
    Scanner,
)
from device_drivers.config import (
    CameraConfig,
    DevicesSettings,
    HidScannerConfig,
    PrinterConfig,
    ScaleConfig,
    ScannerConfig,
    SerialScannerConfig,
    WedgeScannerConfig,
)
from device_drivers.demo_scale import DemoScale
from device_drivers.fakes import FakeCamera, FakePrinter, FakeScanner
from device_drivers.scan_rules import ScanRules
from device_drivers.wedge import KeyboardWedgeScanner


def wedge_of(devices: Devices) -> KeyboardWedgeScanner | None:
    """The keyboard-wedge scanner among ``devices`` (the terminal), the one the UI feeds
    keys to; None when there is none."""
    return next((s for s in devices.scanners if isinstance(s, KeyboardWedgeScanner)), None)


class UnavailableCamera(Camera):
    """Stands in for a configured camera whose driver cannot be loaded: state ``error``."""

    def __init__(self, name: str, reason: str, *, required: bool = True) -> None:
        super().__init__(name, required=required)
        self.reason = reason

    def start(self) -> None:
        """Report why there is no camera."""
        self._set_state(CameraState.ERROR, self.reason)

    def stop(self) -> None:
        """Nothing to stop."""
        self._set_state(CameraState.STOPPED)


class UnavailablePrinter(LabelPrinter):
    """Stands in for a configured printer whose driver cannot be loaded: state ``error``;
    every job fails with the reason (and can be retried once the driver is there)."""

    def __init__(self, name: str, reason: str, *, required: bool = True) -> None:
        super().__init__(name, required=required)
        self.reason = reason

    def start(self) -> None:
        """Report why there is no printer."""
        self._set_state(PrinterState.ERROR, self.reason)

    def stop(self) -> None:
        """Nothing to stop."""
        self._set_state(PrinterState.STOPPED)

    def query_status(self) -> PrinterStatus:
        """No printer, no status."""
        self._set_state(PrinterState.ERROR, self.reason)
        return PrinterStatus(raw="")

    def print_job(self, job: PrintJob) -> PrintResult:
        """Not printed: the reason is the error."""
        return PrintResult(job.job_id, printed=False, error=self.reason)


def rules_for(config: SerialScannerConfig | HidScannerConfig | WedgeScannerConfig) -> ScanRules:
    """The checks a scanner of ``config`` applies to every code."""
    return ScanRules(
        min_length=config.min_length,
        max_length=config.max_length,
        symbologies=frozenset(config.symbologies),
        encoding=getattr(config, "encoding", "utf-8"),
    )


def build_scanner(config: ScannerConfig) -> Scanner:
    """The real driver for one ``[[devices.scanners]]`` entry."""
    if isinstance(config, SerialScannerConfig):
        from device_drivers.serial_scanner import SerialScanner

        return SerialScanner(config)
    if isinstance(config, HidScannerConfig):
        from device_drivers.hid_scanner import HidScanner

        return HidScanner(config)
    return KeyboardWedgeScanner(config)


def build_camera(config: CameraConfig) -> Camera:
    """``device_drivers.camera.OpenCvCamera``, or an :class:`UnavailableCamera` saying why."""
    try:
        module = importlib.import_module("device_drivers.camera")
        camera_class = module.OpenCvCamera
    except (ImportError, AttributeError) as exc:
        return UnavailableCamera(
            config.name, f"camera driver unavailable: {exc}", required=config.required
        )
    camera: Camera = camera_class(config.name, config)
    return camera


def build_printer(config: PrinterConfig) -> LabelPrinter:
    """``device_drivers.printer.build_printer``, or an :class:`UnavailablePrinter` saying why."""
    try:
        module = importlib.import_module("device_drivers.printer")
        builder = module.build_printer
    except (ImportError, AttributeError) as exc:
        return UnavailablePrinter(
            config.name, f"printer driver unavailable: {exc}", required=config.required
        )
    printer: LabelPrinter = builder(config.name, config)
    return printer


def build_scale(config: ScaleConfig) -> Scale:
    """The serial scale driver."""
    from device_drivers.scale import SerialScale

    return SerialScale(config)


def build_devices(settings: DevicesSettings, *, demo: bool = False) -> Devices:
    """Build (not start) the devices ``settings`` names; see the module docstring."""
    if demo:
        return _build_demo(settings)
    devices = Devices(scanners=[build_scanner(c) for c in settings.scanners])
    if not devices.scanners:
        devices.scanners.append(KeyboardWedgeScanner(WedgeScannerConfig()))
    if settings.camera is not None:
        devices.camera = build_camera(settings.camera)
    if settings.printer is not None:
        devices.printer = build_printer(settings.printer)
    if settings.scale is not None:
        devices.scale = build_scale(settings.scale)
    return devices


def _build_demo(settings: DevicesSettings) -> Devices:
    devices = Devices()
    for config in settings.scanners:
        if isinstance(config, WedgeScannerConfig):
            devices.scanners.append(KeyboardWedgeScanner(config))
        else:
            devices.scanners.append(
                FakeScanner(config.name, required=config.required, rules=rules_for(config))
            )
    if not any(isinstance(s, FakeScanner) for s in devices.scanners):
        devices.scanners.insert(0, FakeScanner("scanner"))
    if settings.camera is not None:
        devices.camera = FakeCamera(
            settings.camera.name,
            required=settings.camera.required,
            dedupe_window_s=settings.camera.dedupe_window_s,
        )
    if settings.printer is not None:
        devices.printer = FakePrinter(settings.printer.name, required=settings.printer.required)
    scale = settings.scale
    devices.scale = DemoScale(scale.name if scale is not None else "scale")
    return devices
