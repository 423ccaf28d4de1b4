"""A keyboard-wedge scanner: a scanner that types into the terminal like a keyboard.

The terminal cannot tell a scanner from a person: both arrive as keys. This module tells
them apart by **timing** and the **terminating key**, so that a barcode is never typed into
the field that has focus (the quantity field never swallows a barcode) and a person's typing
still reaches it.

How the UI uses it
------------------
Route every key through one :class:`KeyboardWedgeScanner` (or a bare
:class:`WedgeDecoder`) before any input widget sees it::

    events = wedge.feed(key, t)      # key: event.character if printable, else event.key
    for event in events:             # t: event.time (monotonic seconds)
        if isinstance(event, HumanKeys):
            for k in event.keys: ...  # give k to the focused widget, in order
        # WedgeScan: already delivered to on_scan() listeners, like any scanner
        # WedgeRejected: already counted and in last_error; show it if you like
    if wedge.deadline is not None:    # keys still held back:
        set a timer for wedge.deadline and then call wedge.flush(now)

``feed(key: str, t: float) -> list[WedgeEvent]``

* ``key`` is one character (``"7"``, ``"A"``, ``"\\x1d"``) or a key name (``"enter"``,
  ``"tab"``, ``"backspace"``, ``"escape"``, ``"ctrl+right_square_bracket"`` ...). ``"\\r"``
  and ``"\\n"`` mean Enter, ``"\\t"`` Tab; Ctrl+] is the GS1 group separator (0x1D).
* Characters are held back while they come faster than ``max_interkey_s`` (35 ms by
  default; people type at 80 ms a key or slower, scanners at a few ms).
* A fast burst of at least ``min_length`` characters ended by Enter or Tab (within the same
  window) is a **scan**: :class:`WedgeScan`, and the keys never reach a widget.
* Held characters become :class:`HumanKeys` (in order) once the window passes without
  another key, or when a slow key, a non-character key, or a terminator after a short or
  slow sequence arrives. A person's keys therefore arrive at most ``max_interkey_s`` late.
* A fast burst of ``min_length`` or more characters that ends in silence, without a
  terminator, is :class:`WedgeRejected` (``no_terminator``): it looks like a scan whose
  suffix was lost, so it is neither a scan nor typed into a field. With ``terminators``
  configured empty, such a burst is the scan.
* The same code again right after itself within ``dedupe_window_s`` (a double send) is
  dropped and counted; after another code it is a scan of its own (case A, case B, case A
  counts three cases however fast).

``flush(now)`` releases what the window has passed for; ``deadline`` says when that is.
The classifier is pure (time is passed in) and has no Textual in it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from device_drivers.base import DetailValue, Scan, Scanner, ScannerState
from device_drivers.config import WedgeScannerConfig
from device_drivers.scan_rules import (
    Rejection,
    RejectReason,
    ScannerCounters,
    ScanRules,
)

GS = "\x1d"

_KEY_NAMES = {
    "\r": "enter",
    "\n": "enter",
    "return": "enter",
    "ctrl+m": "enter",
    "ctrl+j": "enter",
    "\t": "tab",
    "ctrl+i": "tab",
    "ctrl+right_square_bracket": GS,
    "ctrl+]": GS,
    "space": " ",
}


@dataclass(frozen=True, slots=True)
class WedgeScan:
    """A scanner burst: one complete code."""

    scan: Scan


@dataclass(frozen=True, slots=True)
class HumanKeys:
    """Keys a person typed, released to the focused widget in this order."""

    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WedgeRejected:
    """A burst that is neither a scan nor typing (no terminator, garbage, wrong symbology)."""

    rejection: Rejection


WedgeEvent = WedgeScan | HumanKeys | WedgeRejected
"""What :meth:`WedgeDecoder.feed` and :meth:`WedgeDecoder.flush` return."""


def normalise_key(key: str) -> str:
    """One character, or a lower-case key name (``enter``, ``tab``, ``backspace`` ...)."""
    if key in _KEY_NAMES:
        return _KEY_NAMES[key]
    if len(key) == 1:
        return key
    lowered = key.lower()
    return _KEY_NAMES.get(lowered, lowered)


class WedgeDecoder:
    """Tells scanner bursts from typing; pure (the caller passes the time). See the module
    docstring for the rules."""

    def __init__(self, config: WedgeScannerConfig | None = None, *, source: str = "") -> None:
        self.config = config or WedgeScannerConfig()
        self.source = source or self.config.name
        self.rules = ScanRules(
            min_length=1,
            max_length=self.config.max_length,
            symbologies=frozenset(self.config.symbologies),
        )
        self.counters = ScannerCounters()
        self._terminators = frozenset(self.config.terminators)
        self._pending: list[str] = []
        self._last_t: float | None = None
        #: the last scan and when it came (a double send repeats it at once)
        self._last_scan: tuple[str, float] | None = None

    @property
    def deadline(self) -> float | None:
        """When held-back keys must be released by :meth:`flush` (None: nothing held)."""
        if not self._pending or self._last_t is None:
            return None
        return self._last_t + self.config.max_interkey_s

    def feed(self, key: str, t: float) -> list[WedgeEvent]:
        """One key from the terminal at ``t`` (monotonic seconds)."""
        key = normalise_key(key)
        events = self.flush(t)
        if len(key) == 1:
            self._pending.append(key)
            self._last_t = t
            return events
        if key in self._terminators and self._is_burst_end(t):
            events.extend(self._complete(t))
            return events
        events.extend(self._release())
        events.append(HumanKeys((key,)))
        return events

    def flush(self, now: float) -> list[WedgeEvent]:
        """Release held keys whose window has passed (call at :attr:`deadline`)."""
        if not self._pending or self._last_t is None:
            return []
        if now - self._last_t <= self.config.max_interkey_s:
            return []
        if len(self._pending) >= self.config.min_length:
            if not self._terminators:
                return self._complete(self._last_t)
            text = "".join(self._pending)
            self._pending.clear()
            rejection = Rejection(
                RejectReason.NO_TERMINATOR,
                f"fast burst of {len(text)} keys ended without Enter or Tab",
                text.encode("utf-8", "replace")[:64],
            )
            self.counters.rejected[rejection.reason] += 1
            return [WedgeRejected(rejection)]
        return self._release()

    def _is_burst_end(self, t: float) -> bool:
        return (
            len(self._pending) >= self.config.min_length
            and self._last_t is not None
            and t - self._last_t <= self.config.max_interkey_s
        )

    def _release(self) -> list[WedgeEvent]:
        if not self._pending:
            return []
        keys = tuple(self._pending)
        self._pending.clear()
        return [HumanKeys(keys)]

    def _complete(self, t: float) -> list[WedgeEvent]:
        text = "".join(self._pending)
        self._pending.clear()
        result = self.rules.check_text(text, self.source)
        if isinstance(result, Rejection):
            self.counters.rejected[result.reason] += 1
            return [WedgeRejected(result)]
        last = self._last_scan
        if (
            last is not None
            and last[0] == result.with_aim
            and t - last[1] <= self.config.dedupe_window_s
        ):  # the window runs from the scan taken: a repeat does not slide it on
            self.counters.duplicates += 1
            return []
        self._last_scan = (result.with_aim, t)
        self.counters.scans += 1
        return [WedgeScan(result)]


class KeyboardWedgeScanner(Scanner):
    """The keyboard wedge as a :class:`~device_drivers.base.Scanner`: the UI calls
    :meth:`feed` with every key; scans go to ``on_scan`` listeners like any scanner's, and
    the returned events carry the keys a person typed. Always ``ready`` once started: a
    wedge cannot be detected until it types."""

    def details(self) -> dict[str, DetailValue]:
        return {**super().details(), **self.counters.as_dict()}

    def __init__(self, config: WedgeScannerConfig | None = None) -> None:
        config = config or WedgeScannerConfig()
        super().__init__(config.name, required=config.required)
        self.config = config
        self.decoder = WedgeDecoder(config)

    @property
    def counters(self) -> ScannerCounters:
        """Scans, rejections and duplicates seen."""
        return self.decoder.counters

    @property
    def deadline(self) -> float | None:
        """When :meth:`flush` must be called to release held keys (None: nothing held)."""
        return self.decoder.deadline

    def start(self) -> None:
        """Nothing to open: the terminal is the device."""
        self._set_state(ScannerState.READY)

    def stop(self) -> None:
        """Stop taking scans; held keys are dropped."""
        self.decoder = WedgeDecoder(self.config)
        self._set_state(ScannerState.STOPPED)

    def feed(self, key: str, t: float | None = None) -> list[WedgeEvent]:
        """One key (``t``: monotonic seconds, default now). See :class:`WedgeDecoder`."""
        return self._handle(self.decoder.feed(key, time.monotonic() if t is None else t))

    def flush(self, now: float | None = None) -> list[WedgeEvent]:
        """Release keys held past their window."""
        return self._handle(self.decoder.flush(time.monotonic() if now is None else now))

    def _handle(self, events: list[WedgeEvent]) -> list[WedgeEvent]:
        if self.state is not ScannerState.READY:
            return [e for e in events if isinstance(e, HumanKeys)]
        for event in events:
            if isinstance(event, WedgeScan):
                self._emit_scan(event.scan)
            elif isinstance(event, WedgeRejected):
                self._set_state(self.state, event.rejection.message)
        return events
