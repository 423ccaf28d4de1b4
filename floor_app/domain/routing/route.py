"""A planned pick route: the stops in walking order and the walk itself."""

from __future__ import annotations

from dataclasses import dataclass

from .geometry import Point, StopLike


@dataclass(frozen=True, slots=True)
class Route:
    """A tour from the depot through every stop and back.

    ``stops`` are the caller's stops in visiting order (stops at the same spot, such as
    two opposite bays, follow each other in the caller's order); ``order`` gives the
    index of each in the caller's list. ``path`` is the polyline walked, as (x, y)
    points in metres from the depot back to the depot, with a point at every turn.
    ``method`` names the method that planned it (what ``auto`` chose).
    """

    stops: tuple[StopLike, ...]
    order: tuple[int, ...]
    path: tuple[Point, ...]
    length_m: float
    method: str
