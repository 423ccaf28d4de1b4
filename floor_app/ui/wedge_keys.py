"""Keys typed into the terminal, told apart: a keyboard-wedge scanner's burst or a person.

Every key that reaches a :class:`~floor_app.ui.widgets.scan_input.ScanInput` goes first
through :class:`WedgeKeys`, which feeds it to the device's
:class:`~device_drivers.wedge.KeyboardWedgeScanner` (timing and the terminating key decide):

* a scanner burst ended by Enter or Tab becomes a scan, delivered by the wedge to its
  ``on_scan`` listeners, so the app takes it exactly like a hardware scan (a
  :class:`~floor_app.ui.messages.ScanArrived` message), whichever field has the focus: the
  quantity field never swallows a barcode;
* a person's characters come back as :class:`~device_drivers.wedge.HumanKeys` and are typed
  into the field they were typed in, in order, at most ``max_interkey_s`` late (a timer
  releases them when nothing follows); other keys (Enter after slow typing, Backspace, F6 ...)
  go on to the widget and the bindings as usual, after the held characters;
* a fast burst without a terminator is neither: the screen says so.

Key times come from the terminal's key events (``events.Key.time``, set when the key was
read, so a busy UI does not squeeze a person's keys into a burst). ``key_time`` and ``now``
are hooks: tests replace them with a scripted clock instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import events
from textual.timer import Timer
from textual.widgets import Input

from device_drivers.wedge import HumanKeys, KeyboardWedgeScanner, WedgeEvent, WedgeRejected

if TYPE_CHECKING:
    from floor_app.ui.app import FloorApp

_GS_KEYS = ("ctrl+right_square_bracket", "ctrl+]")
#: keys the terminal sends for Enter and Tab (other names pass through the wedge unchanged)
_TERMINATOR_NAMES = {"enter": "enter", "tab": "tab", "ctrl+m": "enter", "ctrl+i": "tab"}


def key_of(event: events.Key) -> str:
    """What the wedge is fed for ``event``: the character, or the key's name."""
    if event.key in _GS_KEYS:
        return "\x1d"
    if event.is_printable and event.character is not None:
        return event.character
    return _TERMINATOR_NAMES.get(event.key, event.key)


class WedgeKeys:
    """Routes the keys of scan and quantity fields through a keyboard-wedge scanner."""

    def __init__(
        self,
        app: FloorApp,
        wedge: KeyboardWedgeScanner,
        *,
        key_time: Callable[[events.Key], float] | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.wedge = wedge
        self.key_time: Callable[[events.Key], float] = key_time or (lambda event: event.time)
        self.now = now
        self._target: Input | None = None
        self._timer: Timer | None = None

    def key(self, field: Input, event: events.Key) -> bool:
        """Feed one key typed into ``field``; True when it was taken (the widget must not
        see it), False when it goes on to the widget and the bindings as usual."""
        key = key_of(event)
        self._target = field
        results = self.wedge.feed(key, self.key_time(event))
        passes_on = (
            len(key) > 1
            and bool(results)
            and isinstance(results[-1], HumanKeys)
            and results[-1].keys == (key,)
        )
        self._deliver(results[:-1] if passes_on else results)
        self._arm_timer()
        return not passes_on

    def flush(self) -> None:
        """Release held keys whose window has passed by :attr:`now` (the timer calls this)."""
        self._deliver(self.wedge.flush(self.now()))
        self._arm_timer()

    def _arm_timer(self) -> None:
        deadline = self.wedge.deadline
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if deadline is not None:
            delay = max(0.0, deadline - self.now()) + 0.002
            self._timer = self.app.set_timer(delay, self._fire, name="wedge-flush")

    def _fire(self) -> None:
        self._timer = None
        self.flush()

    def _deliver(self, results: list[WedgeEvent]) -> None:
        for result in results:
            if isinstance(result, HumanKeys):
                self._type(result.keys)
            elif isinstance(result, WedgeRejected):
                self.app.wedge_rejected(result.rejection.message)
            # WedgeScan: the wedge already handed it to its on_scan listeners

    def _type(self, keys: tuple[str, ...]) -> None:
        field = self._target
        if field is None or not field.is_attached:
            focused = self.app.focused
            field = focused if isinstance(focused, Input) else None
        if field is None:
            return
        # Only characters are ever held back; a named key goes on to the widget itself.
        field.insert_text_at_cursor("".join(k for k in keys if len(k) == 1))
