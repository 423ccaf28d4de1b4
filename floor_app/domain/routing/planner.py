"""Planning a route: pick the method, place the stops, walk, and report in the caller's terms."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

from ..layout import Layout
from ..location import Location
from .errors import UnknownRouteMethod
from .exact import MAX_EXACT_BLOCKS, optimal_walk
from .geometry import FloorGraph, PickPlan, StopLike
from .heuristics import combined_walk, largest_gap_walk, return_walk, s_shape_walk
from .local_search import local_search_walk
from .route import Route
from .walk import Walk

_METHODS: dict[str, Callable[[PickPlan], Walk]] = {
    "optimal": optimal_walk,
    "local_search": local_search_walk,
    "combined": combined_walk,
    "largest_gap": largest_gap_walk,
    "s_shape": s_shape_walk,
    "return": return_walk,
}


def route_methods() -> tuple[str, ...]:
    """Names accepted by :func:`plan_route` besides ``"auto"``, best first."""
    return tuple(_METHODS)


@lru_cache(maxsize=32)
def floor_graph(layout: Layout) -> FloorGraph:
    """The walking network of ``layout`` (cached: layouts are immutable)."""
    return FloorGraph(layout)


def auto_method(layout: Layout) -> str:
    """What ``auto`` uses: the exact method up to a few blocks, else local search."""
    return "optimal" if layout.blocks <= MAX_EXACT_BLOCKS else "local_search"


def plan_route(layout: Layout, stops: Sequence[StopLike], method: str = "auto") -> Route:
    """The route through ``stops`` ((aisle, bay) pairs or Locations) from the depot and back.

    ``method`` is ``"auto"`` or one of :func:`route_methods`. Raises
    :class:`~floor_app.domain.routing.errors.EmptyPickList` for no stops,
    :class:`~floor_app.domain.routing.errors.LocationNotInLayout` for a stop outside the
    layout and :class:`~floor_app.domain.routing.errors.UnknownRouteMethod`.
    """
    name = auto_method(layout) if method == "auto" else method
    rule = _METHODS.get(name)
    if rule is None:
        raise UnknownRouteMethod(
            f"no routing method {method!r}", hint=f"use auto or one of {', '.join(_METHODS)}"
        )
    stops = list(stops)
    plan = PickPlan(floor_graph(layout), stops)
    walk = rule(plan)
    order = tuple(i for spot in walk.spot_order for i in plan.spots[spot].stops)
    return Route(
        stops=tuple(stops[i] for i in order),
        order=order,
        path=walk.path,
        length_m=walk.length,
        method=name,
    )


def route_order(layout: Layout, method: str = "auto") -> Callable[[Sequence[Location]], list[int]]:
    """A ``route_order`` for :func:`floor_app.domain.tasks.build_pick_task` on ``layout``.

    The callable returns the indexes of the given locations in walking order.
    """

    def order(stops: Sequence[Location]) -> list[int]:
        return list(plan_route(layout, stops, method).order)

    return order


def route_length(layout: Layout, stops: Sequence[StopLike], method: str = "auto") -> float:
    """Length in metres of :func:`plan_route`'s route."""
    return plan_route(layout, stops, method).length_m
