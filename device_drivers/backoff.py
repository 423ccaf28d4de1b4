"""Reconnect backoff for device threads: exponential with a cap and a little jitter.

A driver thread that loses its device waits ``next_delay()`` before each reopen attempt and
calls ``reset()`` once the device works again, so a scanner replugged after a minute is back
within ``max_s`` and a dead port is not hammered.
"""

from __future__ import annotations

import random


class Backoff:
    """Delays ``min_s, 2*min_s, 4*min_s ... max_s`` (each with up to ``jitter`` of itself
    added at random), back to ``min_s`` after :meth:`reset`."""

    def __init__(
        self, min_s: float, max_s: float, *, factor: float = 2.0, jitter: float = 0.1
    ) -> None:
        if min_s <= 0 or max_s < min_s or factor < 1 or not 0 <= jitter <= 1:
            raise ValueError("backoff needs 0 < min_s <= max_s, factor >= 1, 0 <= jitter <= 1")
        self.min_s = min_s
        self.max_s = max_s
        self.factor = factor
        self.jitter = jitter
        self.attempts = 0
        self._next = min_s
        self._random = random.Random()

    def next_delay(self) -> float:
        """The wait before the next attempt (grows until ``max_s``)."""
        base = self._next
        self._next = min(self.max_s, self._next * self.factor)
        self.attempts += 1
        return min(self.max_s, base + base * self.jitter * self._random.random())

    def reset(self) -> None:
        """The device works again: the next failure starts from ``min_s``."""
        self._next = self.min_s
        self.attempts = 0
