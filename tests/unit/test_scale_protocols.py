"""MT-SICS replies and continuous-output lines parsed; units normalised; bad lines refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from device_drivers.weighing import (
    ScaleError,
    SicsStatus,
    normalise_unit,
    parse_continuous,
    parse_sics,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("line", "command", "status", "value", "unit"),
    [
        ("S S     100.00 g", "S", SicsStatus.STABLE, Decimal("100.00"), "g"),
        ("S D      12.502 kg", "S", SicsStatus.DYNAMIC, Decimal("12.502"), "kg"),
        ("SI S       0.50 kg", "S", SicsStatus.STABLE, Decimal("0.50"), "kg"),
        ("S S      -1.25 lb", "S", SicsStatus.STABLE, Decimal("-1.25"), "lb"),
        ("S S   1250.0 mg", "S", SicsStatus.STABLE, Decimal("1.25"), "g"),
        ("T S      12.30 g", "T", SicsStatus.STABLE, Decimal("12.30"), "g"),
        ("S I", "S", SicsStatus.NOT_NOW, None, ""),
        ("S +", "S", SicsStatus.OVER, None, ""),
        ("S -", "S", SicsStatus.UNDER, None, ""),
        ("Z A", "Z", SicsStatus.DONE, None, ""),
        ("Z I", "Z", SicsStatus.NOT_NOW, None, ""),
        ("Z +", "Z", SicsStatus.OVER, None, ""),
        ("T I", "T", SicsStatus.NOT_NOW, None, ""),
        ('I4 A "B123456789"', "I4", SicsStatus.DONE, None, ""),
    ],
)
def test_sics_replies(
    line: str, command: str, status: SicsStatus, value: Decimal | None, unit: str
) -> None:
    reply = parse_sics(line)
    assert (reply.command, reply.status, reply.value, reply.unit) == (command, status, value, unit)
    assert not reply.is_error


@pytest.mark.parametrize("line", ["ES", "ET", "EL"])
def test_sics_error_replies(line: str) -> None:
    reply = parse_sics(line)
    assert reply.is_error and reply.error


@pytest.mark.parametrize(
    "line",
    ["", "garbage", "S Q 1.0 g", "S S abc g", "S S 12.0 furlongs", "\x00\x01", "S S 1e999 g"],
)
def test_sics_nonsense_is_an_error_not_a_weight(line: str) -> None:
    with pytest.raises(ScaleError):
        parse_sics(line)


@pytest.mark.parametrize(
    ("line", "value", "unit", "stable", "kind"),
    [
        ("ST,GS,+0001.234kg", Decimal("1.234"), "kg", True, "GS"),
        ("US,GS,+0001.236kg", Decimal("1.236"), "kg", False, "GS"),
        ("ST,NT,-0000.120kg", Decimal("-0.120"), "kg", True, "NT"),
        ("ST,GS,+  12.50 lb", Decimal("12.50"), "lb", True, "GS"),
        ("  1.234 kg", Decimal("1.234"), "kg", None, "GS"),
        ("+00250.0 g", Decimal("250.0"), "g", None, "GS"),
    ],
)
def test_continuous_lines(
    line: str, value: Decimal, unit: str, stable: bool | None, kind: str
) -> None:
    reading = parse_continuous(line)
    assert (reading.value, reading.unit, reading.stable, reading.kind) == (
        value,
        unit,
        stable,
        kind,
    )
    assert not reading.overload


def test_continuous_overload() -> None:
    assert parse_continuous("OL,GS,+9999.999kg").overload


@pytest.mark.parametrize("line", ["ST,GS,+0001.234", "XX,GS,1kg", "ST,GS,+1.0parsecs", "%%%"])
def test_continuous_nonsense(line: str) -> None:
    with pytest.raises(ScaleError):
        parse_continuous(line)


def test_units() -> None:
    assert normalise_unit(Decimal("2"), "t") == (Decimal("2000"), "kg")
    assert normalise_unit(Decimal("3"), "LBS") == (Decimal("3"), "lb")
    with pytest.raises(ScaleError, match="not supported"):
        normalise_unit(Decimal("1"), "ct")
