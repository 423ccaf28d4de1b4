"""Fake devices with fault injection, for tests and for ``floor-app --demo``.

Each fake subclasses the real abstract class from :mod:`device_drivers.base`, changes state
only through ``_set_state`` and applies the same checks as the real drivers, so the app
cannot tell it from hardware. Faults are methods: ``unplug()`` / ``replug()`` on every fake,
plus ``scan_bytes(b"...garbage...")`` (scanner), ``paper_out()``, ``head_open()``,
``never_answers()``, ``fail_next()`` (printer), ``overload()``, ``unstable_for()``,
``never_stable()`` (scale), ``empty_frames()`` (camera), and ``slow(seconds)`` on all.

In demo mode the app injects scans with :meth:`FakeScanner.scan`; the demo scale
(:class:`device_drivers.demo_scale.DemoScale`) is a :class:`FakeScale` that weighs the
parcel it is given.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

from device_drivers.base import (
    Camera,
    CameraState,
    LabelPrinter,
    PrinterState,
    PrinterStatus,
    PrintJob,
    PrintResult,
    Scale,
    ScaleState,
    Scan,
    Scanner,
    ScannerState,
    Weight,
)
from device_drivers.scan_rules import Rejection, ScannerCounters, ScanRules
from device_drivers.weighing import (
    ScaleNotReady,
    ScaleOverload,
    ScaleRefused,
    ScaleTimeout,
    ScaleUnderload,
)
from floor_app.domain.symbology import Symbology, aim_identifier


class FakeScanner(Scanner):
    """A scanner the test (or the demo) scans with: :meth:`scan` delivers a code."""

    def __init__(
        self, name: str = "scanner", *, required: bool = False, rules: ScanRules | None = None
    ) -> None:
        super().__init__(name, required=required)
        self.rules = rules or ScanRules()
        self.counters = ScannerCounters()
        self.plugged = True
        self.delay_s = 0.0
        self.lost: list[str] = []
        """Codes scanned while the scanner was not ready (a real scanner would lose them)."""

    def start(self) -> None:
        """Ready at once when plugged in."""
        if self.plugged:
            self._set_state(ScannerState.READY)
        else:
            self._set_state(ScannerState.DISCONNECTED, "unplugged")

    def stop(self) -> None:
        """Stop delivering scans."""
        self._set_state(ScannerState.STOPPED)

    def scan(self, text: str, *, symbology: Symbology | None = None) -> Scan | Rejection | None:
        """Scan ``text`` (which may start with an AIM identifier such as ``]C1``).

        With ``symbology``, the matching AIM identifier is put in front. Returns the scan,
        the rejection, or None when the scanner is not ready (the code is lost).
        """
        if symbology is not None:
            text = aim_identifier(symbology) + text
        return self.scan_bytes(text.encode("utf-8"))

    def scan_bytes(self, raw: bytes) -> Scan | Rejection | None:
        """Deliver ``raw`` as one frame (garbage included) through the scanner's checks."""
        if self.state is not ScannerState.READY:
            self.lost.append(raw.decode("utf-8", "replace"))
            return None
        result = self.rules.check_bytes(raw, self.name)
        if isinstance(result, Rejection):
            self.counters.rejected[result.reason] += 1
            self._set_state(self.state, result.message)
            return result
        self.counters.scans += 1
        if self.delay_s > 0:
            timer = threading.Timer(self.delay_s, self._emit_scan, args=(result,))
            timer.daemon = True
            timer.start()
        else:
            self._emit_scan(result)
        return result

    def unplug(self, error: str = "cable pulled") -> None:
        """Fault: the scanner goes away."""
        self.plugged = False
        self._set_state(ScannerState.DISCONNECTED, error)

    def replug(self) -> None:
        """The scanner comes back."""
        self.plugged = True
        self.counters.reconnects += 1
        self._set_state(ScannerState.READY)

    def slow(self, seconds: float) -> None:
        """Fault: scans reach listeners ``seconds`` late (from another thread)."""
        self.delay_s = seconds


class FakeCamera(Camera):
    """A camera whose 'frames' are codes the test shows it; same code not twice per window."""

    def __init__(
        self, name: str = "camera", *, required: bool = False, dedupe_window_s: float = 2.0
    ) -> None:
        super().__init__(name, required=required)
        self.dedupe_window_s = dedupe_window_s
        self.plugged = True
        self.empty_frame_count = 0
        self._seen: dict[str, float] = {}

    def start(self) -> None:
        """Ready at once when plugged in."""
        if self.plugged:
            self._set_state(CameraState.READY)
        else:
            self._set_state(CameraState.DISCONNECTED, "camera not found")

    def stop(self) -> None:
        """Stop decoding."""
        self._set_state(CameraState.STOPPED)

    def show(
        self,
        text: str,
        symbology: Symbology = Symbology.QR,
        position: tuple[int, int] = (640, 360),
        *,
        now: float | None = None,
    ) -> Scan | None:
        """Put a code in front of the camera; None when not ready or seen within the window."""
        if self.state is not CameraState.READY:
            return None
        at = time.monotonic() if now is None else now
        last = self._seen.get(text)
        if last is not None and at - last < self.dedupe_window_s:
            return None
        self._seen[text] = at
        scan = Scan(
            text=text,
            raw=text.encode("utf-8"),
            symbology=symbology,
            source=self.name,
            timestamp=time.time(),
            aim=aim_identifier(symbology),
            position=position,
        )
        self._emit_scan(scan)
        return scan

    def empty_frames(self, count: int = 1) -> None:
        """Fault: the camera returns empty frames (counted; the device stays up)."""
        self.empty_frame_count += count
        self._set_state(self.state, f"{self.empty_frame_count} empty frames")

    def unplug(self, error: str = "camera disappeared") -> None:
        """Fault: the camera goes away."""
        self.plugged = False
        self._set_state(CameraState.DISCONNECTED, error)

    def replug(self) -> None:
        """The camera comes back."""
        self.plugged = True
        self._set_state(CameraState.READY)


class FakePrinter(LabelPrinter):
    """A label printer that keeps what it printed; a job id never prints twice."""

    def __init__(self, name: str = "printer", *, required: bool = False) -> None:
        super().__init__(name, required=required)
        self.printed: list[PrintJob] = []
        self.status = PrinterStatus()
        self.plugged = True
        self.answers = True
        self.delay_s = 0.0
        self.failures_left = 0
        self._printed_ids: set[str] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Connect (at once) and ask for status."""
        self._set_state(PrinterState.CONNECTING)
        self.query_status()

    def stop(self) -> None:
        """Disconnect."""
        self._set_state(PrinterState.STOPPED)

    def query_status(self) -> PrinterStatus:
        """The injected status; faults become states."""
        if not self.plugged:
            self._set_state(PrinterState.DISCONNECTED, "printer not reachable")
            return PrinterStatus(raw="")
        if not self.answers:
            self._set_state(PrinterState.ERROR, "no answer to ~HS")
            return PrinterStatus(raw="")
        status = self.status
        if status.paper_out:
            self._set_state(PrinterState.PAPER_OUT, "paper out")
        elif status.head_open:
            self._set_state(PrinterState.HEAD_OPEN, "print head open")
        elif status.paused:
            self._set_state(PrinterState.PAUSED, "printer paused")
        elif status.ribbon_out:
            self._set_state(PrinterState.ERROR, "ribbon out")
        else:
            self._set_state(PrinterState.READY)
        return status

    def print_job(self, job: PrintJob) -> PrintResult:
        """Print unless ``job.job_id`` was printed before (then: a duplicate, not printed)."""
        with self._lock:
            if job.job_id in self._printed_ids:
                return PrintResult(job.job_id, printed=True, duplicate=True)
            status = self.query_status()
            if self.state is not PrinterState.READY:
                return PrintResult(job.job_id, printed=False, error=self.last_error, status=status)
            self._set_state(PrinterState.PRINTING)
            if self.delay_s:
                time.sleep(self.delay_s)
            if self.failures_left > 0:
                self.failures_left -= 1
                self._set_state(PrinterState.ERROR, "connection reset while sending")
                return PrintResult(job.job_id, printed=False, error=self.last_error)
            self.printed.append(job)
            self._printed_ids.add(job.job_id)
            self._set_state(PrinterState.READY)
            return PrintResult(job.job_id, printed=True, status=status)

    def paper_out(self, out: bool = True) -> None:
        """Fault: the roll is empty (``out=False``: a new roll is in)."""
        self.status = PrinterStatus(paper_out=out)
        self.query_status()

    def head_open(self, is_open: bool = True) -> None:
        """Fault: the print head is open."""
        self.status = PrinterStatus(head_open=is_open)
        self.query_status()

    def never_answers(self, silent: bool = True) -> None:
        """Fault: the printer accepts the connection but never answers a status query."""
        self.answers = not silent

    def fail_next(self, count: int = 1) -> None:
        """Fault: the next ``count`` jobs fail while sending."""
        self.failures_left = count

    def unplug(self, error: str = "printer not reachable") -> None:
        """Fault: the printer goes away."""
        self.plugged = False
        self._set_state(PrinterState.DISCONNECTED, error)

    def replug(self) -> None:
        """The printer comes back."""
        self.plugged = True
        self.query_status()

    def slow(self, seconds: float) -> None:
        """Fault: each job takes ``seconds``."""
        self.delay_s = seconds


class FakeScale(Scale):
    """A scale with a load on it: :meth:`place` puts one, the faults make it misbehave."""

    def __init__(
        self,
        name: str = "scale",
        *,
        weight: Decimal = Decimal("0.000"),
        unit: str = "kg",
        required: bool = False,
    ) -> None:
        super().__init__(name, required=required)
        self.unit = unit
        self.plugged = True
        self.delay_s = 0.0
        self.unstable_reads = 0
        self.overloaded = False
        self.underloaded = False
        self._gross = weight
        self._tare = Decimal(0)
        self._zero = Decimal(0)
        self._lock = threading.Lock()

    @classmethod
    def demo(cls, name: str = "scale") -> FakeScale:
        """The demo station's scale: a parcel of 1.240 kg on it, settling after two reads."""
        scale = cls(name, weight=Decimal("1.240"))
        scale.unstable_reads = 2
        return scale

    def start(self) -> None:
        """Ready at once when plugged in."""
        if self.plugged:
            self._set_state(ScaleState.READY)
        else:
            self._set_state(ScaleState.DISCONNECTED, "unplugged")

    def stop(self) -> None:
        """Stop."""
        self._set_state(ScaleState.STOPPED)

    def place(self, weight: Decimal | str | float, unit: str | None = None) -> None:
        """Put a load of ``weight`` on the scale (replacing what was there)."""
        with self._lock:
            self._gross = Decimal(str(weight))
            if unit is not None:
                self.unit = unit

    def read(self, *, stable: bool = True, timeout: float = 2.0) -> Weight:
        """The net weight; with ``stable`` skip unstable readings until ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            self._check()
            if self.delay_s:
                time.sleep(self.delay_s)
            with self._lock:
                net = self._gross - self._zero - self._tare
                settled = self.unstable_reads == 0
                if not settled:
                    self.unstable_reads -= 1
            if settled or not stable:
                jitter = Decimal(0) if settled else Decimal("0.003")
                return Weight(net + jitter, self.unit, settled, source=self.name)
            if time.monotonic() >= deadline:
                raise ScaleTimeout(f"{self.name}: no stable weight within {timeout:g} s")
            time.sleep(0.01)

    def zero(self) -> None:
        """Zero: what is on the scale now reads as zero."""
        self._check()
        with self._lock:
            if self.unstable_reads:
                raise ScaleRefused(f"{self.name}: cannot zero now (not stable)")
            self._zero = self._gross
            self._tare = Decimal(0)

    def tare(self) -> Weight:
        """Tare with the load on the scale; returns it."""
        self._check()
        with self._lock:
            if self.unstable_reads:
                raise ScaleRefused(f"{self.name}: cannot tare now (not stable)")
            self._tare = self._gross - self._zero
            return Weight(self._tare, self.unit, True, source=self.name)

    def _check(self) -> None:
        if self.state is not ScaleState.READY:
            raise ScaleNotReady(f"{self.name} is {self.state.value}: {self.last_error}".rstrip())
        if self.overloaded:
            raise ScaleOverload(f"{self.name}: overload (too heavy for the scale)")
        if self.underloaded:
            raise ScaleUnderload(f"{self.name}: underload (below the scale's range)")

    def overload(self, on: bool = True) -> None:
        """Fault: too heavy."""
        self.overloaded = on

    def underload(self, on: bool = True) -> None:
        """Fault: below range."""
        self.underloaded = on

    def unstable_for(self, reads: int) -> None:
        """Fault: the next ``reads`` readings are unstable (the load still swinging)."""
        self.unstable_reads = reads

    def never_stable(self) -> None:
        """Fault: the load never settles (a draught, a vibrating table)."""
        self.unstable_reads = 1 << 30

    def unplug(self, error: str = "cable pulled") -> None:
        """Fault: the scale goes away."""
        self.plugged = False
        self._set_state(ScaleState.DISCONNECTED, error)

    def replug(self) -> None:
        """The scale comes back."""
        self.plugged = True
        self._set_state(ScaleState.READY)

    def slow(self, seconds: float) -> None:
        """Fault: each reading takes ``seconds``."""
        self.delay_s = seconds
