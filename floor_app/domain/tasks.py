"""Building pick tasks from orders: one tote per order, lines ordered along the route.

The hub does this when it allocates; in demo mode (no hub) the device does it for itself
with the same function. How the lines are ordered is passed in (``route_order``), so the
routing algorithms can be swapped without touching this module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .errors import DomainError
from .location import Location
from .order import Order
from .picking import PickLine, PickTask, Tote
from .sku import Sku

RouteOrder = Callable[[Sequence[Location]], list[int]]


def serpentine_order(stops: Sequence[Location]) -> list[int]:
    """Indexes of ``stops`` in S-shape order: aisle by aisle, up odd aisles, down even ones."""
    return sorted(
        range(len(stops)),
        key=lambda i: (
            stops[i].aisle,
            stops[i].y if stops[i].aisle % 2 else -stops[i].y,
            stops[i].level,
        ),
    )


def build_pick_task(
    task_id: str,
    orders: Sequence[Order],
    *,
    pick_face: Callable[[str], Location],
    sku: Callable[[str], Sku],
    totes: Sequence[str] = (),
    destination: str = "",
    route_order: RouteOrder = serpentine_order,
) -> PickTask:
    """A task picking every open unit of ``orders``, order ``i`` into cart position ``i + 1``.

    ``pick_face(sku)`` names the location to pick each SKU from; ``sku(code)`` gives its
    GTIN. ``totes`` optionally names the physical totes (``T0001`` ...) by position; the
    others are scanned by the picker. ``destination`` is where the totes go once picked
    (a pack station).
    """
    if not orders:
        raise DomainError("a pick task needs at least one order")
    lines: list[PickLine] = []
    stops: list[Location] = []
    tote_list: list[Tote] = []
    for position, order in enumerate(orders, start=1):
        tote_id = totes[position - 1] if position <= len(totes) else ""
        tote_list.append(Tote(tote_id, position, order.order_id, destination))
        for line in order.lines:
            if line.open_to_pick <= 0:
                continue
            loc = pick_face(line.sku)
            lines.append(
                PickLine(
                    line_id=f"{task_id}-{order.order_id}-{line.line_no}",
                    order_id=order.order_id,
                    order_line_no=line.line_no,
                    sku=line.sku,
                    gtin=sku(line.sku).gtin,
                    location=loc.code,
                    qty=line.open_to_pick,
                    tote_position=position,
                )
            )
            stops.append(loc)
    if not lines:
        raise DomainError(
            f"orders {', '.join(o.order_id for o in orders)} have nothing left to pick"
        )
    for seq, index in enumerate(route_order(stops)):
        lines[index].sequence = seq
    zones = sorted({loc.zone for loc in stops})
    return PickTask(task_id, lines, zone=",".join(zones), totes=tote_list)
