"""What scales say, parsed: MT-SICS replies, continuous-output lines, units, stable weight.

Pure functions and small classes (no I/O) used by :mod:`device_drivers.scale` and tested on
their own.

MT-SICS (Mettler Toledo Standard Interface Command Set), the replies this floor uses::

    S S     100.00 g      stable weight (reply to S, or to SI when stable)
    S D     100.02 g      dynamic (not yet stable) weight (reply to SI)
    S I                   command understood but not executable now (busy, timeout)
    S +   /  S -          overload / underload
    Z A                   zeroed;  Z I  not now;  Z + / Z -  outside the zero range
    T S     12.30 g       tared with 12.30 g;  T I  not now;  T + / T -  outside the range
    ES / ET / EL          syntax error / transmission error / logical error

Some scales (and the ``mt-sics-emulator``) echo ``SI`` instead of ``S`` in the reply to SI;
both are accepted.

Continuous output (A&D style, common on bench indicators): the scale sends a line several
times a second, ``ST,GS,+0001.234kg``: ``ST`` stable, ``US`` unstable, ``OL`` overload;
``GS`` gross, ``NT`` net, ``TR`` tare. Lines with only a weight (``  1.234 kg``) carry no
stability flag; then :class:`StabilityDetector` decides: ``N`` readings in a row within a
tolerance are stable.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum


class ScaleError(Exception):
    """A scale could not give what was asked; the message says why, for the packer."""


class ScaleNotReady(ScaleError):
    """The scale is not connected or does not answer."""


class ScaleTimeout(ScaleError):
    """No (stable) answer within the time allowed."""


class ScaleOverload(ScaleError):
    """More on the scale than it can weigh."""


class ScaleUnderload(ScaleError):
    """Below the scale's lower limit (a tare larger than the load, a lifted pan)."""


class ScaleRefused(ScaleError):
    """The scale understood the command but cannot do it now, or rejected it."""


UNITS: dict[str, tuple[str, Decimal]] = {
    "g": ("g", Decimal(1)),
    "kg": ("kg", Decimal(1)),
    "mg": ("g", Decimal("0.001")),
    "t": ("kg", Decimal(1000)),
    "lb": ("lb", Decimal(1)),
    "lbs": ("lb", Decimal(1)),
    "oz": ("oz", Decimal(1)),
}
"""Unit as the scale writes it -> (unit of :class:`~device_drivers.base.Weight`, factor)."""


def normalise_unit(value: Decimal, unit: str) -> tuple[Decimal, str]:
    """``(value, unit)`` in one of g, kg, lb, oz; raises ScaleError for other units."""
    try:
        target, factor = UNITS[unit.strip().lower()]
    except KeyError:
        raise ScaleError(f"unit {unit!r} is not supported (g, kg, mg, t, lb, oz)") from None
    return value * factor, target


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(" ", ""))
    except InvalidOperation:
        raise ScaleError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ScaleError(f"{text!r} is not a number")
    return value


class SicsStatus(StrEnum):
    """The status field of an MT-SICS reply."""

    STABLE = "S"
    DYNAMIC = "D"
    DONE = "A"
    NOT_NOW = "I"
    OVER = "+"
    UNDER = "-"
    LOGICAL_ERROR = "L"


@dataclass(frozen=True, slots=True)
class SicsReply:
    """One MT-SICS reply line: the command it answers, its status and the weight if any."""

    command: str
    status: SicsStatus | None
    value: Decimal | None = None
    unit: str = ""
    error: str = ""

    @property
    def is_error(self) -> bool:
        """``ES``/``ET``/``EL``: the scale did not understand or could not take the command."""
        return bool(self.error)


_SICS_ERRORS = {
    "ES": "syntax error (the scale does not know the command)",
    "ET": "transmission error (check baud rate and framing)",
    "EL": "logical error (the command is not possible now)",
}
_SICS_WEIGHT = re.compile(r"^([+-]?\s*\d+(?:\.\d*)?)\s*([A-Za-z]+)$")


def parse_sics(line: str) -> SicsReply:
    """Parse one reply line (without CR LF); raises ScaleError for anything else."""
    text = line.strip()
    if text in _SICS_ERRORS:
        return SicsReply(text, None, error=_SICS_ERRORS[text])
    parts = text.split(None, 2)
    if len(parts) < 2 or not parts[0].isalnum() or not parts[0][:1].isalpha():
        raise ScaleError(f"not an MT-SICS reply: {line[:40]!r}")
    command = "S" if parts[0].upper() == "SI" else parts[0].upper()
    try:
        status = SicsStatus(parts[1])
    except ValueError:
        raise ScaleError(f"unknown MT-SICS status {parts[1]!r} in {line[:40]!r}") from None
    if len(parts) == 2:
        return SicsReply(command, status)
    match = _SICS_WEIGHT.match(parts[2].strip())
    if match is None:
        if parts[2].startswith('"'):  # I4 A "serial" and other text replies
            return SicsReply(command, status)
        raise ScaleError(f"no weight in MT-SICS reply {line[:40]!r}")
    value, unit = normalise_unit(_decimal(match.group(1)), match.group(2))
    return SicsReply(command, status, value, unit)


@dataclass(frozen=True, slots=True)
class Reading:
    """One weight a scale sent by itself (continuous output)."""

    value: Decimal
    unit: str
    stable: bool | None
    """The scale's own stability flag; None when its format has none."""
    overload: bool = False
    kind: str = "GS"
    """GS gross, NT net, TR tare."""


_CONTINUOUS = re.compile(
    r"^(?:(?P<flag>ST|US|OL|QT|WT),(?:(?P<kind>GS|NT|TR|GW|NW),)?)?"
    r"\s*(?P<value>[+-]?\s*\d+(?:\.\d*)?)\s*(?P<unit>[A-Za-z]+)\s*$"
)
_OVERLOAD = re.compile(r"^OL,(?:(?:GS|NT|TR|GW|NW),)?")


def parse_continuous(line: str) -> Reading:
    """Parse one continuous-output line; raises ScaleError for anything else."""
    text = line.strip()
    if _OVERLOAD.match(text):
        return Reading(Decimal(0), "", stable=False, overload=True)
    match = _CONTINUOUS.match(text)
    if match is None:
        raise ScaleError(f"not a weight line: {line[:40]!r}")
    value, unit = normalise_unit(_decimal(match.group("value")), match.group("unit"))
    flag = match.group("flag")
    stable = None if flag is None else flag in ("ST", "QT")
    kind = {"GW": "GS", "NW": "NT"}.get(match.group("kind") or "GS", match.group("kind") or "GS")
    return Reading(value, unit, stable, kind=kind)


class StabilityDetector:
    """Stable weight for scales that do not say: ``readings`` values in a row whose spread
    is at most ``tolerance`` (in the scale's unit), all in the same unit."""

    def __init__(self, readings: int = 5, tolerance: Decimal = Decimal("0.002")) -> None:
        if readings < 2:
            raise ValueError("stability needs at least two readings")
        self.readings = readings
        self.tolerance = tolerance
        self._window: deque[tuple[Decimal, str]] = deque(maxlen=readings)

    def feed(self, value: Decimal, unit: str) -> bool:
        """Add a reading; True when the last ``readings`` ones count as stable."""
        if self._window and self._window[-1][1] != unit:
            self._window.clear()
        self._window.append((value, unit))
        if len(self._window) < self.readings:
            return False
        values = [v for v, _ in self._window]
        return max(values) - min(values) <= self.tolerance

    def reset(self) -> None:
        """Start over (after zero, tare or a reconnect)."""
        self._window.clear()
