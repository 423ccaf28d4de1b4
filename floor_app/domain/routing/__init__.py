"""Pick routing on a parallel-aisle floor: exact where it can be proven, heuristics to compare.

Call :func:`plan_route` with a :class:`~floor_app.domain.layout.Layout` and the stops
((aisle, bay) pairs or :class:`~floor_app.domain.location.Location` objects); it returns a
:class:`Route` with the stops in walking order, the walked path and its length.
:func:`route_methods` lists the methods; docs/routing.md explains each.
"""

from __future__ import annotations

from .brute_force import brute_force_length
from .errors import (
    EmptyPickList,
    InstanceError,
    LocationNotInLayout,
    RoutingError,
    UnknownRouteMethod,
)
from .geometry import FloorGraph, Point, StopLike
from .instance import RoutingInstance, instance_from_mapping
from .planner import auto_method, plan_route, route_length, route_methods, route_order
from .route import Route

__all__ = [
    "EmptyPickList",
    "FloorGraph",
    "InstanceError",
    "LocationNotInLayout",
    "Point",
    "Route",
    "RoutingError",
    "RoutingInstance",
    "StopLike",
    "UnknownRouteMethod",
    "auto_method",
    "brute_force_length",
    "instance_from_mapping",
    "plan_route",
    "route_length",
    "route_methods",
    "route_order",
]
