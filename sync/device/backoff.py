"""Reconnect backoff with jitter: exponential growth to a ceiling, randomised so a site full
of devices does not reconnect in lock-step after a broker restart."""

from __future__ import annotations

import random


class Backoff:
    """Delays for successive failed attempts; :meth:`reset` after a success."""

    def __init__(
        self,
        minimum: float,
        maximum: float,
        *,
        jitter: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        if minimum <= 0 or maximum < minimum:
            raise ValueError("backoff needs 0 < minimum <= maximum")
        if not 0 <= jitter <= 1:
            raise ValueError("jitter is a share between 0 and 1")
        self.minimum = minimum
        self.maximum = maximum
        self.jitter = jitter
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """The delay before the next attempt (and count one more failure)."""
        base = min(self.maximum, self.minimum * 2.0 ** min(self.failures, 30))
        self.failures += 1
        return float(base * (1.0 - self.jitter * self._rng.random()))

    def reset(self) -> None:
        """Start again from the minimum (after a successful connection)."""
        self.failures = 0
