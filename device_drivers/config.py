"""Device configuration, validated with pydantic: which scanners, camera, printer and scale a
station has and how to reach each. Part of the app's settings (``[devices]`` in TOML).

An example station file::

    [[devices.scanners]]
    kind = "serial"
    name = "hand-scanner"
    port = "/dev/serial/by-id/usb-Honeywell_Imaging_1900-if00"
    baudrate = 115200
    suffix = "CR"

    [[devices.scanners]]
    kind = "wedge"            # a scanner typing into the terminal

    [devices.camera]
    source = 0                # /dev/video0; or a file path, or rtsp://... / http://...
    decoder = "both"

    [devices.printer]
    transport = "tcp"
    host = "10.20.0.31"

    [devices.scale]
    protocol = "sics"
    port = "/dev/serial/by-id/usb-Mettler_Toledo-if00"

Every model forbids unknown keys, so a typo is an error naming the key, not a silent default.
Every device has ``required``: ``floor-app doctor`` exits non-zero when a required device is
missing or not ready.
"""

from __future__ import annotations

import codecs
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from floor_app.domain.symbology import Symbology


class _DeviceModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Parity = Literal["N", "E", "O", "M", "S"]
"""Serial parity: none, even, odd, mark, space (pyserial's letters)."""


class SerialLine(_DeviceModel):
    """How to reach a serial device: the port and its line settings (framing).

    Shared by the serial scanner and the scale.
    """

    port: str = Field(min_length=1)
    """Device path, best a stable ``/dev/serial/by-id/...`` link (resolved again at every
    reconnect, so a replugged device that came back as another ttyUSB is found), or a
    pyserial URL such as ``socket://127.0.0.1:4001`` or ``rfc2217://host:port``."""
    baudrate: int = Field(default=9600, gt=0, le=4_000_000)
    """Bits per second."""
    bytesize: Literal[5, 6, 7, 8] = 8
    """Data bits per character."""
    parity: Parity = "N"
    """Parity: N(one), E(ven), O(dd), M(ark), S(pace)."""
    stopbits: float = 1
    """Stop bits: 1, 1.5 or 2."""
    rtscts: bool = False
    """Hardware (RTS/CTS) flow control."""
    xonxoff: bool = False
    """Software (XON/XOFF) flow control."""
    reconnect_min_s: float = Field(default=0.2, gt=0, le=60)
    """First wait before reopening a port that went away; doubles on each failure."""
    reconnect_max_s: float = Field(default=5.0, gt=0, le=600)
    """Longest wait between reopen attempts."""

    @model_validator(mode="after")
    def _backoff_order(self) -> SerialLine:
        if self.stopbits not in (1, 1.5, 2):
            raise ValueError("stopbits must be 1, 1.5 or 2")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be at least reconnect_min_s")
        return self


class _ScannerBase(_DeviceModel):
    name: str = Field(default="scanner", min_length=1, max_length=64)
    """Name shown in diagnostics and the status header."""
    required: bool = True
    """The station cannot work without it: ``floor-app doctor`` fails when it is not ready."""
    symbologies: list[Symbology] = []
    """Accept only these symbologies (by AIM identifier); empty accepts any. A code of another
    symbology is rejected and counted, never delivered as a scan."""
    min_length: int = Field(default=1, ge=1, le=100)
    """Shortest code accepted (without AIM identifier)."""
    max_length: int = Field(default=1024, ge=1, le=8192)
    """Longest code accepted; a longer frame is rejected as overlong."""


Suffix = Literal["CR", "LF", "CRLF", "TAB"]
"""The key or byte sequence a scanner sends after every code."""


class SerialScannerConfig(_ScannerBase, SerialLine):
    """A scanner on a serial line (RS-232, or USB in CDC/serial emulation mode)."""

    kind: Literal["serial"] = "serial"
    suffix: Suffix = "CR"
    """Frame terminator the scanner is programmed with: CR, LF, CRLF or TAB."""
    encoding: str = "utf-8"
    """Text encoding of the codes; bytes that do not decode reject the frame."""
    inter_byte_timeout_s: float = Field(default=0.25, gt=0, le=10)
    """A frame that stops arriving for this long without its suffix is dropped (half a
    frame then silence is never a scan)."""

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown text encoding {value!r}") from None
        return value


class HidScannerConfig(_ScannerBase):
    """A USB scanner in keyboard (HID) mode, read through evdev and grabbed so its keystrokes
    never reach the console."""

    kind: Literal["hid"] = "hid"
    device: str = Field(min_length=1)
    """Input device: a path such as ``/dev/input/by-id/usb-...-event-kbd`` (stable) or
    ``/dev/input/event5``, or ``name:<text>`` to pick the first device whose name contains
    the text."""
    layout: Literal["us", "de"] = "us"
    """Keyboard layout the scanner is programmed for (how key codes become characters)."""
    grab: bool = True
    """Grab the device exclusively so scans do not leak as keystrokes to the console."""
    terminator: Literal["enter", "tab"] = "enter"
    """Key that ends a code."""
    reconnect_min_s: float = Field(default=0.2, gt=0, le=60)
    """First wait before reopening a device that went away; doubles on each failure."""
    reconnect_max_s: float = Field(default=5.0, gt=0, le=600)
    """Longest wait between reopen attempts."""


class WedgeScannerConfig(_ScannerBase):
    """A scanner that types into the terminal like a keyboard (keyboard wedge).

    Scans are told from a person typing by key timing and the terminating key.
    """

    kind: Literal["wedge"] = "wedge"
    name: str = Field(default="wedge", min_length=1, max_length=64)
    """Name shown in diagnostics and the status header."""
    required: bool = False
    """A wedge cannot be detected until it types, so it is optional by default."""
    min_length: int = Field(default=4, ge=1, le=100)
    """A burst shorter than this is a person, not a scanner."""
    max_interkey_s: float = Field(default=0.035, gt=0, le=1)
    """Keys closer together than this belong to one scanner burst; people type slower."""
    terminators: list[Literal["enter", "tab"]] = ["enter", "tab"]
    """Keys that end a scan."""
    dedupe_window_s: float = Field(default=0.6, ge=0, le=30)
    """The same code again right after itself within this many seconds is a double send,
    not a second scan."""


class CameraConfig(_DeviceModel):
    """A camera over the table (or a video file or stream) whose frames are decoded."""

    kind: Literal["camera"] = "camera"
    name: str = Field(default="camera", min_length=1, max_length=64)
    """Name shown in diagnostics and the status header."""
    required: bool = True
    """The station cannot work without it: ``floor-app doctor`` fails when it is not ready."""
    source: int | str = 0
    """Where frames come from: a device index (0 is /dev/video0), a video or image-sequence
    path (``frames/%03d.png``), or a stream URL (``rtsp://``, ``http://``)."""
    roi: tuple[int, int, int, int] | None = None
    """Region of interest ``(x, y, width, height)`` in pixels; only it is decoded."""
    decoder: Literal["pyzbar", "zxingcpp", "both"] = "both"
    """Barcode decoder backend; ``both`` runs both and combines their results."""
    dedupe_window_s: float = Field(default=2.0, ge=0, le=600)
    """The same code is not reported twice within this many seconds."""
    fps: float | None = Field(default=None, gt=0, le=240)
    """Capture rate to ask for (and to pace files at); None: the source's own rate."""
    frame_width: int | None = Field(default=None, gt=0, le=8192)
    """Capture width to ask the camera for; None: its default."""
    frame_height: int | None = Field(default=None, gt=0, le=8192)
    """Capture height to ask the camera for; None: its default."""
    symbologies: list[Symbology] = []
    """Report only these symbologies; empty reports any."""
    reconnect_min_s: float = Field(default=0.5, gt=0, le=60)
    """First wait before reopening a camera that went away; doubles on each failure."""
    reconnect_max_s: float = Field(default=10.0, gt=0, le=600)
    """Longest wait between reopen attempts."""


class PrinterConfig(_DeviceModel):
    """A ZPL label printer and how labels reach it."""

    name: str = Field(default="printer", min_length=1, max_length=64)
    """Name shown in diagnostics and the status header."""
    required: bool = True
    """The station cannot work without it: ``floor-app doctor`` fails when it is not ready."""
    transport: Literal["tcp", "serial", "spool", "cups"] = "tcp"
    """How labels travel: raw TCP (port 9100), a serial line, files in a spool folder, or a
    CUPS raw queue through ``lp``."""
    host: str = ""
    """Printer host name or address (tcp)."""
    port: int = Field(default=9100, gt=0, lt=65536)
    """TCP port (tcp); Zebra printers listen on 9100."""
    serial_port: str = ""
    """Serial device or ``/dev/serial/by-id/...`` link (serial)."""
    baudrate: int = Field(default=9600, gt=0, le=4_000_000)
    """Bits per second (serial)."""
    spool_dir: Path | None = None
    """Folder that receives one ``.zpl`` file per job (spool)."""
    cups_queue: str = ""
    """CUPS queue name, set up as a raw queue (cups)."""
    connect_timeout_s: float = Field(default=3.0, gt=0, le=120)
    """How long to wait for the printer to accept a connection."""
    status_timeout_s: float = Field(default=2.0, gt=0, le=120)
    """How long to wait for a ``~HS`` reply; some printers send none with the head open."""
    retries: int = Field(default=3, ge=0, le=100)
    """How often a failed job is sent again before it is reported failed."""
    retry_backoff_s: float = Field(default=1.0, ge=0, le=600)
    """Wait before the first retry; doubles on each further retry."""
    dpi: Literal[203, 300, 600] = 203
    """Print head resolution in dots per inch."""

    @model_validator(mode="after")
    def _transport_target(self) -> PrinterConfig:
        needed = {
            "tcp": ("host", self.host),
            "serial": ("serial_port", self.serial_port),
            "spool": ("spool_dir", self.spool_dir),
            "cups": ("cups_queue", self.cups_queue),
        }[self.transport]
        if not needed[1]:
            raise ValueError(f"transport {self.transport!r} needs {needed[0]}")
        return self


class ScaleConfig(SerialLine):
    """A scale on a serial line (or a TCP serial server through ``socket://host:port``)."""

    name: str = Field(default="scale", min_length=1, max_length=64)
    """Name shown in diagnostics and the status header."""
    required: bool = True
    """The station cannot work without it: ``floor-app doctor`` fails when it is not ready."""
    protocol: Literal["sics", "continuous"] = "sics"
    """``sics``: Mettler Toledo MT-SICS commands (S, SI, Z, T). ``continuous``: the scale
    sends lines such as ``ST,GS,+0001.234kg`` on its own."""
    command_timeout_s: float = Field(default=2.0, gt=0, le=60)
    """How long to wait for the reply to one command (sics)."""
    poll_interval_s: float = Field(default=0.1, gt=0, le=10)
    """Pause between readings while waiting for stable weight when the scale has no stable
    flag of its own."""
    stable_readings: int = Field(default=5, ge=2, le=100)
    """Readings in a row within ``stable_tolerance`` that count as stable weight, for
    readings that carry no stability flag."""
    stable_tolerance: Decimal = Field(default=Decimal("0.002"), ge=0)
    """Largest spread (in the scale's unit) of those readings."""


ScannerConfig = Annotated[
    SerialScannerConfig | HidScannerConfig | WedgeScannerConfig, Field(discriminator="kind")
]
"""One entry of ``[[devices.scanners]]``, told apart by ``kind``."""


class DevicesSettings(BaseModel):
    """The ``[devices]`` table. With no devices configured, the app takes scans typed into
    the terminal (a keyboard-wedge scanner or a person)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scanners: list[ScannerConfig] = []
    """Barcode scanners (``[[devices.scanners]]``), each with ``kind`` serial, hid or wedge."""
    camera: CameraConfig | None = None
    """A camera reading barcodes (``[devices.camera]``)."""
    printer: PrinterConfig | None = None
    """The station's label printer (``[devices.printer]``)."""
    scale: ScaleConfig | None = None
    """The station's scale (``[devices.scale]``)."""

    @model_validator(mode="after")
    def _unique_names(self) -> DevicesSettings:
        names = [s.name for s in self.scanners]
        names += [d.name for d in (self.camera, self.printer, self.scale) if d is not None]
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise ValueError(f"device name {name!r} is used twice; give each device a name")
            seen.add(name)
        return self
