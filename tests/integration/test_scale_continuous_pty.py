"""Continuous-output scale on a real pty: flags, flagless stability, overload, silence,
garbage lines, unplug and replug."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from drivers_pty import ContinuousScaleOnPty, wait_for

from device_drivers.base import ScaleState
from device_drivers.config import ScaleConfig
from device_drivers.scale import SerialScale
from device_drivers.weighing import ScaleNotReady, ScaleOverload, ScaleTimeout

pytestmark = pytest.mark.integration


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[tuple[ContinuousScaleOnPty, SerialScale, Path]]:
    emulator = ContinuousScaleOnPty()
    link = tmp_path / "usb-AND_FX-if00"
    emulator.device.link(link)
    scale = SerialScale(
        ScaleConfig(
            port=str(link),
            protocol="continuous",
            stable_readings=4,
            stable_tolerance=Decimal("0.002"),
            reconnect_min_s=0.05,
            reconnect_max_s=0.2,
        )
    )
    scale.start()
    assert wait_for(lambda: scale.state is ScaleState.READY), scale.last_error
    yield emulator, scale, link
    scale.stop()
    emulator.unplug()


def test_stable_flag_is_used(bench: tuple[ContinuousScaleOnPty, SerialScale, Path]) -> None:
    emulator, scale, _ = bench
    emulator.weight = Decimal("1.234")
    weight = scale.read(timeout=3.0)
    assert (weight.value, weight.unit, weight.stable) == (Decimal("1.234"), "kg", True)


def test_unstable_flag_never_gives_a_stable_weight(
    bench: tuple[ContinuousScaleOnPty, SerialScale, Path],
) -> None:
    emulator, scale, _ = bench
    emulator.flag = "US"
    with pytest.raises(ScaleTimeout, match="stable"):
        scale.read(timeout=0.3)
    now = scale.read(stable=False, timeout=3.0)
    assert not now.stable


def test_flagless_lines_are_judged_by_consecutive_readings(
    bench: tuple[ContinuousScaleOnPty, SerialScale, Path],
) -> None:
    emulator, scale, _ = bench
    emulator.template = "{weight:9.3f} kg"
    emulator.weight = Decimal("2.500")
    weight = scale.read(timeout=3.0)
    assert weight.stable and weight.value == Decimal("2.500")


def test_overload_is_an_error(bench: tuple[ContinuousScaleOnPty, SerialScale, Path]) -> None:
    emulator, scale, _ = bench
    emulator.flag = "OL"
    with pytest.raises(ScaleOverload):
        scale.read(timeout=3.0)


def test_garbage_lines_are_counted_and_skipped(
    bench: tuple[ContinuousScaleOnPty, SerialScale, Path],
) -> None:
    emulator, scale, _ = bench
    emulator.extra = [b"\x00\xff\xfe@@@\r\n", b"ST,GS,+00X1.234kg\r\n", b"9" * 5000 + b"\r\n"]
    assert wait_for(lambda: scale.bad_lines >= 3)
    assert scale.read(timeout=3.0).value == Decimal("1.234")


def test_zero_and_tare_are_sent_as_lines(
    bench: tuple[ContinuousScaleOnPty, SerialScale, Path],
) -> None:
    emulator, scale, _ = bench
    tare = scale.tare()
    assert tare.value == Decimal("1.234")
    scale.zero()
    assert wait_for(lambda: b"T\r\n" in emulator.received and b"Z\r\n" in emulator.received)


def test_silence_is_an_error_state_and_recovers(
    bench: tuple[ContinuousScaleOnPty, SerialScale, Path],
) -> None:
    emulator, scale, _ = bench
    emulator.paused = True
    assert wait_for(lambda: scale.state is ScaleState.ERROR)
    assert "no weight" in scale.last_error
    emulator.paused = False
    assert wait_for(lambda: scale.state is ScaleState.READY)


def test_unplug_and_replug(bench: tuple[ContinuousScaleOnPty, SerialScale, Path]) -> None:
    emulator, scale, link = bench
    emulator.unplug()
    assert wait_for(lambda: scale.state is ScaleState.DISCONNECTED)
    with pytest.raises(ScaleNotReady):
        scale.read()
    again = ContinuousScaleOnPty()
    again.weight = Decimal("0.500")
    again.device.link(link)
    try:
        assert wait_for(lambda: scale.state is ScaleState.READY)
        assert scale.read(timeout=3.0).value == Decimal("0.500")
    finally:
        again.unplug()
