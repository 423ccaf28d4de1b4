"""Where each unit sits in a carton, and the check that a set of placements is real.

Coordinates are whole millimetres from the carton's inner corner: ``x`` along its
length, ``y`` along its width, ``z`` up its height. Every packing any method returns is
passed through :func:`placement_problems` before it is believed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .items import Extents, PackItem


@dataclass(frozen=True, slots=True)
class Placement:
    """Unit ``item`` (its index in the packed list) at (x, y, z) with these extents."""

    item: int
    name: str
    x: int
    y: int
    z: int
    length_mm: int
    width_mm: int
    height_mm: int

    @property
    def extents(self) -> Extents:
        """Extents along the carton's length, width and height."""
        return (self.length_mm, self.width_mm, self.height_mm)

    @property
    def corner(self) -> Extents:
        """(x, y, z) of the corner nearest the carton's origin."""
        return (self.x, self.y, self.z)


def overlaps(a_pos: Extents, a_ext: Extents, b_pos: Extents, b_ext: Extents) -> bool:
    """True when two boxes share volume (touching faces do not count)."""
    return all(a_pos[d] < b_pos[d] + b_ext[d] and b_pos[d] < a_pos[d] + a_ext[d] for d in range(3))


def placement_problems(
    units: Sequence[PackItem], inner: Extents, placements: Sequence[Placement]
) -> list[str]:
    """Everything wrong with a packing: units missing or twice, wrong sizes, out of bounds,
    overlaps. An empty list means the packing is physically possible."""
    problems: list[str] = []
    placed = sorted(p.item for p in placements)
    if placed != list(range(len(units))):
        problems.append(f"units placed {placed}, expected each of 0..{len(units) - 1} once")
        return problems
    for p in placements:
        if sorted(p.extents) != sorted(units[p.item].extents):
            problems.append(f"unit {p.item} placed as {p.extents}, it is {units[p.item].extents}")
        for d in range(3):
            if p.corner[d] < 0 or p.corner[d] + p.extents[d] > inner[d]:
                problems.append(f"unit {p.item} sticks out of the carton on axis {'xyz'[d]}")
    for i, a in enumerate(placements):
        for b in placements[i + 1 :]:
            if overlaps(a.corner, a.extents, b.corner, b.extents):
                problems.append(f"units {a.item} and {b.item} overlap")
    return problems
