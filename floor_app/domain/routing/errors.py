"""Why a route cannot be planned: each error names the stop or the method at fault."""

from __future__ import annotations

from ..errors import DomainError


class RoutingError(DomainError):
    """A pick route could not be planned for the reason given."""


class EmptyPickList(RoutingError):
    """There is nothing to pick, so there is no route to walk."""


class LocationNotInLayout(RoutingError):
    """A stop names an aisle or bay that the layout does not have."""


class UnknownRouteMethod(RoutingError):
    """The routing method asked for is not one of :func:`route_methods`."""


class InstanceError(RoutingError):
    """A routing instance (layout plus picks, e.g. read from JSON) is malformed."""
