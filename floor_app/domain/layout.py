"""The floor's geometry: parallel aisles, cross aisles, a depot, and where each bay is.

A layout has ``aisles`` parallel aisles numbered from 1 (left to right) whose centres are
``aisle_pitch_m`` apart, starting at ``first_aisle_x_m``. Each aisle has ``bays`` bays
numbered from 1 at the front; odd bays face the aisle from the left, even bays from the
right, so bays ``2k-1`` and ``2k`` are opposite each other at the same depth. The front
cross aisle runs along ``y = 0``; bay position ``p`` (0-based, ``p = (bay-1)//2``) is at
``y = cross_aisle_width_m/2 + p * bay_width_m + bay_width_m/2`` plus the width of every
middle cross aisle in front of it. ``middle_cross_after`` lists bay positions after which
a middle cross aisle lies (an empty tuple gives a single-block layout). The depot is where
tours start and end; a picker walks from it straight (along ``y``) to the nearest cross
aisle, so a depot beside the block sits at the end of a cross aisle.

:meth:`Layout.from_dict` (also :func:`layout_from_mapping`) builds a layout from a plain
mapping such as the ``[layout]`` table of a TOML file or an instance file, and names the
offending key in every error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import DomainError
from .location import Side


class LayoutError(DomainError):
    """A layout description is incomplete or impossible; the reason names the key."""


@dataclass(frozen=True, slots=True)
class Layout:
    """A rectangular warehouse block layout (see the module docstring)."""

    aisles: int = 10
    bays: int = 20
    aisle_pitch_m: float = 3.0
    first_aisle_x_m: float = 1.5
    bay_width_m: float = 1.2
    cross_aisle_width_m: float = 2.0
    middle_cross_after: tuple[int, ...] = field(default=())
    depot: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        if self.aisles < 1 or self.bays < 1:
            raise LayoutError("a layout needs at least one aisle and one bay")
        if self.aisle_pitch_m <= 0 or self.bay_width_m <= 0 or self.cross_aisle_width_m <= 0:
            raise LayoutError("layout distances must be positive")
        for p in self.middle_cross_after:
            if not 0 <= p < self.positions - 1:
                raise LayoutError(
                    f"middle cross aisle after bay position {p} is outside 0..{self.positions - 2}"
                )
        if len(set(self.middle_cross_after)) != len(self.middle_cross_after):
            raise LayoutError(
                f"middle_cross_after lists a bay position twice: {list(self.middle_cross_after)}"
            )
        if len(self.depot) != 2 or not all(math.isfinite(v) for v in self.depot):
            raise LayoutError(f"the depot must be two finite coordinates, got {self.depot!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Layout:
        """A layout from a plain mapping (e.g. TOML ``[layout]``); missing keys take defaults.

        Raises :class:`LayoutError` naming the key for an unknown key, a wrong type or an
        impossible value.
        """
        return layout_from_mapping(data)

    def to_dict(self) -> dict[str, Any]:
        """The plain mapping :meth:`from_dict` reads back (lists, not tuples, for JSON/TOML)."""
        return {
            "aisles": self.aisles,
            "bays": self.bays,
            "aisle_pitch_m": self.aisle_pitch_m,
            "first_aisle_x_m": self.first_aisle_x_m,
            "bay_width_m": self.bay_width_m,
            "cross_aisle_width_m": self.cross_aisle_width_m,
            "middle_cross_after": list(self.middle_cross_after),
            "depot": list(self.depot),
        }

    @property
    def positions(self) -> int:
        """Bay positions along an aisle (two bays, left and right, share a position)."""
        return (self.bays + 1) // 2

    @property
    def blocks(self) -> int:
        """Number of blocks (middle cross aisles + 1)."""
        return len(self.middle_cross_after) + 1

    def aisle_x(self, aisle: int) -> float:
        """X of the centre line of ``aisle``."""
        if not 1 <= aisle <= self.aisles:
            raise DomainError(f"aisle {aisle} is not in the layout (1..{self.aisles})")
        return self.first_aisle_x_m + (aisle - 1) * self.aisle_pitch_m

    def position_y(self, position: int) -> float:
        """Y of bay position ``position`` (0-based) on the aisle centre line."""
        if not 0 <= position < self.positions:
            raise DomainError(f"bay position {position} is not in the layout")
        crossings = sum(1 for p in self.middle_cross_after if p < position)
        return (
            self.cross_aisle_width_m / 2
            + crossings * self.cross_aisle_width_m
            + position * self.bay_width_m
            + self.bay_width_m / 2
        )

    def cross_aisle_ys(self) -> list[float]:
        """Y of every cross aisle centre line, front to back."""
        ys = [0.0]
        for p in sorted(self.middle_cross_after):
            ys.append(self.position_y(p) + self.bay_width_m / 2 + self.cross_aisle_width_m / 2)
        ys.append(
            self.position_y(self.positions - 1)
            + self.bay_width_m / 2
            + self.cross_aisle_width_m / 2
        )
        return ys

    def block_of(self, position: int) -> int:
        """The block (0 = front) holding bay position ``position`` (0-based)."""
        if not 0 <= position < self.positions:
            raise LayoutError(f"bay position {position} is not in the layout")
        return sum(1 for p in self.middle_cross_after if p < position)

    def bay_point(self, aisle: int, bay: int) -> tuple[float, float, Side]:
        """Where a picker stands to pick from ``bay`` of ``aisle``: (x, y, side)."""
        if not 1 <= bay <= self.bays:
            raise DomainError(f"bay {bay} is not in the layout (1..{self.bays})")
        side = Side.LEFT if bay % 2 == 1 else Side.RIGHT
        return self.aisle_x(aisle), self.position_y((bay - 1) // 2), side


_INT_KEYS = ("aisles", "bays")
_POSITIVE_KEYS = ("aisle_pitch_m", "bay_width_m", "cross_aisle_width_m")
_KNOWN_KEYS = (
    "aisles",
    "bays",
    "aisle_pitch_m",
    "first_aisle_x_m",
    "bay_width_m",
    "cross_aisle_width_m",
    "middle_cross_after",
    "depot",
)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _whole(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LayoutError(f"layout key {key!r} must be a whole number, got {value!r}")
    return value


def _metres(key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise LayoutError(f"layout key {key!r} must be a number of metres, got {value!r}")
    return float(value)


def layout_from_mapping(data: Mapping[str, Any]) -> Layout:
    """Validate a plain mapping and build a :class:`Layout`; errors name the key at fault."""
    if not isinstance(data, Mapping):
        raise LayoutError(f"a layout must be a table of keys, got {type(data).__name__}")
    unknown = sorted(str(k) for k in data if k not in _KNOWN_KEYS)
    if unknown:
        raise LayoutError(
            f"unknown layout key {unknown[0]!r}",
            hint=f"known keys: {', '.join(_KNOWN_KEYS)}",
        )
    kwargs: dict[str, Any] = {}
    for key in _INT_KEYS:
        if key in data:
            number = _whole(key, data[key])
            if number < 1:
                raise LayoutError(f"layout key {key!r} must be at least 1, got {number}")
            kwargs[key] = number
    for key in (*_POSITIVE_KEYS, "first_aisle_x_m"):
        if key in data:
            metres = _metres(key, data[key])
            if key in _POSITIVE_KEYS and metres <= 0:
                raise LayoutError(f"layout key {key!r} must be more than 0 m, got {metres}")
            kwargs[key] = metres
    if "middle_cross_after" in data:
        raw = data["middle_cross_after"]
        if isinstance(raw, str | bytes) or not isinstance(raw, list | tuple):
            raise LayoutError(
                f"layout key 'middle_cross_after' must be a list of bay positions, got {raw!r}"
            )
        kwargs["middle_cross_after"] = tuple(_whole("middle_cross_after", p) for p in raw)
    if "depot" in data:
        raw = data["depot"]
        if (
            isinstance(raw, str | bytes)
            or not isinstance(raw, list | tuple)
            or len(raw) != 2
            or not all(_is_number(v) for v in raw)
        ):
            raise LayoutError(f"layout key 'depot' must be [x, y] in metres, got {raw!r}")
        kwargs["depot"] = (_metres("depot", raw[0]), _metres("depot", raw[1]))
    try:
        return Layout(**kwargs)
    except LayoutError as exc:
        raise LayoutError(f"layout: {exc.reason}", hint=exc.hint) from exc
