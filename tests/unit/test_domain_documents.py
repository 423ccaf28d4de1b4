"""The packing slip's content: each line with the units sent (packed, else picked), the
lots and serials the hub sent for it; lines with nothing sent are left out."""

from __future__ import annotations

import pytest

from floor_app.domain.documents import packing_slip
from floor_app.domain.order import Address, Order, OrderLine, TracedUnits

pytestmark = pytest.mark.unit


def test_lines_lots_and_serials() -> None:
    order = Order(
        "SO-1",
        [
            OrderLine(1, "TEA", 5, picked=5, packed=5),
            OrderLine(2, "LAMP", 2, picked=2),
            OrderLine(3, "MUG", 1),
        ],
        Address("李伟", ("朝阳区 1 号",), "北京", "100000", "CN", region="北京市"),
        carrier="SF",
        service="express",
        traced=[
            TracedUnits(1, lot="LB", qty=3),
            TracedUnits(1, lot="LA", qty=2),
            TracedUnits(2, serial="S2"),
            TracedUnits(2, serial="S1"),
        ],
    )
    slip = packing_slip(order, {"TEA": "Tea"}, sender=["DC1"], date="2026-12-08", tracking="T1")
    assert [(ln.line_no, ln.qty, ln.lots, ln.serials) for ln in slip.lines] == [
        (1, 5, [("LA", 2), ("LB", 3)], []),
        (2, 2, [], ["S1", "S2"]),
    ]  # the mug was not picked: not on the slip
    assert slip.lines[0].description == "Tea" and slip.lines[1].description == ""
    assert slip.ship_to == ["李伟", "朝阳区 1 号", "100000 北京", "北京市", "CN"]
    assert (slip.carrier, slip.tracking, slip.units) == ("SF express", "T1", 7)
