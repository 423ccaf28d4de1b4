"""A USB barcode scanner in keyboard (HID) mode, read through evdev and grabbed.

The scanner is an input device (``/dev/input/event*``). It is opened with evdev and grabbed
(``EVIOCGRAB``) so its keystrokes reach only this driver, never the console or another
program. Key events become text through :class:`~device_drivers.keymaps.KeyDecoder` for the
configured layout (US or German); Enter or Tab ends a code. The text then goes through the
same framing and checks as a serial scanner: half a code then silence is dropped, an
overlong or garbage code is rejected and counted, a wrong symbology is refused.

When the device disappears (unplugged), the state becomes ``disconnected`` and the thread
reopens it with backoff, resolving ``/dev/input/by-id/...`` links (or the ``name:`` match)
again each time.

evdev (the PyPI package, a C extension built against the kernel headers) is imported only
when the scanner starts, so the rest of the drivers work on machines without it.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from typing import TYPE_CHECKING

from device_drivers.base import DetailValue, ScannerState
from device_drivers.config import HidScannerConfig
from device_drivers.keymaps import KeyDecoder
from device_drivers.scan_rules import Rejection, RuledScanner, ScannerCounters, ScanRules
from device_drivers.serial_scanner import SerialFramer
from floor_app.backoff import Backoff

if TYPE_CHECKING:
    from evdev import InputDevice

EV_KEY = 1
"""evdev event type of key presses (linux/input-event-codes.h)."""

PARTIAL_TIMEOUT_S = 0.5
"""A code whose keys stop arriving for this long without Enter/Tab is dropped."""


class HidCodeAssembler:
    """Key events in, complete codes (text without terminator) and rejections out (pure)."""

    def __init__(self, config: HidScannerConfig) -> None:
        self.decoder = KeyDecoder(config.layout)
        suffix = b"\r" if config.terminator == "enter" else b"\t"
        self.framer = SerialFramer(
            suffix, max_frame=config.max_length * 4 + 16, inter_byte_timeout_s=PARTIAL_TIMEOUT_S
        )

    def feed(self, code: int, value: int, now: float) -> list[bytes | Rejection]:
        """One key event at ``now`` (monotonic seconds)."""
        text = self.decoder.feed(code, value)
        if not text:
            expired = self.framer.expire(now)
            return [expired] if expired is not None else []
        return self.framer.feed(text.encode("utf-8"), now)

    def expire(self, now: float) -> Rejection | None:
        """Drop a code left incomplete for too long."""
        return self.framer.expire(now)

    def drop(self, why: str) -> Rejection | None:
        """The device went away: drop any incomplete code."""
        self.decoder.reset()
        return self.framer.drop(why)


def find_input_device(spec: str) -> str:
    """The event device path for ``spec`` now: a path (links resolved) or ``name:<text>``."""
    if spec.startswith("name:"):
        import evdev

        wanted = spec[len("name:") :].lower()
        for path in evdev.list_devices():
            try:
                device = evdev.InputDevice(path)
            except OSError:
                continue
            try:
                if wanted in device.name.lower():
                    return path
            finally:
                device.close()
        raise FileNotFoundError(f"no input device named like {wanted!r}")
    if not os.path.lexists(spec):
        raise FileNotFoundError(f"{spec} does not exist (scanner unplugged?)")
    return os.path.realpath(spec)


class HidScanner(RuledScanner):
    """A keyboard-mode scanner read through evdev, grabbed; see the module docstring."""

    def details(self) -> dict[str, DetailValue]:
        return {**super().details(), "device": str(self.config.device)}

    def __init__(self, config: HidScannerConfig) -> None:
        super().__init__(config.name, required=config.required)
        self.config = config
        self.counters = ScannerCounters()
        self.rules = ScanRules(
            min_length=config.min_length,
            max_length=config.max_length,
            symbologies=frozenset(config.symbologies),
        )
        self.grabbed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Open and grab the device in the background; read until :meth:`stop`."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._set_state(ScannerState.CONNECTING)
        self._thread = threading.Thread(target=self._run, name=f"hid-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop reading, ungrab and close the device; idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        self._set_state(ScannerState.STOPPED)

    def _open(self) -> InputDevice[str]:
        try:
            import evdev
        except ImportError as exc:
            raise OSError(f"the evdev package is not installed ({exc})") from None
        device = evdev.InputDevice(find_input_device(self.config.device))
        if self.config.grab:
            try:
                device.grab()
            except OSError as exc:
                device.close()
                raise OSError(
                    f"cannot grab {device.path!s} (in use by another program?): {exc}"
                ) from None
            self.grabbed = True
        return device

    def _run(self) -> None:
        cfg = self.config
        backoff = Backoff(cfg.reconnect_min_s, cfg.reconnect_max_s)
        assembler = HidCodeAssembler(cfg)
        opened_before = False
        while not self._stop.is_set():
            try:
                device = self._open()
            except OSError as exc:
                self._set_state(ScannerState.DISCONNECTED, f"cannot open {cfg.device}: {exc}")
                self._stop.wait(backoff.next_delay())
                continue
            if opened_before:
                self.counters.reconnects += 1
            opened_before = True
            backoff.reset()
            self._set_state(ScannerState.READY)
            try:
                self._read(device, assembler)
            except OSError as exc:
                if not self._stop.is_set():
                    lost = assembler.drop("the device went away")
                    if lost is not None:
                        self._reject(lost)
                    self._set_state(ScannerState.DISCONNECTED, f"{cfg.device} went away: {exc}")
            finally:
                self._close(device)
            self._stop.wait(backoff.next_delay())

    def _close(self, device: InputDevice[str]) -> None:
        if self.grabbed:
            with contextlib.suppress(OSError):
                device.ungrab()
            self.grabbed = False
        with contextlib.suppress(OSError):
            device.close()

    def _read(self, device: InputDevice[str], assembler: HidCodeAssembler) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([device.fd], [], [], 0.05)
            now = time.monotonic()
            if not ready:
                expired = assembler.expire(now)
                if expired is not None:
                    self._reject(expired)
                continue
            for event in device.read():
                if event.type != EV_KEY:
                    continue
                for item in assembler.feed(event.code, event.value, now):
                    self._deliver(item)
