"""Building pick tasks from orders: one tote per order, lines in route order."""

from collections.abc import Sequence

import pytest

from floor_app.domain.errors import DomainError
from floor_app.domain.location import Location
from floor_app.domain.order import Address, Order, OrderLine
from floor_app.domain.sku import Sku
from floor_app.domain.tasks import build_pick_task, serpentine_order

pytestmark = pytest.mark.unit

ADDRESS = Address("A", ("1 Street",), "London", "SW1A 1AA", "GB")


def loc(aisle: int, bay: int, level: int = 1, zone: str = "A") -> Location:
    return Location(
        Location.make_code(zone, aisle, bay, level, "A"),
        "dc1",
        zone,
        aisle,
        bay,
        level,
        "A",
        x=aisle * 3.0,
        y=bay * 1.0,
    )


FACES = {
    "SKU-1": loc(2, 5),
    "SKU-2": loc(1, 9),
    "SKU-3": loc(1, 2),
    "SKU-4": loc(2, 1, zone="B"),
}
GTINS = {"SKU-1": "4006381333931", "SKU-2": "96385074", "SKU-3": "036000291452"}
GTINS["SKU-4"] = "09501101530003"


def sku(code: str) -> Sku:
    return Sku(code, GTINS[code], code, None, 100)


def order(order_id: str, *skus: str) -> Order:
    return Order(order_id, [OrderLine(i, s, i) for i, s in enumerate(skus, start=1)], ADDRESS)


def test_serpentine_goes_up_odd_aisles_and_down_even_ones() -> None:
    stops = [loc(2, 5), loc(1, 9), loc(1, 2), loc(2, 1), loc(2, 5, level=3)]
    order_ = serpentine_order(stops)
    assert [(stops[i].aisle, stops[i].bay, stops[i].level) for i in order_] == [
        (1, 2, 1),
        (1, 9, 1),
        (2, 5, 1),
        (2, 5, 3),
        (2, 1, 1),
    ]


def test_serpentine_of_nothing() -> None:
    assert serpentine_order([]) == []


def test_build_pick_task() -> None:
    task = build_pick_task(
        "PT-1",
        [order("SO-1", "SKU-1", "SKU-2"), order("SO-2", "SKU-3", "SKU-4")],
        pick_face=FACES.__getitem__,
        sku=sku,
        totes=["T0042"],
        destination="PACK-02",
    )
    assert task.task_id == "PT-1"
    # the first tote named; the second is scanned by the picker when the task starts
    assert [(t.tote_id, t.position, t.order_id, t.destination) for t in task.totes] == [
        ("T0042", 1, "SO-1", "PACK-02"),
        ("", 2, "SO-2", "PACK-02"),
    ]
    assert [t.position for t in task.totes_to_scan()] == [2]
    walked = task.ordered_lines()
    assert [ln.location for ln in walked] == ["A01-02-1A", "A01-09-1A", "A02-05-1A", "B02-01-1A"]
    assert [ln.sequence for ln in walked] == [0, 1, 2, 3]
    by_sku = {ln.sku: ln for ln in task.lines}
    assert by_sku["SKU-2"].qty == 2
    assert by_sku["SKU-2"].gtin == "00000096385074"
    assert by_sku["SKU-2"].tote_position == 1
    assert by_sku["SKU-3"].tote_position == 2
    assert by_sku["SKU-4"].line_id == "PT-1-SO-2-2"
    assert task.zone == "A,B"


def test_only_open_units_are_picked() -> None:
    o = order("SO-1", "SKU-1", "SKU-2")
    o.lines[0].picked = 1  # SKU-1: qty 1, all picked
    o.lines[1].short = 1  # SKU-2: qty 2, one short
    task = build_pick_task("PT-1", [o], pick_face=FACES.__getitem__, sku=sku)
    assert [(ln.sku, ln.qty) for ln in task.lines] == [("SKU-2", 1)]


def test_route_order_is_pluggable() -> None:
    def backwards(stops: Sequence[Location]) -> list[int]:
        return list(reversed(range(len(stops))))

    task = build_pick_task(
        "PT-1",
        [order("SO-1", "SKU-1", "SKU-2", "SKU-3")],
        pick_face=FACES.__getitem__,
        sku=sku,
        route_order=backwards,
    )
    assert [ln.sku for ln in task.ordered_lines()] == ["SKU-3", "SKU-2", "SKU-1"]


def test_no_orders_is_refused() -> None:
    with pytest.raises(DomainError, match="at least one order"):
        build_pick_task("PT-1", [], pick_face=FACES.__getitem__, sku=sku)


def test_nothing_left_to_pick_is_refused() -> None:
    o = order("SO-1", "SKU-1")
    o.lines[0].picked = 1
    with pytest.raises(DomainError, match="SO-1 have nothing left to pick"):
        build_pick_task("PT-1", [o], pick_face=FACES.__getitem__, sku=sku)
