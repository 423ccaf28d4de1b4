"""Input that comes while its screen is still being built waits for that screen.

A scanner types its next code the moment the badge is read, and a person scans as soon as
the prompt shows; meanwhile the app may be starting, or the next screen may still be
composing (no field has the focus yet, its widgets are not all there). Textual gives such
keys to whatever holds the focus at the time, or to the screen itself, where they vanish
or reach a handler that cannot find its widgets.

So every key, paste and scan passes :class:`InputGate` first. While the current screen is
not ready (a floor screen is ready once it is mounted and has set its focus; Textual's
blank screen before the first one never is) the gate holds them, in order; once the
screen is ready they are delivered to it, in the order they came, before anything typed
after them, quit keys too (ctrl+q asks about what is on screen, so it keeps its place).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from textual.app import ScreenStackError
from textual.message import Message

if TYPE_CHECKING:
    from textual.app import App

log = logging.getLogger("floor.ui")

#: the most input held for a screen that is not ready (some 60 scans); more is dropped,
#: logged and said on the screen once it is ready
LIMIT = 4096


def screen_ready(app: App[Any]) -> bool:
    """True when the app's current screen takes input: a floor screen once mounted,
    any other screen but Textual's blank first one."""
    try:
        screen = app.screen
    except ScreenStackError:
        return False
    if screen.id == "_default":
        return False
    return bool(getattr(screen, "floor_ready", True))


class InputGate:
    """Holds input while the app's screen is not ready; ``deliver`` hands it on."""

    def __init__(
        self,
        app: App[Any],
        deliver: Callable[[Message], Awaitable[None]],
        dropped: Callable[[int], None],
    ) -> None:
        self.app = app
        self._deliver = deliver
        self._dropped_note = dropped
        self._held: deque[Message] = deque()
        self._dropped = 0

    @property
    def holding(self) -> int:
        """How many keys, pastes and scans wait."""
        return len(self._held)

    def hold(self, item: Message) -> bool:
        """Take ``item`` if it must wait (True): its screen is not ready, or input that came
        before it still waits. False: deliver it now as usual."""
        ready = screen_ready(self.app)
        if ready and not self._held:
            return False
        if len(self._held) >= LIMIT:
            self._dropped += 1
        else:
            self._held.append(item)
        if ready:  # the screen became ready and its turn to take what waits is queued
            self.app.call_later(self.release)
        return True

    def opened(self) -> None:
        """The current screen is ready: what waits goes to it (on the app's own queue,
        after the focus the screen set while mounting)."""
        self.app.call_later(self.release)

    async def release(self) -> None:
        """Deliver what waits, in order, while the current screen stays ready (a scan that
        opens another screen leaves the rest for that one)."""
        while self._held and screen_ready(self.app):
            await self._deliver(self._held.popleft())
        if self._dropped and not self._held:
            dropped, self._dropped = self._dropped, 0
            log.warning("%d keys typed while a screen was loading were dropped", dropped)
            self._dropped_note(dropped)
