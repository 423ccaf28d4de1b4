"""What gets packed: one :class:`PackItem` per unit, built from SKUs or plain dimensions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..sku import Dimensions, Sku
from .errors import CartonError, EmptyOrder, ItemDimensionsError

Extents = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class PackItem:
    """One unit to pack: a name for people, its outer size in mm and its weight in grams."""

    name: str
    length_mm: int
    width_mm: int
    height_mm: int
    weight_g: int = 0

    def __post_init__(self) -> None:
        for key in ("length_mm", "width_mm", "height_mm"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ItemDimensionsError(
                    f"item {self.name}: {key} must be a positive whole number of mm, got {value!r}",
                    hint="measure the item and record its dimensions",
                )
        if isinstance(self.weight_g, bool) or not isinstance(self.weight_g, int):
            raise ItemDimensionsError(f"item {self.name}: weight must be whole grams")
        if self.weight_g < 0:
            raise ItemDimensionsError(f"item {self.name}: weight must not be negative")

    @property
    def extents(self) -> Extents:
        """(length, width, height) in mm."""
        return (self.length_mm, self.width_mm, self.height_mm)

    @property
    def volume_mm3(self) -> int:
        """Volume in cubic millimetres."""
        return self.length_mm * self.width_mm * self.height_mm

    def orientations(self) -> tuple[Extents, ...]:
        """Every distinct way to stand the item (extents along the carton's axes)."""
        a, b, c = self.extents
        return tuple(sorted({(a, b, c), (a, c, b), (b, a, c), (b, c, a), (c, a, b), (c, b, a)}))


#: What :func:`expand_items` accepts: an item or an (item, quantity) pair.
ItemLike = Sku | Dimensions | PackItem | tuple[Sku | Dimensions | PackItem, int]


def _one(thing: object, number: int) -> PackItem:
    if isinstance(thing, PackItem):
        return thing
    if isinstance(thing, Sku):
        if thing.dimensions is None:
            raise ItemDimensionsError(
                f"SKU {thing.sku} has no dimensions",
                hint="measure it and record length, width and height in mm",
            )
        d = thing.dimensions
        return PackItem(thing.sku, d.length_mm, d.width_mm, d.height_mm, thing.weight_g)
    if isinstance(thing, Dimensions):
        return PackItem(f"item {number}", thing.length_mm, thing.width_mm, thing.height_mm)
    if thing is None:
        raise ItemDimensionsError(f"item {number} has no dimensions")
    raise CartonError(f"item {number}: cannot pack a {type(thing).__name__}")


def expand_items(items: Sequence[ItemLike]) -> list[PackItem]:
    """One :class:`PackItem` per unit; raises for no items, bad quantities or sizes."""
    units: list[PackItem] = []
    for number, entry in enumerate(items, start=1):
        if isinstance(entry, tuple):
            if len(entry) != 2:
                raise CartonError(f"item {number}: expected (item, quantity), got {entry!r}")
            thing, qty = entry
            if isinstance(qty, bool) or not isinstance(qty, int) or qty < 1:
                raise CartonError(f"item {number}: quantity must be at least 1, got {qty!r}")
        else:
            thing, qty = entry, 1
        unit = _one(thing, number)
        units.extend([unit] * qty)
    if not units:
        raise EmptyOrder("there are no items to pack")
    return units
