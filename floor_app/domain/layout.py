"""The floor's geometry: parallel aisles, cross aisles, a depot, and where each bay is.

A layout has ``aisles`` parallel aisles numbered from 1 (left to right) whose centres are
``aisle_pitch_m`` apart, starting at ``first_aisle_x_m``. Each aisle has ``bays`` bays
numbered from 1 at the front; odd bays face the aisle from the left, even bays from the
right, so bays ``2k-1`` and ``2k`` are opposite each other at the same depth. The front
cross aisle runs along ``y = 0``; bay position ``p`` (0-based, ``p = (bay-1)//2``) is at
``y = cross_aisle_width_m/2 + p * bay_width_m + bay_width_m/2`` plus the width of every
middle cross aisle in front of it. ``middle_cross_after`` lists bay positions after which
a middle cross aisle lies (an empty tuple gives a single-block layout). The depot is where
tours start and end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import DomainError
from .location import Side


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
            raise DomainError("a layout needs at least one aisle and one bay")
        if self.aisle_pitch_m <= 0 or self.bay_width_m <= 0 or self.cross_aisle_width_m <= 0:
            raise DomainError("layout distances must be positive")
        for p in self.middle_cross_after:
            if not 0 <= p < self.positions - 1:
                raise DomainError(
                    f"middle cross aisle after bay position {p} is outside 0..{self.positions - 2}"
                )

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

    def bay_point(self, aisle: int, bay: int) -> tuple[float, float, Side]:
        """Where a picker stands to pick from ``bay`` of ``aisle``: (x, y, side)."""
        if not 1 <= bay <= self.bays:
            raise DomainError(f"bay {bay} is not in the layout (1..{self.bays})")
        side = Side.LEFT if bay % 2 == 1 else Side.RIGHT
        return self.aisle_x(aisle), self.position_y((bay - 1) // 2), side
