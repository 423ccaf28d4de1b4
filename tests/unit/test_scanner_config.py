"""[devices] settings: kinds, defaults, and clear errors for typos and missing targets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from device_drivers.config import (
    CameraConfig,
    DevicesSettings,
    HidScannerConfig,
    PrinterConfig,
    ScaleConfig,
    SerialScannerConfig,
    WedgeScannerConfig,
)
from floor_app.settings import ConfigError, load_settings

pytestmark = pytest.mark.unit

STATION = """
[[devices.scanners]]
kind = "serial"
name = "hand"
port = "/dev/serial/by-id/usb-Honeywell-if00"
baudrate = 115200
suffix = "CRLF"
symbologies = ["gs1-128", "ean13"]

[[devices.scanners]]
kind = "hid"
name = "ring"
device = "/dev/input/by-id/usb-scanner-event-kbd"
layout = "de"

[[devices.scanners]]
kind = "wedge"

[devices.camera]
source = "rtsp://10.0.0.9/stream"
roi = [100, 50, 640, 360]
decoder = "zxingcpp"

[devices.printer]
transport = "tcp"
host = "10.0.0.31"

[devices.scale]
protocol = "continuous"
port = "socket://127.0.0.1:4001"
stable_tolerance = "0.005"
required = false
"""


def test_a_station_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text(STATION)
    devices = load_settings(path).devices
    serial, hid, wedge = devices.scanners
    assert isinstance(serial, SerialScannerConfig) and serial.suffix == "CRLF"
    assert isinstance(hid, HidScannerConfig) and hid.layout == "de" and hid.grab
    assert isinstance(wedge, WedgeScannerConfig) and not wedge.required
    assert devices.camera is not None and devices.camera.roi == (100, 50, 640, 360)
    assert devices.printer is not None and devices.printer.port == 9100
    assert devices.printer.dpi == 203
    assert devices.scale is not None and not devices.scale.required


def test_no_devices_is_valid() -> None:
    devices = DevicesSettings()
    assert devices.scanners == [] and devices.camera is None


def test_typo_in_a_scanner_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[devices.scanners]]\nkind = "serial"\nport = "/dev/ttyS0"\nsufix = "CR"\n')
    with pytest.raises(ConfigError, match="sufix"):
        load_settings(path)


def test_unknown_scanner_kind_is_refused() -> None:
    with pytest.raises(ValidationError, match="kind"):
        DevicesSettings.model_validate({"scanners": [{"kind": "telepathy"}]})


@pytest.mark.parametrize(
    ("transport", "missing"),
    [("tcp", "host"), ("serial", "serial_port"), ("spool", "spool_dir"), ("cups", "cups_queue")],
)
def test_printer_transport_needs_its_target(transport: str, missing: str) -> None:
    with pytest.raises(ValidationError, match=missing):
        PrinterConfig.model_validate({"transport": transport})


def test_serial_framing_is_checked() -> None:
    with pytest.raises(ValidationError, match="stopbits"):
        ScaleConfig(port="/dev/ttyS0", stopbits=3)
    with pytest.raises(ValidationError):
        SerialScannerConfig.model_validate({"port": "/dev/ttyS0", "parity": "X"})
    with pytest.raises(ValidationError, match="unknown text encoding"):
        SerialScannerConfig(port="/dev/ttyS0", encoding="klingon")
    with pytest.raises(ValidationError, match="reconnect_max_s"):
        SerialScannerConfig(port="/dev/ttyS0", reconnect_min_s=5, reconnect_max_s=1)


def test_camera_source_may_be_index_path_or_url() -> None:
    assert CameraConfig.model_validate({"source": 2}).source == 2
    assert CameraConfig.model_validate({"source": "frames/%03d.png"}).source == "frames/%03d.png"
    with pytest.raises(ValidationError):
        CameraConfig.model_validate({"decoder": "zbar"})


def test_device_names_must_be_unique() -> None:
    with pytest.raises(ValidationError, match="used twice"):
        DevicesSettings.model_validate(
            {
                "scanners": [
                    {"kind": "serial", "port": "/dev/ttyS0"},
                    {"kind": "serial", "port": "/dev/ttyS1"},
                ]
            }
        )
