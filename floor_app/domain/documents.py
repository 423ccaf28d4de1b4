"""What a parcel's documents say: the packing slip of an order, with the lots and serial
numbers picked for each line (so that a recall can be answered from the parcel itself).
Laying it out on paper is a driver's job (:class:`device_drivers.base.DocumentOutput`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .order import Order


@dataclass(frozen=True, slots=True)
class SlipLine:
    """A line of the slip: the units sent, with their lots and serial numbers."""

    line_no: int
    sku: str
    description: str
    qty: int
    lots: list[tuple[str, int]] = field(default_factory=list)
    serials: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PackingSlip:
    """What one order's packing slip says."""

    order_id: str
    date: str
    ship_to: list[str]
    sender: list[str]
    carrier: str
    lines: list[SlipLine]
    tracking: str = ""

    @property
    def units(self) -> int:
        return sum(ln.qty for ln in self.lines)


def packing_slip(
    order: Order,
    descriptions: dict[str, str],
    *,
    sender: list[str],
    date: str,
    tracking: str = "",
) -> PackingSlip:
    """The slip of ``order``: each line with the units packed (picked while not packed
    yet), and the lots and serials the hub said were picked for it."""
    lots: dict[int, list[tuple[str, int]]] = defaultdict(list)
    serials: dict[int, list[str]] = defaultdict(list)
    for t in order.traced:
        if t.serial:
            serials[t.line_no].append(t.serial)
        elif t.lot:
            lots[t.line_no].append((t.lot, t.qty))
    a = order.ship_to
    place = " ".join(p for p in (a.postcode, a.city) if p)
    ship_to = [a.name, *a.lines, place, *([a.region] if a.region else []), a.country]
    carrier = " ".join(p for p in (order.carrier, order.service) if p)
    return PackingSlip(
        order_id=order.order_id,
        date=date,
        ship_to=[p for p in ship_to if p],
        sender=sender,
        carrier=carrier,
        tracking=tracking,
        lines=[
            SlipLine(
                ln.line_no,
                ln.sku,
                descriptions.get(ln.sku, ""),
                ln.packed or ln.picked,
                sorted(lots.get(ln.line_no, [])),
                sorted(serials.get(ln.line_no, [])),
            )
            for ln in order.lines
            if (ln.packed or ln.picked) > 0
        ],
    )
