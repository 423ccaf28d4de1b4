"""Choosing the carton: the smallest (or cheapest) carton the order really fits in.

Cartons are tried from the smallest inner volume up (``by="volume"``) or from the
cheapest up (``by="cost"``). For each, cheap tests come first (total volume, weight with
the carton's tare against its limit, each unit on its own), then the extreme-point
heuristic, then, for orders of up to :data:`EXACT_MAX_UNITS` units, the exact search,
which either finds a packing the heuristic missed or proves that none exists. Every
packing is checked for bounds and overlaps before it is returned.

An order that fits no single carton is split: units are placed first-fit, largest first,
into parcels of the largest carton, and each parcel then gets its own smallest carton.
A unit that fits no carton at all (too big or too heavy) is listed in ``unpackable``;
the choice is then flagged for a person to decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..packing import Carton
from .boxes import Placement, placement_problems
from .errors import CartonError, NoCartons
from .exact import EXACT_MAX_UNITS, Verdict, pack_exact
from .extreme_points import pack_heuristic
from .items import Extents, ItemLike, PackItem, expand_items


@dataclass(frozen=True, slots=True)
class Parcel:
    """One carton of a split order: the carton, the units in it and where they sit."""

    carton: Carton
    items: tuple[PackItem, ...]
    placements: tuple[Placement, ...]
    fill_rate: float


@dataclass(frozen=True, slots=True)
class CartonChoice:
    """The carton for an order, or a split, or a flag.

    When the order fits one carton: ``carton`` is it, ``placements`` say where each unit
    goes (``item`` indexes ``items``) and ``fill_rate`` is the units' volume over the
    carton's. Otherwise ``carton`` is None, ``parcels`` holds the cartons the order is
    split into and ``unpackable`` the units no carton can take; ``reason`` says why.
    ``proven_smallest`` is True when every carton tried before the chosen one was proven
    too small (false only when the exact search ran out of its node budget).
    """

    carton: Carton | None
    items: tuple[PackItem, ...]
    placements: tuple[Placement, ...]
    fill_rate: float
    parcels: tuple[Parcel, ...] = ()
    unpackable: tuple[PackItem, ...] = ()
    reason: str = ""
    proven_smallest: bool = True

    @property
    def fits(self) -> bool:
        """True when the whole order goes into one carton."""
        return self.carton is not None

    @property
    def flagged(self) -> bool:
        """True when a person must look at it: split, or a unit fits no carton."""
        return self.carton is None


def inner_extents(carton: Carton) -> Extents:
    """A carton's inner (length, width, height) in mm."""
    return (carton.inner.length_mm, carton.inner.width_mm, carton.inner.height_mm)


def _fits_alone(unit: PackItem, carton: Carton) -> bool:
    """True when the unit fits the empty carton in some orientation."""
    return all(
        a <= b for a, b in zip(sorted(unit.extents), sorted(inner_extents(carton)), strict=True)
    )


def _weight_ok(units: Sequence[PackItem], carton: Carton) -> bool:
    return sum(u.weight_g for u in units) + carton.tare_g <= carton.max_weight_g


def pack_into(
    units: Sequence[PackItem], carton: Carton, *, exact: bool = True
) -> tuple[Verdict, list[Placement]]:
    """Try to pack ``units`` into ``carton``: PACKED with placements, IMPOSSIBLE or UNKNOWN."""
    inner = inner_extents(carton)
    if not _weight_ok(units, carton):
        return Verdict.IMPOSSIBLE, []
    if sum(u.volume_mm3 for u in units) > carton.volume_mm3:
        return Verdict.IMPOSSIBLE, []
    if not all(_fits_alone(u, carton) for u in units):
        return Verdict.IMPOSSIBLE, []
    placements = pack_heuristic(units, inner)
    verdict = Verdict.PACKED if placements is not None else Verdict.UNKNOWN
    if placements is None and exact and len(units) <= EXACT_MAX_UNITS:
        verdict, placements = pack_exact(units, inner)
    if verdict is not Verdict.PACKED or placements is None:
        return verdict, []
    problems = placement_problems(units, inner, placements)
    if problems:  # never hand out a packing that is not physically possible
        raise CartonError(f"internal error: packing into {carton.code} failed its check")
    return Verdict.PACKED, placements


def _ranked(cartons: Sequence[Carton], by: str) -> list[Carton]:
    if by == "volume":
        return sorted(cartons, key=lambda c: (c.volume_mm3, c.cost, c.code))
    if by == "cost":
        return sorted(cartons, key=lambda c: (c.cost, c.volume_mm3, c.code))
    raise CartonError(f"cartons can be chosen by 'volume' or 'cost', not {by!r}")


def _fill(units: Sequence[PackItem], carton: Carton) -> float:
    return sum(u.volume_mm3 for u in units) / carton.volume_mm3


def _smallest(
    units: Sequence[PackItem], ranked: Sequence[Carton]
) -> tuple[Carton | None, list[Placement], bool]:
    proven = True
    for carton in ranked:
        verdict, placements = pack_into(units, carton)
        if verdict is Verdict.PACKED:
            return carton, placements, proven
        if verdict is Verdict.UNKNOWN:
            proven = False
    return None, [], proven


def _split(units: list[PackItem], ranked: Sequence[Carton]) -> list[Parcel]:
    biggest = max(ranked, key=lambda c: (c.volume_mm3, c.max_weight_g - c.tare_g))
    bins: list[list[PackItem]] = []
    for unit in sorted(units, key=lambda u: (-u.volume_mm3, u.name)):
        for content in bins:
            if pack_into([*content, unit], biggest, exact=False)[0] is Verdict.PACKED:
                content.append(unit)
                break
        else:
            bins.append([unit])
    parcels: list[Parcel] = []
    for content in bins:
        carton, placements, _ = _smallest(content, ranked)
        if carton is None:  # cannot happen: each unit fits a carton on its own
            raise CartonError("internal error: a parcel of a split order fits no carton")
        parcels.append(Parcel(carton, tuple(content), tuple(placements), _fill(content, carton)))
    return parcels


def choose_carton(
    items: Sequence[ItemLike],
    cartons: Sequence[Carton],
    *,
    by: Literal["volume", "cost"] = "volume",
) -> CartonChoice:
    """The smallest (``by="volume"``) or cheapest (``by="cost"``) carton ``items`` fit in.

    ``items`` are :class:`~floor_app.domain.sku.Sku`, :class:`~floor_app.domain.sku.Dimensions`
    or :class:`PackItem` values, or (item, quantity) pairs. Raises
    :class:`~floor_app.domain.cartonization.errors.EmptyOrder`,
    :class:`~floor_app.domain.cartonization.errors.ItemDimensionsError` or
    :class:`~floor_app.domain.cartonization.errors.NoCartons` for input it cannot use;
    an order no carton holds comes back split or flagged, never as an exception.
    """
    units = expand_items(items)
    if not cartons:
        raise NoCartons("no carton types to choose from", hint="configure the station's cartons")
    ranked = _ranked(cartons, by)
    oversize = [
        u for u in units if not any(_fits_alone(u, c) and _weight_ok([u], c) for c in ranked)
    ]
    packable = [u for u in units if u not in oversize]
    if not oversize:
        carton, placements, proven = _smallest(units, ranked)
        if carton is not None:
            return CartonChoice(
                carton,
                tuple(units),
                tuple(placements),
                _fill(units, carton),
                proven_smallest=proven,
            )
    parcels = _split(packable, ranked) if packable else []
    if oversize:
        names = ", ".join(
            sorted(
                {
                    f"{u.name} ({u.length_mm}x{u.width_mm}x{u.height_mm} mm, {u.weight_g} g)"
                    for u in oversize
                }
            )
        )
        reason = f"no carton can take {names}"
    else:
        reason = f"the order does not fit one carton; split into {len(parcels)}"
    return CartonChoice(
        None,
        tuple(units),
        (),
        0.0,
        parcels=tuple(parcels),
        unpackable=tuple(oversize),
        reason=reason,
    )
