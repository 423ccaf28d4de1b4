"""Cartonization: the smallest carton an order really fits in, with a checked 3D packing.

Call :func:`choose_carton` with the order's items (SKUs, dimensions or
:class:`PackItem` values, optionally with quantities) and the carton types; it returns a
:class:`CartonChoice` with the carton, where each unit goes and the fill rate, or a split
into several cartons, or a flag when an item fits no carton. docs/routing.md explains the
methods (extreme-point heuristic, exact search for small orders, overlap check).
"""

from __future__ import annotations

from .boxes import Placement, placement_problems
from .chooser import CartonChoice, Parcel, choose_carton, inner_extents, pack_into
from .errors import CartonError, EmptyOrder, ItemDimensionsError, NoCartons
from .exact import EXACT_MAX_UNITS, Verdict, pack_exact
from .extreme_points import pack_heuristic
from .items import ItemLike, PackItem, expand_items

__all__ = [
    "EXACT_MAX_UNITS",
    "CartonChoice",
    "CartonError",
    "EmptyOrder",
    "ItemDimensionsError",
    "ItemLike",
    "NoCartons",
    "PackItem",
    "Parcel",
    "Placement",
    "Verdict",
    "choose_carton",
    "expand_items",
    "inner_extents",
    "pack_exact",
    "pack_heuristic",
    "pack_into",
    "placement_problems",
]
