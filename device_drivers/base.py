"""The driver boundary: one abstract class per device kind, each with one state enum.

Every driver changes its state in exactly one place, :meth:`Device._set_state`, which
records the last error and tells every listener. A read or write error never escapes into
the caller as an exception from a driver thread: it closes the device, becomes a state
(``ERROR`` or ``DISCONNECTED``) with a message, and the driver retries with backoff where
that makes sense. The app subscribes with callbacks that only post messages.
"""

from __future__ import annotations

import abc
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from floor_app.domain.documents import PackingSlip
from floor_app.domain.symbology import Symbology

if TYPE_CHECKING:
    from floor_app.domain.labelling import ParcelFacts
    from floor_app.domain.order import Order
    from floor_app.domain.packing import LabelJob


log = logging.getLogger("floor.devices")


class DeviceKind(StrEnum):
    """What a device is: each kind has one abstract class below."""

    SCANNER = "scanner"
    CAMERA = "camera"
    PRINTER = "printer"
    SCALE = "scale"


class ScannerState(StrEnum):
    """States of a barcode scanner."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    READY = "ready"
    ERROR = "error"
    STOPPED = "stopped"


class CameraState(StrEnum):
    """States of a camera reading barcodes."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    READY = "ready"
    ERROR = "error"
    STOPPED = "stopped"


class PrinterState(StrEnum):
    """States of a label printer; the fault states come from its status reply."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    READY = "ready"
    PRINTING = "printing"
    PAPER_OUT = "paper_out"
    HEAD_OPEN = "head_open"
    PAUSED = "paused"
    ERROR = "error"
    STOPPED = "stopped"


class ScaleState(StrEnum):
    """States of a scale."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    READY = "ready"
    ERROR = "error"
    STOPPED = "stopped"


DeviceState = ScannerState | CameraState | PrinterState | ScaleState
"""The state of a device of any kind."""

StateT = TypeVar("StateT", bound=StrEnum)
StateT_co = TypeVar("StateT_co", bound=StrEnum, covariant=True)


@dataclass(frozen=True, slots=True)
class StateChange(Generic[StateT_co]):
    """A device moved from ``old`` to ``new``; ``error`` says why when it is a fault."""

    device: str
    old: StateT_co
    new: StateT_co
    error: str = ""
    at: float = field(default_factory=time.time)


DetailValue = str | int | float | bool
"""One value of :meth:`Device.details`."""


class Device(abc.ABC, Generic[StateT]):
    """Common part of every driver: a name, a state, listeners, the last error.

    Subclasses set ``initial_state`` and call :meth:`_set_state` whenever the state
    changes, from any thread. Listeners run on the thread that changed the state and
    must only hand work off (post a message, put on a queue).
    """

    kind: ClassVar[DeviceKind]

    def __init__(self, name: str, initial_state: StateT, *, required: bool = True) -> None:
        self.name = name
        self.required = required
        self._state: StateT = initial_state
        self._last_error = ""
        self._state_lock = threading.Lock()
        self._state_listeners: list[Callable[[StateChange[StateT]], None]] = []

    @property
    def state(self) -> StateT:
        """The current state."""
        return self._state

    @property
    def last_error(self) -> str:
        """The message of the last fault, empty when there was none."""
        return self._last_error

    def details(self) -> dict[str, DetailValue]:
        """What a diagnosis shows beyond the state: counters, where the device is attached.
        Drivers add theirs; ``floor-app doctor`` prints them."""
        return {}

    def on_state_change(self, listener: Callable[[StateChange[StateT]], None]) -> None:
        """Call ``listener`` on every state change."""
        self._state_listeners.append(listener)

    def _set_state(self, new: StateT, error: str = "") -> None:
        """The one place where a driver's state changes."""
        with self._state_lock:
            old = self._state
            if old == new and (not error or error == self._last_error):
                return
            self._state = new
            if error:
                self._last_error = error
        change = StateChange(self.name, old, new, error)
        for listener in list(self._state_listeners):
            try:
                listener(change)
            except Exception:  # a listener's bug must never kill a driver thread
                log.exception("%s: a state listener failed", self.name)

    @abc.abstractmethod
    def start(self) -> None:
        """Open the device (in the background where opening can block) and start reading."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop threads and close the device; idempotent."""


@dataclass(frozen=True, slots=True)
class Scan:
    """One code read by any scanner or camera, the same shape whatever the source.

    ``text`` is the decoded text with the AIM symbology identifier (when known) removed
    and GS1 group separators (``\\x1d``) preserved; ``raw`` the bytes as received.
    ``position`` is the code's centre in the frame for cameras.
    """

    text: str
    raw: bytes
    symbology: Symbology
    source: str
    timestamp: float
    aim: str = ""
    position: tuple[int, int] | None = None
    received_monotonic: float = field(default_factory=time.monotonic)

    @property
    def with_aim(self) -> str:
        """The text as a scanner with AIM identifiers would send it (for classification)."""
        return f"{self.aim}{self.text}"


ScanListener = Callable[[Scan], None]


class ScanSource(Device[StateT]):
    """A device that produces :class:`Scan` values: scanners and cameras."""

    def __init__(self, name: str, initial_state: StateT, *, required: bool = True) -> None:
        super().__init__(name, initial_state, required=required)
        self._scan_listeners: list[ScanListener] = []
        self.last_scan: Scan | None = None

    def on_scan(self, listener: ScanListener) -> None:
        """Call ``listener`` with every scan (from the driver's thread)."""
        self._scan_listeners.append(listener)

    def _emit_scan(self, scan: Scan) -> None:
        """Deliver a scan to every listener; a failing listener does not stop the others."""
        self.last_scan = scan
        for listener in list(self._scan_listeners):
            try:
                listener(scan)
            except Exception:  # nor stop the other listeners
                log.exception("%s: a scan listener failed", self.name)


class Scanner(ScanSource[ScannerState]):
    """A barcode scanner: serial, HID (evdev) or keyboard wedge."""

    kind = DeviceKind.SCANNER

    def __init__(self, name: str, *, required: bool = True) -> None:
        super().__init__(name, ScannerState.DISCONNECTED, required=required)


class Camera(ScanSource[CameraState]):
    """A camera whose frames are decoded for barcodes in a thread of its own."""

    kind = DeviceKind.CAMERA

    def __init__(self, name: str, *, required: bool = True) -> None:
        super().__init__(name, CameraState.DISCONNECTED, required=required)


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    """A printer's answer to a status query (``~HS`` for ZPL printers)."""

    paper_out: bool = False
    head_open: bool = False
    paused: bool = False
    ribbon_out: bool = False
    labels_queued: int = 0
    raw: str = ""

    @property
    def ok(self) -> bool:
        """True when the printer can print now."""
        return not (self.paper_out or self.head_open or self.paused or self.ribbon_out)


@dataclass(frozen=True, slots=True)
class PrintJob:
    """One label to print. ``job_id`` is the event id behind it: a job never prints twice."""

    job_id: str
    data: bytes
    description: str = ""


@dataclass(frozen=True, slots=True)
class PrintResult:
    """What happened to a print job."""

    job_id: str
    printed: bool
    duplicate: bool = False
    error: str = ""
    status: PrinterStatus | None = None


class LabelPrinter(Device[PrinterState]):
    """A label printer. :meth:`print_job` blocks: call it from a worker thread."""

    kind = DeviceKind.PRINTER

    def __init__(self, name: str, *, required: bool = True) -> None:
        super().__init__(name, PrinterState.DISCONNECTED, required=required)

    @abc.abstractmethod
    def query_status(self) -> PrinterStatus:
        """Ask the printer for its status (raises nothing; faults become states)."""

    @abc.abstractmethod
    def print_job(self, job: PrintJob) -> PrintResult:
        """Send ``job`` unless a job with its id was already printed."""


class LabelError(ValueError):
    """A label cannot be made from this input; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class RenderedLabel:
    """A label made for printing: ZPL for the printer, a PNG of the same label for the
    screen (None when no picture was drawn)."""

    zpl: bytes
    png: bytes | None


class LabelRenderer(abc.ABC):
    """Makes the shipping label of a label job: the one place labels are written in ZPL."""

    @abc.abstractmethod
    def render(self, job: LabelJob, order: Order, parcel: ParcelFacts) -> RenderedLabel:
        """The label of ``job`` (its carrier and tracking number) for ``order`` (its
        address and sort code) and its ``parcel`` (sender, weight, ship date, piece);
        raises :class:`LabelError` when no label can be made from them."""


class DocumentError(Exception):
    """A document could not be made or printed; ``reason`` says why and what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DocumentOutput(abc.ABC):
    """Lays out a parcel's documents (PDF) and prints them, or keeps them as files."""

    @abc.abstractmethod
    def packing_slip(self, slip: PackingSlip) -> bytes:
        """The packing slip as a PDF."""

    @abc.abstractmethod
    def print_pdf(self, name: str, data: bytes, title: str) -> str:
        """Print ``data`` (kept first as a file named after ``name``); where it went (the
        queue and file). Raises :class:`DocumentError` with the reason (the file kept)."""


@dataclass(frozen=True, slots=True)
class Weight:
    """A reading from a scale."""

    value: Decimal
    unit: str
    stable: bool
    source: str = ""
    timestamp: float = field(default_factory=time.time)

    @property
    def grams(self) -> int:
        """The weight in whole grams."""
        factor = {
            "g": Decimal(1),
            "kg": Decimal(1000),
            "lb": Decimal("453.59237"),
            "oz": Decimal("28.349523125"),
        }
        return int((self.value * factor[self.unit]).to_integral_value())


class Scale(Device[ScaleState]):
    """A scale. Reads block briefly: call them from a worker thread."""

    kind = DeviceKind.SCALE

    def __init__(self, name: str, *, required: bool = True) -> None:
        super().__init__(name, ScaleState.DISCONNECTED, required=required)

    @abc.abstractmethod
    def read(self, *, stable: bool = True, timeout: float = 2.0) -> Weight:
        """Read the weight; with ``stable`` wait until the scale says it is stable."""

    @abc.abstractmethod
    def zero(self) -> None:
        """Set the scale to zero."""

    @abc.abstractmethod
    def tare(self) -> Weight:
        """Tare with what is on the scale; returns the tare weight."""


ScanDevice = Scanner | Camera
"""A device that reads codes."""

AnyDevice = Scanner | Camera | LabelPrinter | Scale
"""A device of any kind."""


@dataclass(slots=True)
class Devices:
    """A station's built drivers, any of them absent: what bootstrap hands the app."""

    scanners: list[Scanner] = field(default_factory=list)
    camera: Camera | None = None
    printer: LabelPrinter | None = None
    scale: Scale | None = None

    def scan_sources(self) -> list[ScanDevice]:
        """The devices whose scans the app takes: the scanners, then the camera."""
        out: list[ScanDevice] = list(self.scanners)
        if self.camera is not None:
            out.append(self.camera)
        return out

    def all(self) -> list[AnyDevice]:
        """Every device: scanners, camera, printer, scale (in that order)."""
        out: list[AnyDevice] = list(self.scan_sources())
        out += [d for d in (self.printer, self.scale) if d is not None]
        return out

    def states(self) -> dict[str, DeviceState]:
        """Each device's state under its kind (``scanner``; a second one ``scanner2`` ...)."""
        out: dict[str, DeviceState] = {}
        for device in self.all():
            name = str(device.kind)
            n = 2
            while name in out:
                name, n = f"{device.kind}{n}", n + 1
            out[name] = device.state
        return out

    def start(self) -> None:
        """Start every device (opening happens in their own threads)."""
        for device in self.all():
            device.start()

    def stop(self) -> None:
        """Stop every device, last built first; one failing does not stop the others."""
        for device in reversed(self.all()):
            try:
                device.stop()
            except Exception:  # a driver's bug must not keep the others running
                log.exception("stopping %s failed", device.name)
