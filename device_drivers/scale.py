"""A scale on a serial line (or a serial-over-TCP server through ``socket://host:port``).

Two protocols (``[devices.scale] protocol``), both parsed in :mod:`device_drivers.weighing`:

* ``sics``: Mettler Toledo MT-SICS. :meth:`SerialScale.read` sends ``S`` (stable weight,
  asked again while the scale answers dynamic or busy) or ``SI`` (immediate weight);
  :meth:`~SerialScale.zero` sends ``Z``, :meth:`~SerialScale.tare` ``T``. On connecting, the
  driver sends ``SI`` and is ``ready`` only once the scale answers (a port that opens is not
  yet a scale).
* ``continuous``: the scale sends a weight line by itself several times a second
  (``ST,GS,+0001.234kg``); the driver keeps the newest readings. Readings without a stable
  flag are judged by :class:`~device_drivers.weighing.StabilityDetector` (``stable_readings``
  in a row within ``stable_tolerance``). ``zero`` and ``tare`` send ``Z`` and ``T`` lines,
  which such indicators accept. ``ready`` once a weight line arrives; ``error`` when the
  scale falls silent.

One thread owns the port: it (re)connects with backoff, writes queued commands, reads and
parses lines, and matches replies to the command in flight. :meth:`read`, :meth:`zero` and
:meth:`tare` block the caller (a worker thread) until the reply or the timeout and raise a
:class:`~device_drivers.weighing.ScaleError` subclass with a message for the packer. A line
that is not understood is counted in :attr:`SerialScale.bad_lines` and becomes
``last_error``; unplugging the scale makes the state ``disconnected`` and the thread opens
it again when it comes back.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import deque
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

import serial

from device_drivers.base import DetailValue, Scale, ScaleState, Weight
from device_drivers.config import ScaleConfig
from device_drivers.serial_port import open_serial
from device_drivers.weighing import (
    Reading,
    ScaleError,
    ScaleNotReady,
    ScaleOverload,
    ScaleRefused,
    ScaleTimeout,
    ScaleUnderload,
    SicsReply,
    SicsStatus,
    StabilityDetector,
    parse_continuous,
    parse_sics,
)
from floor_app.backoff import Backoff

MAX_LINE = 256
"""A line longer than this is garbage, not a reply."""

SILENCE_S = 2.0
"""A continuous scale that sends nothing for this long is in ``error``."""


@dataclass(slots=True)
class _Command:
    text: str
    timeout: float
    future: Future[SicsReply] = field(default_factory=Future)
    deadline: float = 0.0


@dataclass(frozen=True, slots=True)
class _Timed:
    reading: Reading
    stable: bool
    at: float


class LineSplitter:
    """Bytes in, text lines out (CR, LF or CRLF ends a line); overlong lines are cut off
    and reported as ``None``; bytes that are not ASCII become ``\\ufffd``."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self.max_line = max_line
        self._buffer = bytearray()
        self._overlong = False

    def feed(self, data: bytes) -> list[str | None]:
        """Add ``data``; return complete lines (``None`` for a line that was too long)."""
        out: list[str | None] = []
        for byte in data:
            if byte in (10, 13):
                if self._overlong:
                    out.append(None)
                elif self._buffer:
                    out.append(self._buffer.decode("ascii", "replace"))
                self._buffer.clear()
                self._overlong = False
            elif not self._overlong:
                self._buffer.append(byte)
                if len(self._buffer) > self.max_line:
                    self._buffer.clear()
                    self._overlong = True
        return out

    def reset(self) -> None:
        """Forget a half line (after a reconnect)."""
        self._buffer.clear()
        self._overlong = False


class SerialScale(Scale):
    """A serial scale speaking MT-SICS or continuous output; see the module docstring."""

    def details(self) -> dict[str, DetailValue]:
        return {
            **super().details(),
            "bad_lines": self.bad_lines,
            "reconnects": self.reconnects,
            "port": str(self.config.port),
            "protocol": self.config.protocol,
        }

    def __init__(self, config: ScaleConfig) -> None:
        super().__init__(config.name, required=config.required)
        self.config = config
        self.bad_lines = 0
        self.reconnects = 0
        self._commands: queue.Queue[_Command] = queue.Queue()
        self._inflight: _Command | None = None
        self._readings: deque[_Timed] = deque(maxlen=64)
        self._readings_changed = threading.Condition()
        self._detector = StabilityDetector(config.stable_readings, config.stable_tolerance)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._read_timeout = 0.02

    # -- public API (blocking; call from a worker thread) ---------------------------------

    def read(self, *, stable: bool = True, timeout: float = 2.0) -> Weight:
        """The weight on the scale; with ``stable`` wait (up to ``timeout``) until stable."""
        if self.config.protocol == "continuous":
            return self._read_continuous(stable=stable, timeout=timeout)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ScaleTimeout(f"{self.name}: no stable weight within {timeout:g} s")
            # the scale gets its own answer time; the caller waits only what is left of its
            # deadline (an answer after it is dropped, never taken for a silent scale)
            try:
                reply = self._ask("S" if stable else "SI", self.config.command_timeout_s, wait=left)
            except ScaleTimeout:
                if time.monotonic() < deadline:
                    raise
                raise ScaleTimeout(f"{self.name}: no stable weight within {timeout:g} s") from None
            if reply.command != "S":
                raise ScaleError(f"{self.name}: unexpected reply to S: {reply}")
            self._raise_for_range(reply)
            if reply.status is SicsStatus.STABLE or (
                not stable and reply.status is SicsStatus.DYNAMIC
            ):
                return self._weight(reply, stable=reply.status is SicsStatus.STABLE)
            if reply.status not in (SicsStatus.DYNAMIC, SicsStatus.NOT_NOW):
                raise ScaleRefused(f"{self.name}: cannot weigh now ({reply.status})")
            time.sleep(min(self.config.poll_interval_s, max(0.0, deadline - time.monotonic())))

    def zero(self) -> None:
        """Set the scale to zero (MT-SICS ``Z``; continuous: send ``Z``)."""
        if self.config.protocol == "continuous":
            self._send_line("Z")
            return
        reply = self._ask("Z", self.config.command_timeout_s)
        if reply.status is SicsStatus.DONE:
            self._detector.reset()
            return
        if reply.status in (SicsStatus.OVER, SicsStatus.UNDER):
            raise ScaleRefused(f"{self.name}: the load is outside the zero range")
        raise ScaleRefused(f"{self.name}: cannot zero now (not stable or busy)")

    def tare(self) -> Weight:
        """Tare with what is on the scale; returns the tare weight."""
        if self.config.protocol == "continuous":
            weight = self._read_continuous(stable=True, timeout=self.config.command_timeout_s)
            self._send_line("T")
            return weight
        reply = self._ask("T", self.config.command_timeout_s)
        if reply.status is SicsStatus.STABLE and reply.value is not None:
            self._detector.reset()
            return self._weight(reply, stable=True)
        if reply.status in (SicsStatus.OVER, SicsStatus.UNDER):
            raise ScaleRefused(f"{self.name}: the load is outside the tare range")
        raise ScaleRefused(f"{self.name}: cannot tare now (not stable or busy)")

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Open the port in the background; ``ready`` once the scale answers."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._set_state(ScaleState.CONNECTING)
        self._thread = threading.Thread(target=self._run, name=f"scale-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close the port; waiting callers get ScaleNotReady."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        self._fail_commands(ScaleNotReady(f"{self.name} stopped"))
        self._set_state(ScaleState.STOPPED)

    # -- helpers for callers -------------------------------------------------------------

    def _ask(self, text: str, timeout: float, *, wait: float | None = None) -> SicsReply:
        """Send ``text``; the scale must answer within ``timeout`` (else it is in error), the
        caller waits for the answer at most ``wait`` (default: as long as the scale may take)."""
        if self.state is not ScaleState.READY:
            raise ScaleNotReady(f"{self.name} is {self.state.value}: {self.last_error}".rstrip())
        command = _Command(text, timeout)
        self._commands.put(command)
        try:
            patience = timeout + 0.5 if wait is None else min(wait, timeout + 0.5)
            reply = command.future.result(timeout=patience)
        except FutureTimeout:
            command.future.cancel()
            raise ScaleTimeout(f"{self.name}: no answer to {text} within {timeout:g} s") from None
        if reply.is_error:
            raise ScaleRefused(f"{self.name}: {text}: {reply.error}")
        return reply

    def _send_line(self, text: str) -> None:
        if self.state is not ScaleState.READY:
            raise ScaleNotReady(f"{self.name} is {self.state.value}: {self.last_error}".rstrip())
        self._commands.put(_Command(text, 0.0))

    def _raise_for_range(self, reply: SicsReply) -> None:
        if reply.status is SicsStatus.OVER:
            raise ScaleOverload(f"{self.name}: overload (too heavy for the scale)")
        if reply.status is SicsStatus.UNDER:
            raise ScaleUnderload(f"{self.name}: underload (below the scale's range)")

    def _weight(self, reply: SicsReply, *, stable: bool) -> Weight:
        assert reply.value is not None
        return Weight(reply.value, reply.unit, stable, source=self.name)

    def _read_continuous(self, *, stable: bool, timeout: float) -> Weight:
        if self.state is ScaleState.DISCONNECTED or self.state is ScaleState.STOPPED:
            raise ScaleNotReady(f"{self.name} is {self.state.value}: {self.last_error}".rstrip())
        since = time.monotonic()
        deadline = since + timeout
        with self._readings_changed:
            while True:
                fresh = [r for r in self._readings if r.at >= since]
                if fresh:
                    latest = fresh[-1]
                    if latest.reading.overload:
                        raise ScaleOverload(f"{self.name}: overload (too heavy for the scale)")
                    if latest.stable or not stable:
                        r = latest.reading
                        return Weight(r.value, r.unit, latest.stable, source=self.name)
                left = deadline - time.monotonic()
                if left <= 0:
                    what = "stable weight" if stable else "weight"
                    raise ScaleTimeout(f"{self.name}: no {what} within {timeout:g} s")
                self._readings_changed.wait(left)

    # -- the port thread -----------------------------------------------------------------

    def _run(self) -> None:
        cfg = self.config
        backoff = Backoff(cfg.reconnect_min_s, cfg.reconnect_max_s)
        opened_before = False
        while not self._stop.is_set():
            try:
                port = open_serial(cfg, timeout=self._read_timeout)
            except (OSError, ValueError, serial.SerialException) as exc:
                self._set_state(ScaleState.DISCONNECTED, f"cannot open {cfg.port}: {exc}")
                self._stop.wait(backoff.next_delay())
                continue
            if opened_before:
                self.reconnects += 1
            opened_before = True
            try:
                self._serve(port, backoff)
            except (OSError, serial.SerialException) as exc:
                if not self._stop.is_set():
                    self._fail_commands(ScaleNotReady(f"{self.name} went away: {exc}"))
                    self._set_state(ScaleState.DISCONNECTED, f"{cfg.port} went away: {exc}")
            finally:
                with contextlib.suppress(Exception):
                    port.close()
            self._stop.wait(backoff.next_delay())

    def _serve(self, port: serial.SerialBase, backoff: Backoff) -> None:
        splitter = LineSplitter()
        self._detector.reset()
        sics = self.config.protocol == "sics"
        probe: _Command | None = None
        next_probe = time.monotonic()
        last_line = time.monotonic()
        if not sics and self.state is not ScaleState.READY:
            self._set_state(ScaleState.CONNECTING)
        while not self._stop.is_set():
            now = time.monotonic()
            if sics and self.state is not ScaleState.READY and probe is None and now >= next_probe:
                probe = _Command("SI", self.config.command_timeout_s)
                self._write(port, probe)
            elif self._inflight is None and probe is None:
                self._send_next(port)
            data = port.read(1)
            if data:
                waiting = port.in_waiting
                if waiting:
                    data += port.read(waiting)
                last_line = time.monotonic()
            for line in splitter.feed(data):
                if line is None:
                    self._bad_line(f"line longer than {MAX_LINE} bytes")
                    continue
                if sics:
                    probe = self._on_sics_line(line, probe, backoff)
                else:
                    self._on_continuous_line(line, backoff)
            now = time.monotonic()
            if probe is not None and now > probe.deadline:
                probe = None
                next_probe = now + backoff.next_delay()
                self._set_state(
                    ScaleState.ERROR,
                    f"no answer from {self.config.port} to SI "
                    "(wrong baud rate, or not an MT-SICS scale?)",
                )
            inflight = self._inflight
            if inflight is not None and now > inflight.deadline:
                self._inflight = None
                if not inflight.future.done():
                    inflight.future.set_exception(
                        ScaleTimeout(f"{self.name}: no answer to {inflight.text}")
                    )
                self._set_state(
                    ScaleState.ERROR, f"no answer from {self.config.port} to {inflight.text}"
                )
                next_probe = now + backoff.next_delay()
            if not sics and self.state is ScaleState.READY and now - last_line > SILENCE_S:
                self._set_state(ScaleState.ERROR, f"no weight from {self.config.port} for 2 s")

    def _write(self, port: serial.SerialBase, command: _Command) -> None:
        command.deadline = time.monotonic() + command.timeout
        port.write(command.text.encode("ascii") + b"\r\n")

    def _send_next(self, port: serial.SerialBase) -> None:
        try:
            command = self._commands.get_nowait()
        except queue.Empty:
            return
        if command.future.cancelled():
            return
        self._write(port, command)
        if self.config.protocol == "sics":
            self._inflight = command
        else:
            command.future.cancel()

    def _on_sics_line(self, line: str, probe: _Command | None, backoff: Backoff) -> _Command | None:
        try:
            reply = parse_sics(line)
        except ScaleError as exc:
            self._bad_line(str(exc))
            return probe
        if probe is not None:
            backoff.reset()
            self._set_state(ScaleState.READY)
            return None
        inflight = self._inflight
        if inflight is None:
            return None  # a late reply to a command that timed out: dropped
        expected = "S" if inflight.text in ("S", "SI") else inflight.text
        if reply.command != expected and not reply.is_error:
            self._bad_line(f"reply {line.strip()!r} does not answer {inflight.text}")
            return None
        self._inflight = None
        if not inflight.future.done():
            inflight.future.set_result(reply)
        return None

    def _on_continuous_line(self, line: str, backoff: Backoff) -> None:
        try:
            reading = parse_continuous(line)
        except ScaleError as exc:
            self._bad_line(str(exc))
            return
        if reading.overload:
            stable = False
            self._detector.reset()
        elif reading.stable is None:
            stable = self._detector.feed(reading.value, reading.unit)
        else:
            stable = reading.stable
        with self._readings_changed:
            self._readings.append(_Timed(reading, stable, time.monotonic()))
            self._readings_changed.notify_all()
        if self.state is not ScaleState.READY:
            backoff.reset()
            self._set_state(ScaleState.READY)

    def _bad_line(self, why: str) -> None:
        self.bad_lines += 1
        self._set_state(self.state, f"unreadable line from the scale: {why}")

    def _fail_commands(self, error: ScaleError) -> None:
        inflight, self._inflight = self._inflight, None
        if inflight is not None and not inflight.future.done():
            inflight.future.set_exception(error)
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                break
            if not command.future.done():
                command.future.set_exception(error)
