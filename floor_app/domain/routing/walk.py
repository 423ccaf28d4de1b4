"""A walked tour: the order spots are reached in, the corners of the walk, and its length."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .errors import RoutingError
from .geometry import PickPlan, Point, Spot

_EPS = 1e-9
_DIGITS = 6  # path points and lengths are rounded to the micrometre: no 15.999999999999998


@dataclass(frozen=True, slots=True)
class Walk:
    """Spots in visiting order, the walked polyline (depot to depot) and its length in metres."""

    spot_order: tuple[int, ...]
    path: tuple[Point, ...]
    length: float


def _same(a: Point, b: Point) -> bool:
    return abs(a[0] - b[0]) < _EPS and abs(a[1] - b[1]) < _EPS


def _straight_on(a: Point, b: Point, c: Point) -> bool:
    """True when ``b`` lies on the way from ``a`` to ``c`` without turning or turning back."""
    if abs(a[0] - b[0]) < _EPS and abs(b[0] - c[0]) < _EPS:
        return (b[1] - a[1]) * (c[1] - b[1]) > 0
    if abs(a[1] - b[1]) < _EPS and abs(b[1] - c[1]) < _EPS:
        return (b[0] - a[0]) * (c[0] - b[0]) > 0
    return False


def simplify(points: Iterable[Point]) -> list[Point]:
    """Drop repeated points and points where the walk goes straight on."""
    out: list[Point] = []
    for p in points:
        if out and _same(out[-1], p):
            continue
        if len(out) >= 2 and _straight_on(out[-2], out[-1], p):
            out[-1] = p
            continue
        out.append(p)
    return out


def path_length(points: Sequence[Point]) -> float:
    """Length of a polyline of axis-parallel segments."""
    return sum(abs(b[0] - a[0]) + abs(b[1] - a[1]) for a, b in itertools.pairwise(points))


def finish(plan: PickPlan, points: Iterable[Point], order: Sequence[int]) -> Walk:
    """A :class:`Walk` from raw corners and a visiting order, checked to cover every spot."""
    if sorted(order) != list(range(len(plan.spots))):
        raise RoutingError("internal error: a routing method missed or repeated a pick spot")
    path = simplify((round(x, _DIGITS) + 0.0, round(y, _DIGITS) + 0.0) for x, y in points)
    return Walk(tuple(order), tuple(path), round(path_length(path), _DIGITS))


def walk_through(plan: PickPlan, waypoints: Sequence[tuple[Spot, int]]) -> Walk:
    """Walk from the depot through ``waypoints`` (place, spot index or -1) and back.

    Consecutive waypoints are joined by shortest walks; a spot counts as visited at its
    first waypoint.
    """
    graph = plan.graph
    points: list[Point] = [graph.depot_point]
    here = graph.depot_spot
    points.append((here[0], here[1]))
    order: list[int] = []
    seen: set[int] = set()
    for place, index in waypoints:
        points.extend(graph.path(here, place)[1:])
        here = place
        if index >= 0 and index not in seen:
            seen.add(index)
            order.append(index)
    points.extend(graph.path(here, graph.depot_spot)[1:])
    points.append(graph.depot_point)
    return finish(plan, points, order)


def walk_spot_sequence(plan: PickPlan, sequence: Sequence[int]) -> Walk:
    """Walk the spots in ``sequence`` order (each once) along shortest walks."""
    return walk_through(plan, [(plan.spot(i), i) for i in sequence])
