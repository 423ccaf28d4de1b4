"""FakeScale: a plausible demo weight, zero/tare, and each fault as the real driver's error."""

from __future__ import annotations

from decimal import Decimal

import pytest

from device_drivers.base import ScaleState
from device_drivers.fakes import FakeScale
from device_drivers.weighing import (
    ScaleNotReady,
    ScaleOverload,
    ScaleRefused,
    ScaleTimeout,
    ScaleUnderload,
)

pytestmark = pytest.mark.unit


def test_demo_scale_settles_on_a_parcel() -> None:
    scale = FakeScale.demo()
    scale.start()
    first = scale.read(stable=False)
    assert not first.stable
    weight = scale.read()
    assert weight.stable and weight.unit == "kg"
    assert 100 <= weight.grams <= 30_000


def test_tare_and_zero() -> None:
    scale = FakeScale(weight=Decimal("0.300"))
    scale.start()
    assert scale.tare().value == Decimal("0.300")
    scale.place("1.500")
    assert scale.read().value == Decimal("1.200")
    scale.zero()
    assert scale.read().value == Decimal("0.000")


def test_faults_raise_scale_errors_with_reasons() -> None:
    scale = FakeScale(weight=Decimal(1))
    scale.start()
    scale.overload()
    with pytest.raises(ScaleOverload):
        scale.read()
    scale.overload(False)
    scale.underload()
    with pytest.raises(ScaleUnderload):
        scale.read()
    scale.underload(False)
    scale.never_stable()
    with pytest.raises(ScaleTimeout):
        scale.read(timeout=0.05)
    with pytest.raises(ScaleRefused):
        scale.tare()
    scale.unstable_for(0)
    scale.unplug()
    assert scale.state is ScaleState.DISCONNECTED and scale.last_error == "cable pulled"
    with pytest.raises(ScaleNotReady, match="cable pulled"):
        scale.read()
    scale.replug()
    assert scale.read().value == Decimal(1)


def test_unstable_readings_are_skipped_for_a_stable_read() -> None:
    scale = FakeScale(weight=Decimal("2.000"))
    scale.start()
    scale.unstable_for(3)
    assert scale.read(timeout=1.0).value == Decimal("2.000")
