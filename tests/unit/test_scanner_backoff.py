"""Backoff: doubles to a cap, jitter bounded, reset starts over."""

from __future__ import annotations

import pytest

from device_drivers.backoff import Backoff

pytestmark = pytest.mark.unit


def test_grows_to_the_cap_and_resets() -> None:
    backoff = Backoff(0.1, 1.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(6)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    backoff.reset()
    assert backoff.next_delay() == pytest.approx(0.1)


def test_jitter_stays_within_bounds() -> None:
    backoff = Backoff(0.1, 0.5, jitter=0.5)
    for _ in range(50):
        assert 0.1 <= backoff.next_delay() <= 0.5


def test_bad_parameters() -> None:
    with pytest.raises(ValueError):
        Backoff(0, 1)
    with pytest.raises(ValueError):
        Backoff(2, 1)
