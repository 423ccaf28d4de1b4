"""The walking network of a layout, and the picks of one tour placed on it.

A picker walks only along aisle centre lines (``x`` of an aisle) and cross-aisle centre
lines (``y`` of a cross aisle), which span the whole floor. The depot is joined to the
nearest cross aisle by a straight walk along ``y``. On this network the shortest walk
between two places has a closed form (:meth:`FloorGraph.distance`), which the heuristics,
the local search and the brute-force check all use.

A *column* is an ``x`` where the picker may turn: every aisle, plus the depot's ``x`` when
the depot is not in front of an aisle. The exact method sweeps over columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..layout import Layout
from ..location import Location
from .errors import EmptyPickList, LocationNotInLayout

#: A stop as callers give it: an ``(aisle, bay)`` pair or a :class:`Location`.
StopLike = tuple[int, int] | Location

#: A place on the network: ``(x, y, on_aisle)``; a place off every aisle lies on a cross aisle.
Spot = tuple[float, float, bool]

Point = tuple[float, float]

_EPS = 1e-9


class FloorGraph:
    """The aisles, cross aisles, columns and depot of a :class:`Layout` (see module docstring)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.cross_ys: tuple[float, ...] = tuple(layout.cross_aisle_ys())
        self.aisle_xs: tuple[float, ...] = tuple(
            layout.aisle_x(a) for a in range(1, layout.aisles + 1)
        )
        dx, dy = layout.depot
        self.depot_point: Point = (float(dx), float(dy))
        self.depot_cross = min(
            range(len(self.cross_ys)), key=lambda c: (abs(dy - self.cross_ys[c]), c)
        )
        depot_aisle = next((i for i, x in enumerate(self.aisle_xs) if abs(x - dx) < _EPS), None)
        node_x = self.aisle_xs[depot_aisle] if depot_aisle is not None else float(dx)
        self.depot_spot: Spot = (node_x, self.cross_ys[self.depot_cross], depot_aisle is not None)
        self.depot_stub = abs(dy - self.cross_ys[self.depot_cross])
        xs = sorted({*self.aisle_xs, node_x})
        self.column_x: tuple[float, ...] = tuple(xs)
        aisle_at = {x: i + 1 for i, x in enumerate(self.aisle_xs)}
        #: Aisle number of each column, 0 for the depot's own column.
        self.column_aisle: tuple[int, ...] = tuple(aisle_at.get(x, 0) for x in xs)
        self.aisle_column: dict[int, int] = {a: j for j, a in enumerate(self.column_aisle) if a > 0}
        self.depot_column = xs.index(node_x)

    @property
    def cross_count(self) -> int:
        """Number of cross aisles (blocks + 1)."""
        return len(self.cross_ys)

    def distance(self, p: Spot, q: Spot) -> float:
        """Length of the shortest walk between two places on the network."""
        px, py, pa = p
        qx, qy, qa = q
        if pa and qa:
            if abs(px - qx) < _EPS:
                return abs(py - qy)
            return abs(px - qx) + min(abs(py - y) + abs(qy - y) for y in self.cross_ys)
        if pa or qa:
            return abs(px - qx) + abs(py - qy)
        if abs(py - qy) < _EPS:
            return abs(px - qx)
        return abs(py - qy) + min(abs(px - x) + abs(qx - x) for x in self.aisle_xs)

    def path(self, p: Spot, q: Spot) -> list[Point]:
        """The corners of one shortest walk from ``p`` to ``q``, both ends included."""
        px, py, pa = p
        qx, qy, qa = q
        if pa and qa:
            if abs(px - qx) < _EPS:
                return [(px, py), (qx, qy)]
            y = min(self.cross_ys, key=lambda c: abs(py - c) + abs(qy - c))
            return [(px, py), (px, y), (qx, y), (qx, qy)]
        if pa:  # q lies on a cross aisle: walk the aisle to it, then along it
            return [(px, py), (px, qy), (qx, qy)]
        if qa:
            return [(px, py), (qx, py), (qx, qy)]
        if abs(py - qy) < _EPS:
            return [(px, py), (qx, qy)]
        x = min(self.aisle_xs, key=lambda a: abs(px - a) + abs(qx - a))
        return [(px, py), (x, py), (x, qy), (qx, qy)]

    def resolve(self, stop: StopLike) -> tuple[int, int]:
        """The ``(aisle, bay)`` of a stop, checked against the layout."""
        if isinstance(stop, Location):
            aisle, bay, name = stop.aisle, stop.bay, f"location {stop.code}"
        else:
            try:
                aisle, bay = stop
            except (TypeError, ValueError):
                raise LocationNotInLayout(
                    f"stop {stop!r} is neither a location nor an (aisle, bay) pair"
                ) from None
            name = f"stop {stop!r}"
        for value in (aisle, bay):
            if isinstance(value, bool) or not isinstance(value, int):
                raise LocationNotInLayout(f"{name}: aisle and bay must be whole numbers")
        if not 1 <= aisle <= self.layout.aisles or not 1 <= bay <= self.layout.bays:
            raise LocationNotInLayout(
                f"{name} is not in the layout",
                hint=f"aisles 1..{self.layout.aisles}, bays 1..{self.layout.bays}",
            )
        return aisle, bay


@dataclass(frozen=True, slots=True)
class PickSpot:
    """One place the picker must stand at; several stops may share it (opposite bays)."""

    column: int
    y: float
    block: int
    stops: tuple[int, ...]  # indexes into the caller's stop list


class PickPlan:
    """The stops of one tour, resolved and merged into distinct spots on a :class:`FloorGraph`."""

    def __init__(self, graph: FloorGraph, stops: Sequence[StopLike]) -> None:
        if not stops:
            raise EmptyPickList("the pick list is empty: there is nothing to route")
        self.graph = graph
        layout = graph.layout
        merged: dict[tuple[int, float], list[int]] = {}
        blocks: dict[tuple[int, float], int] = {}
        for index, stop in enumerate(stops):
            aisle, bay = graph.resolve(stop)
            _, y, _ = layout.bay_point(aisle, bay)
            key = (graph.aisle_column[aisle], y)
            merged.setdefault(key, []).append(index)
            blocks[key] = layout.block_of((bay - 1) // 2)
        self.spots: tuple[PickSpot, ...] = tuple(
            PickSpot(col, y, blocks[(col, y)], tuple(idx))
            for (col, y), idx in sorted(merged.items())
        )
        #: (column, block) -> indexes of spots there, front to back.
        self.cells: dict[tuple[int, int], list[int]] = {}
        for i, spot in enumerate(self.spots):
            self.cells.setdefault((spot.column, spot.block), []).append(i)

    def spot(self, index: int) -> Spot:
        """The network place of spot ``index``."""
        s = self.spots[index]
        return (self.graph.column_x[s.column], s.y, True)
