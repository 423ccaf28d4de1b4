"""The MT-SICS scale driver against a small MT-SICS scale on a real pseudo-terminal."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from drivers_pty import SicsScaleOnPty, wait_for

from device_drivers.base import ScaleState
from device_drivers.config import ScaleConfig
from device_drivers.scale import SerialScale
from device_drivers.weighing import (
    ScaleNotReady,
    ScaleOverload,
    ScaleRefused,
    ScaleTimeout,
    ScaleUnderload,
)

pytestmark = pytest.mark.integration


def make_scale(port: str, **extra: object) -> SerialScale:
    return SerialScale(
        ScaleConfig.model_validate(
            {
                "port": port,
                "command_timeout_s": 0.5,
                "poll_interval_s": 0.01,
                "reconnect_min_s": 0.05,
                "reconnect_max_s": 0.2,
                **extra,
            }
        )
    )


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[tuple[SicsScaleOnPty, SerialScale, Path]]:
    emulator = SicsScaleOnPty()
    link = tmp_path / "usb-Mettler_Toledo-if00"
    emulator.device.link(link)
    scale = make_scale(str(link))
    scale.start()
    assert wait_for(lambda: scale.state is ScaleState.READY), scale.last_error
    yield emulator, scale, link
    scale.stop()
    emulator.unplug()


def test_stable_and_immediate_weight(bench: tuple[SicsScaleOnPty, SerialScale, Path]) -> None:
    emulator, scale, _ = bench
    emulator.weight = Decimal("2.345")
    weight = scale.read()
    assert (weight.value, weight.unit, weight.stable) == (Decimal("2.345"), "kg", True)
    assert weight.grams == 2345 and weight.source == "scale"
    emulator.stable = False
    now = scale.read(stable=False)
    assert not now.stable and now.value == Decimal("2.345")
    assert emulator.commands[-1] == "SI"


def test_waits_for_stability(bench: tuple[SicsScaleOnPty, SerialScale, Path]) -> None:
    emulator, scale, _ = bench
    emulator.weight = Decimal("0.800")
    emulator.unstable_replies = 3  # S I, S I, S I, then S S
    assert scale.read(timeout=5.0).value == Decimal("0.800")
    assert emulator.commands.count("S") >= 4


def test_never_stable_times_out(bench: tuple[SicsScaleOnPty, SerialScale, Path]) -> None:
    emulator, scale, _ = bench
    emulator.stable = False
    with pytest.raises(ScaleTimeout, match="no stable weight"):
        scale.read(timeout=0.3)


def test_a_read_that_gives_up_first_leaves_a_slow_scale_ready(
    bench: tuple[SicsScaleOnPty, SerialScale, Path],
) -> None:
    """The caller's deadline ends before the scale answers (within its own answer time): the
    read times out, the late answer is dropped, and the scale is not taken for silent."""
    emulator, scale, _ = bench
    emulator.weight = Decimal("1.200")
    emulator.reply_delay_s = 0.25  # within command_timeout_s (0.5)
    with pytest.raises(ScaleTimeout, match=r"no stable weight within 0\.1 s"):
        scale.read(timeout=0.1)
    assert scale.read(timeout=2.0).value == Decimal("1.200")
    assert scale.state is ScaleState.READY, scale.last_error


def test_zero_and_tare(bench: tuple[SicsScaleOnPty, SerialScale, Path]) -> None:
    emulator, scale, _ = bench
    emulator.weight = Decimal("0.250")  # the empty carton
    assert scale.tare().value == Decimal("0.250")
    emulator.weight = Decimal("1.750")
    assert scale.read().value == Decimal("1.500")
    emulator.weight = Decimal("0.010")
    emulator.tare = Decimal(0)
    scale.zero()
    assert scale.read().value == Decimal("0.000")


def test_zero_and_tare_refused(bench: tuple[SicsScaleOnPty, SerialScale, Path]) -> None:
    emulator, scale, _ = bench
    emulator.weight = Decimal("50")
    with pytest.raises(ScaleRefused, match="zero range"):
        scale.zero()
    emulator.stable = False
    with pytest.raises(ScaleRefused, match="cannot tare"):
        scale.tare()


def test_overload_and_underload(bench: tuple[SicsScaleOnPty, SerialScale, Path]) -> None:
    emulator, scale, _ = bench
    emulator.overload = True
    with pytest.raises(ScaleOverload):
        scale.read()
    emulator.overload, emulator.underload = False, True
    with pytest.raises(ScaleUnderload):
        scale.read(stable=False)


def test_garbage_reply_is_counted_and_not_a_weight(
    bench: tuple[SicsScaleOnPty, SerialScale, Path],
) -> None:
    emulator, scale, _ = bench
    errors: list[str] = []
    scale.on_state_change(lambda change: errors.append(change.error))
    emulator.reply_override = b"\x00\xff#garbage#\r\n"
    with pytest.raises(ScaleTimeout):
        scale.read(timeout=0.4)
    assert scale.bad_lines == 1
    assert any("unreadable line" in e for e in errors)
    assert wait_for(lambda: scale.state is ScaleState.READY)
    emulator.weight = Decimal("1.000")
    assert scale.read(timeout=3.0).value == Decimal("1.000")


def test_overlong_reply_is_cut_off(bench: tuple[SicsScaleOnPty, SerialScale, Path]) -> None:
    emulator, scale, _ = bench
    errors: list[str] = []
    scale.on_state_change(lambda change: errors.append(change.error))
    emulator.reply_override = b"S S " + b"9" * 10_000 + b" kg\r\n"
    with pytest.raises(ScaleTimeout):
        scale.read(timeout=0.4)
    assert scale.bad_lines == 1
    assert any("longer than" in e for e in errors)
    assert wait_for(lambda: scale.state is ScaleState.READY)
    assert scale.read(timeout=3.0).value == Decimal("0.000")


def test_silent_scale_becomes_an_error_state(
    bench: tuple[SicsScaleOnPty, SerialScale, Path],
) -> None:
    emulator, scale, _ = bench
    emulator.silent = True
    with pytest.raises(ScaleTimeout):
        scale.read(timeout=0.3)
    assert wait_for(lambda: scale.state is ScaleState.ERROR)
    with pytest.raises(ScaleNotReady):
        scale.read()
    emulator.silent = False
    assert wait_for(lambda: scale.state is ScaleState.READY)


def test_unplug_and_replug(bench: tuple[SicsScaleOnPty, SerialScale, Path]) -> None:
    emulator, scale, link = bench
    emulator.unplug()
    assert wait_for(lambda: scale.state is ScaleState.DISCONNECTED)
    with pytest.raises(ScaleNotReady, match="disconnected"):
        scale.read()
    again = SicsScaleOnPty()
    again.weight = Decimal("3.000")
    again.device.link(link)
    try:
        assert wait_for(lambda: scale.state is ScaleState.READY)
        assert scale.read().value == Decimal("3.000")
        assert scale.reconnects >= 1
    finally:
        again.unplug()


def test_a_port_that_is_not_a_scale_is_not_ready(tmp_path: Path) -> None:
    from drivers_pty import PtyDevice

    mute = PtyDevice()  # opens fine, answers nothing
    scale = make_scale(mute.path)
    scale.start()
    try:
        assert wait_for(lambda: scale.state is ScaleState.ERROR), (scale.state, scale.last_error)
        assert "no answer" in scale.last_error
    finally:
        scale.stop()
        mute.unplug()
