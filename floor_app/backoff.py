"""Retry delays with jitter, for every reconnecting thread: drivers, the MQTT link, the hub.

Delays grow by ``factor`` from ``min_s`` to the ceiling ``max_s``; each is shortened by up to
``jitter`` of itself at random, so a site full of devices does not reconnect in lock-step
after a broker restart, and a dead serial port is not hammered.
"""

from __future__ import annotations

import random


class Backoff:
    """Delays for successive failed attempts; :meth:`reset` after a success."""

    def __init__(
        self,
        min_s: float,
        max_s: float,
        *,
        factor: float = 2.0,
        jitter: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        if min_s <= 0 or max_s < min_s:
            raise ValueError("backoff needs 0 < min_s <= max_s")
        if factor < 1:
            raise ValueError("backoff needs a factor of at least 1")
        if not 0 <= jitter <= 1:
            raise ValueError("jitter is a share between 0 and 1")
        self.min_s = min_s
        self.max_s = max_s
        self.factor = factor
        self.jitter = jitter
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """The delay before the next attempt (and count one more failure)."""
        base = min(self.max_s, self.min_s * self.factor ** min(self.failures, 64))
        self.failures += 1
        return float(base * (1.0 - self.jitter * self._rng.random()))

    def reset(self) -> None:
        """Start again from the minimum (after a successful attempt)."""
        self.failures = 0
