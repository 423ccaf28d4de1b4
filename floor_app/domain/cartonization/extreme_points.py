"""Extreme-point packing (Crainic, Perboli and Tadei 2008): fast, and good on most orders.

Units are placed one by one. The candidate positions are the *extreme points* of the
units already placed: the three corners just beyond each unit along x, y and z, and
those corners pushed back towards the origin along the other axes until they meet a unit
or a wall. Each unit goes to the feasible (position, orientation) with the best score.
Several unit orders (volume, longest side, base area, height) and two scores (lowest,
back-most, left-most first; or smallest bounding box) are tried in turn; the first
packing that holds every unit wins. A failure proves nothing: the exact search decides.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .boxes import Placement, overlaps
from .items import Extents, PackItem

Box = tuple[Extents, Extents]  # (corner, extents)


def _project(point: Extents, axis: int, boxes: list[Box]) -> Extents:
    """``point`` pushed towards 0 along ``axis`` until it meets a box face or the wall."""
    a, b = [d for d in range(3) if d != axis]
    stop = 0
    for pos, ext in boxes:
        end = pos[axis] + ext[axis]
        if (
            end <= point[axis]
            and end > stop
            and pos[a] <= point[a] < pos[a] + ext[a]
            and pos[b] <= point[b] < pos[b] + ext[b]
        ):
            stop = end
    moved = list(point)
    moved[axis] = stop
    return (moved[0], moved[1], moved[2])


def _new_points(pos: Extents, ext: Extents, boxes: list[Box]) -> list[Extents]:
    points: list[Extents] = []
    for axis in range(3):
        corner = list(pos)
        corner[axis] += ext[axis]
        point = (corner[0], corner[1], corner[2])
        points.append(point)
        for other in range(3):
            if other != axis:
                points.append(_project(point, other, boxes))
    return points


Score = Callable[[Extents, Extents, list[Box]], tuple[float, ...]]


def _lowest_first(pos: Extents, ext: Extents, boxes: list[Box]) -> tuple[float, ...]:
    return (pos[2], pos[1], pos[0], ext[2], -ext[0])


def _tightest(pos: Extents, ext: Extents, boxes: list[Box]) -> tuple[float, ...]:
    hi = [pos[d] + ext[d] for d in range(3)]
    for p, e in boxes:
        for d in range(3):
            hi[d] = max(hi[d], p[d] + e[d])
    return (hi[0] * hi[1] * hi[2], pos[2], pos[1], pos[0])


def _pack_in_order(
    units: Sequence[PackItem], order: Sequence[int], inner: Extents, score: Score
) -> list[Placement] | None:
    boxes: list[Box] = []
    placements: list[Placement] = []
    points: set[Extents] = {(0, 0, 0)}
    for index in order:
        unit = units[index]
        best: tuple[tuple[float, ...], Extents, Extents] | None = None
        for pos in points:
            for ext in unit.orientations():
                if any(pos[d] + ext[d] > inner[d] for d in range(3)):
                    continue
                if any(overlaps(pos, ext, p, e) for p, e in boxes):
                    continue
                key = score(pos, ext, boxes)
                if best is None or key < best[0]:
                    best = (key, pos, ext)
        if best is None:
            return None
        _, pos, ext = best
        boxes.append((pos, ext))
        placements.append(Placement(index, unit.name, pos[0], pos[1], pos[2], *ext))
        points.discard(pos)
        for point in _new_points(pos, ext, boxes):
            if all(point[d] < inner[d] for d in range(3)) and not any(
                overlaps(point, (1, 1, 1), p, e) for p, e in boxes
            ):
                points.add(point)
    return placements


_ORDERS: tuple[Callable[[PackItem], tuple[int, ...]], ...] = (
    lambda u: (-u.volume_mm3, -max(u.extents)),
    lambda u: (-max(u.extents), -u.volume_mm3),
    lambda u: (-(sorted(u.extents)[1] * sorted(u.extents)[2]), -u.volume_mm3),
    lambda u: (-min(u.extents), -u.volume_mm3),
)


def pack_heuristic(units: Sequence[PackItem], inner: Extents) -> list[Placement] | None:
    """A packing of every unit into a box of ``inner`` extents, or None if none was found."""
    for score in (_lowest_first, _tightest):
        for key in _ORDERS:
            order = sorted(range(len(units)), key=lambda i: (key(units[i]), i))
            placements = _pack_in_order(units, order, inner, score)
            if placements is not None:
                return sorted(placements, key=lambda p: p.item)
    return None
