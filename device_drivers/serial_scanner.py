"""A barcode scanner on a serial line (RS-232, or USB in serial emulation), read by pyserial.

One reader thread owns the port. Bytes are cut into frames at the configured suffix (CR, LF,
CRLF or TAB) by :class:`SerialFramer`; each frame is checked by
:class:`~device_drivers.scan_rules.ScanRules` (AIM symbology identifier split off, GS1 group
separators ``0x1D`` kept) and delivered as a :class:`~device_drivers.base.Scan`.

What the real floor sends, and what happens to it:

* half a frame, then silence: dropped after ``inter_byte_timeout_s``; never a scan;
* a frame longer than ``max_length`` (a scanner stuck sending): discarded as it arrives,
  up to the next suffix, and reported once as overlong;
* bytes that do not decode or carry control characters: rejected as garbage;
* a code of a symbology the station does not accept: rejected;
* the cable pulled (a read error): the port is closed, the state becomes ``disconnected``
  with the reason, and the thread reopens the port with backoff, resolving the
  ``/dev/serial/by-id/...`` link again each time so the scanner is found after a replug.

Every rejection is counted in :attr:`SerialScanner.counters` and becomes ``last_error``;
nothing raises into the app.
"""

from __future__ import annotations

import contextlib
import threading
import time

import serial

from device_drivers.base import DetailValue, ScannerState
from device_drivers.config import SerialScannerConfig, Suffix
from device_drivers.scan_rules import (
    Rejection,
    RejectReason,
    RuledScanner,
    ScannerCounters,
    ScanRules,
)
from device_drivers.serial_port import open_serial
from floor_app.backoff import Backoff

SUFFIX_BYTES: dict[Suffix, bytes] = {"CR": b"\r", "LF": b"\n", "CRLF": b"\r\n", "TAB": b"\t"}
"""The bytes of each configurable suffix."""

_STRAY = b"\r\n"  # a CR or LF left over when the scanner sends CRLF but CR or LF is configured


class SerialFramer:
    """Cuts a byte stream into frames at ``suffix`` (pure: the caller supplies the clock).

    :meth:`feed` returns complete frames (bytes, suffix removed) and rejections in arrival
    order; :meth:`expire` drops a frame that has been incomplete for longer than
    ``inter_byte_timeout_s``. A frame growing past ``max_frame`` bytes is discarded as it
    arrives (memory stays bounded) and reported once when its suffix or silence comes.
    """

    def __init__(self, suffix: bytes, *, max_frame: int, inter_byte_timeout_s: float) -> None:
        if not suffix:
            raise ValueError("a frame suffix is needed")
        self.suffix = suffix
        self.max_frame = max_frame
        self.inter_byte_timeout_s = inter_byte_timeout_s
        self._buffer = bytearray()
        self._discarded = 0
        self._last_byte_at = 0.0

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held (or being discarded)."""
        return len(self._buffer) + self._discarded

    def feed(self, data: bytes, now: float) -> list[bytes | Rejection]:
        """Add ``data`` received at ``now`` (monotonic seconds); return what completed."""
        out: list[bytes | Rejection] = []
        expired = self.expire(now)
        if expired is not None:
            out.append(expired)
        if not data:
            return out
        self._last_byte_at = now
        self._buffer += data
        while True:
            index = self._buffer.find(self.suffix)
            if index < 0:
                break
            frame = bytes(self._buffer[:index])
            del self._buffer[: index + len(self.suffix)]
            if self._discarded:
                total = self._discarded + len(frame)
                self._discarded = 0
                out.append(
                    Rejection(
                        RejectReason.OVERLONG, f"frame of {total} bytes (limit {self.max_frame})"
                    )
                )
                continue
            frame = frame.strip(_STRAY)
            if frame:
                out.append(frame)
        if len(self._buffer) > self.max_frame:
            keep = len(self.suffix) - 1  # the start of a suffix split across reads
            self._discarded += len(self._buffer) - keep
            del self._buffer[: len(self._buffer) - keep]
        return out

    def expire(self, now: float) -> Rejection | None:
        """Drop an incomplete frame after ``inter_byte_timeout_s`` of silence."""
        if not self.pending or now - self._last_byte_at < self.inter_byte_timeout_s:
            return None
        return self.drop("silence")

    def drop(self, why: str) -> Rejection | None:
        """Drop whatever incomplete frame is held (silence, or the port went away)."""
        if not self.pending:
            return None
        size = self.pending
        head = bytes(self._buffer[:32])
        overlong = self._discarded > 0
        self._buffer.clear()
        self._discarded = 0
        if overlong:
            return Rejection(
                RejectReason.OVERLONG,
                f"frame of {size}+ bytes (limit {self.max_frame}) then {why}",
                head,
            )
        return Rejection(RejectReason.PARTIAL, f"{size} bytes without suffix, then {why}", head)


class SerialScanner(RuledScanner):
    """A serial barcode scanner read by a thread of its own; see the module docstring."""

    def details(self) -> dict[str, DetailValue]:
        return {**super().details(), "port": str(self.config.port)}

    def __init__(self, config: SerialScannerConfig) -> None:
        super().__init__(config.name, required=config.required)
        self.config = config
        self.counters = ScannerCounters()
        self.rules = ScanRules(
            min_length=config.min_length,
            max_length=config.max_length,
            symbologies=frozenset(config.symbologies),
            encoding=config.encoding,
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._port: serial.SerialBase | None = None
        self._read_timeout = min(0.05, config.inter_byte_timeout_s / 2)
        self._framer = SerialFramer(
            SUFFIX_BYTES[config.suffix],
            max_frame=config.max_length + 8,
            inter_byte_timeout_s=config.inter_byte_timeout_s,
        )

    @property
    def pending_bytes(self) -> int:
        """Bytes of an incomplete frame held now (waiting for the suffix)."""
        return self._framer.pending

    def start(self) -> None:
        """Open the port in the background and read until :meth:`stop`."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._set_state(ScannerState.CONNECTING)
        self._thread = threading.Thread(target=self._run, name=f"scanner-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the reader thread and close the port; idempotent."""
        self._stop.set()
        port = self._port
        if port is not None and hasattr(port, "cancel_read"):
            with contextlib.suppress(Exception):
                port.cancel_read()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        self._set_state(ScannerState.STOPPED)

    # -- the reader thread -------------------------------------------------------------

    def _run(self) -> None:
        cfg = self.config
        backoff = Backoff(cfg.reconnect_min_s, cfg.reconnect_max_s)
        framer = self._framer
        opened_before = False
        while not self._stop.is_set():
            try:
                port = open_serial(cfg, timeout=self._read_timeout)
            except (OSError, ValueError, serial.SerialException) as exc:
                self._set_state(ScannerState.DISCONNECTED, f"cannot open {cfg.port}: {exc}")
                self._stop.wait(backoff.next_delay())
                continue
            if opened_before:
                self.counters.reconnects += 1
            opened_before = True
            backoff.reset()
            self._port = port
            self._set_state(ScannerState.READY)
            try:
                self._read(port, framer)
            except (OSError, serial.SerialException) as exc:
                if not self._stop.is_set():
                    lost = framer.drop("the port went away")
                    if lost is not None:
                        self._reject(lost)
                    self._set_state(ScannerState.DISCONNECTED, f"{cfg.port} went away: {exc}")
            finally:
                self._port = None
                with contextlib.suppress(Exception):
                    port.close()
            self._stop.wait(backoff.next_delay())

    def _read(self, port: serial.SerialBase, framer: SerialFramer) -> None:
        while not self._stop.is_set():
            data = port.read(1)
            now = time.monotonic()
            if data:
                waiting = port.in_waiting
                if waiting:
                    data += port.read(waiting)
                for item in framer.feed(data, now):
                    self._deliver(item)
            else:
                expired = framer.expire(now)
                if expired is not None:
                    self._reject(expired)
