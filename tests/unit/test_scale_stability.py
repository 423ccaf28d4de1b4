"""StabilityDetector: N readings in a row within a tolerance, same unit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from device_drivers.weighing import StabilityDetector

pytestmark = pytest.mark.unit


def feed(detector: StabilityDetector, values: list[str], unit: str = "kg") -> list[bool]:
    return [detector.feed(Decimal(v), unit) for v in values]


def test_stable_after_n_close_readings() -> None:
    d = StabilityDetector(3, Decimal("0.002"))
    assert feed(d, ["1.200", "1.201", "1.202"]) == [False, False, True]


def test_a_swing_resets_the_run() -> None:
    d = StabilityDetector(3, Decimal("0.002"))
    assert feed(d, ["1.200", "1.201", "1.250", "1.251", "1.250", "1.251"]) == [
        False,
        False,
        False,
        False,
        True,
        True,
    ]


def test_unit_change_starts_over() -> None:
    d = StabilityDetector(2, Decimal("0.01"))
    assert feed(d, ["1.00", "1.00"]) == [False, True]
    assert d.feed(Decimal("1.00"), "lb") is False


def test_reset_and_bad_size() -> None:
    d = StabilityDetector(2, Decimal(0))
    feed(d, ["1", "1"])
    d.reset()
    assert d.feed(Decimal(1), "kg") is False
    with pytest.raises(ValueError):
        StabilityDetector(1)
