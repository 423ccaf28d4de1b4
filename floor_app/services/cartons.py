"""Carton suggestion for the packer: the domain's cartonization, with a first fit for what it
cannot place.

:func:`floor_app.domain.cartonization.choose_carton` chooses the smallest carton the items
really fit in (a checked 3D packing). When it cannot say (an item without dimensions, no
carton types, an order that needs a split) the suggestion falls back to a first fit: the
smallest carton (by inner volume) whose sorted inner dimensions hold every item's sorted
dimensions, whose volume holds the items' total volume and whose weight limit holds their
weight.
"""

from __future__ import annotations

from collections.abc import Sequence

from floor_app.domain.cartonization import CartonError, choose_carton
from floor_app.domain.packing import Carton
from floor_app.domain.sku import Sku


def fallback_carton(items: Sequence[tuple[Sku, int]], cartons: Sequence[Carton]) -> Carton | None:
    """The smallest carton that fits ``items`` ((sku, qty) pairs), or None if none does."""
    volume = 0
    weight = 0
    biggest = (0, 0, 0)
    for sku, qty in items:
        weight += sku.weight_g * qty
        if sku.dimensions is None:
            continue
        volume += sku.dimensions.volume_mm3 * qty
        dims = sku.dimensions.sorted()
        biggest = (max(biggest[0], dims[0]), max(biggest[1], dims[1]), max(biggest[2], dims[2]))
    for carton in sorted(cartons, key=lambda c: (c.volume_mm3, c.cost)):
        inner = carton.inner.sorted()
        if all(b <= i for b, i in zip(biggest, inner, strict=True)) and (
            volume <= carton.volume_mm3 and weight + carton.tare_g <= carton.max_weight_g
        ):
            return carton
    return None


def suggest_carton(items: Sequence[tuple[Sku, int]], cartons: Sequence[Carton]) -> Carton | None:
    """The carton to suggest for ``items``: the domain's choice, or :func:`fallback_carton`
    when the domain cannot choose one carton for them."""
    try:
        choice = choose_carton(list(items), list(cartons))
    except CartonError:  # input the 3D packing cannot use (no dimensions, no cartons)
        return fallback_carton(items, cartons)
    if choice.carton is None:  # a split or a flag: suggest what a first fit finds
        return fallback_carton(items, cartons)
    return choice.carton
