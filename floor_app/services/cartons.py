"""Carton suggestion for the packer: the routing/cartons module when present, else a fallback.

The fallback picks the smallest carton (by inner volume) whose sorted inner dimensions
hold every item's sorted dimensions, whose volume holds the items' total volume and
whose weight limit holds their weight. It is a first fit, not a 3D packing: once
:func:`floor_app.domain.cartonization.choose_carton` exists it is used instead.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

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


def _domain_chooser() -> Callable[..., Any] | None:
    try:
        module = importlib.import_module("floor_app.domain.cartonization")
    except ImportError:
        return None
    chooser = getattr(module, "choose_carton", None)
    return chooser if callable(chooser) else None


def suggest_carton(items: Sequence[tuple[Sku, int]], cartons: Sequence[Carton]) -> Carton | None:
    """The carton to suggest for ``items``: the domain's choice, or :func:`fallback_carton`."""
    chooser = _domain_chooser()
    if chooser is not None:
        try:
            result = chooser(list(items), list(cartons))
        except Exception:  # a chooser of another shape: keep the packer working
            result = None
        carton = getattr(result, "carton", result)
        if isinstance(carton, Carton):
            return carton
    return fallback_carton(items, cartons)
