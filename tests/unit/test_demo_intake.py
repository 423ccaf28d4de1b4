"""The demo site's upstream sends the demo orders in turn, then the same again as new ones."""

from __future__ import annotations

import pytest

from floor_app.demo import build_demo_site
from sim.demo_intake import nth_order
from sync.protocol import OrderIntake

pytestmark = pytest.mark.unit


def test_the_demo_orders_come_first_then_again_under_new_ids() -> None:
    demo = [OrderIntake.from_domain(o) for o in build_demo_site().orders]
    assert [nth_order(demo, n).order_id for n in range(3)] == [
        "SO-100001",
        "SO-100002",
        "SO-100003",
    ]
    again = nth_order(demo, len(demo))
    assert again.order_id == "SO-300001"
    assert (again.lines, again.ship_to) == (demo[0].lines, demo[0].ship_to)
    ids = {nth_order(demo, n).order_id for n in range(3 * len(demo))}
    assert len(ids) == 3 * len(demo)  # never an id twice: the hub would take it as a redelivery
