"""Why a carton cannot be chosen: each error names the item or setting at fault."""

from __future__ import annotations

from ..errors import DomainError


class CartonError(DomainError):
    """A carton choice was asked for with input it cannot work with."""


class EmptyOrder(CartonError):
    """There are no items to pack."""


class ItemDimensionsError(CartonError):
    """An item has no dimensions, or a dimension that is not a positive whole number of mm."""


class NoCartons(CartonError):
    """No carton types were given to choose from."""
