"""What may come back on an order and where it may go (the rules the returns desk and the
hub share)."""

from __future__ import annotations

import pytest

from floor_app.domain.order import Address, Order, OrderLine, OrderState
from floor_app.domain.stockwork import (
    ReturnGrade,
    parcel_refusal,
    place_refusal,
    return_refusal,
    shipped_units,
)

pytestmark = pytest.mark.unit

ADDRESS = Address("A Person", ("1 Road",), "Town", "12345", "GB")


def order(state: OrderState, packed: int = 2) -> Order:
    lines = [OrderLine(1, "SKU-1", 2, picked=2, packed=packed), OrderLine(2, "SKU-2", 1, 1, 1)]
    o = Order("SO-100001", lines, ADDRESS)
    o.state = state
    return o


def test_shipped_units_are_the_packed_ones_per_sku() -> None:
    assert shipped_units(order(OrderState.SHIPPED)) == {"SKU-1": 2, "SKU-2": 1}
    assert shipped_units(order(OrderState.SHIPPED, packed=0)) == {"SKU-2": 1}


@pytest.mark.parametrize("state", [OrderState.PACKED, OrderState.LABELLED, OrderState.SHIPPED])
def test_a_parcel_that_left_packing_may_come_back(state: OrderState) -> None:
    assert parcel_refusal(order(state)) is None
    assert return_refusal(order(state), "SKU-1", 2, 0) is None


@pytest.mark.parametrize("state", [OrderState.PICKED, OrderState.PACKING, OrderState.CANCELLED])
def test_an_order_still_in_the_building_cannot(state: OrderState) -> None:
    reason = parcel_refusal(order(state))
    assert reason is not None
    assert reason.code == "return.not_returnable"
    assert reason.params == {"order": "SO-100001", "order_state": state.value}
    assert reason.text == (
        f"order SO-100001 is {state.value}: only a parcel that left packing can come back; "
        "give it to a supervisor"
    )
    assert return_refusal(order(state), "SKU-1", 1, 0) == reason


def test_a_sku_not_shipped_and_more_than_shipped_are_refused() -> None:
    shipped = order(OrderState.SHIPPED)
    assert str(return_refusal(shipped, "SKU-9", 1, 0)) == (
        "SKU-9 was not shipped on order SO-100001: set the item aside for a supervisor"
    )
    assert return_refusal(shipped, "SKU-1", 1, 1) is None
    assert str(return_refusal(shipped, "SKU-1", 1, 2)) == (
        "2 x SKU-1 were shipped on order SO-100001 and 2 came back already: "
        "1 more is more than was sent"
    )
    assert str(return_refusal(shipped, "SKU-1", 0, 0)) == (
        "a return needs a positive quantity, got 0"
    )


@pytest.mark.parametrize(
    ("grade", "location", "kind", "reason"),
    [
        (ReturnGrade.RESALEABLE, "A01-01-1A", "pick", None),
        (ReturnGrade.RESALEABLE, "A01-01-4A", "reserve", None),
        (ReturnGrade.DAMAGED, "QUAR-01", "quarantine", None),
        (ReturnGrade.WRONG_ITEM, "QUAR-01", "quarantine", None),
        (
            ReturnGrade.RESALEABLE,
            "QUAR-01",
            "quarantine",
            "QUAR-01 is a quarantine location: resaleable units go to a storage location",
        ),
        (
            ReturnGrade.DAMAGED,
            "A01-01-1A",
            "pick",
            "A01-01-1A is not a quarantine location: damaged units go to quarantine",
        ),
        (ReturnGrade.DAMAGED, "QUAR-09", None, "location QUAR-09 does not exist on this site"),
    ],
)
def test_each_grade_has_its_places(
    grade: ReturnGrade, location: str, kind: str | None, reason: str | None
) -> None:
    refusal = place_refusal(grade, location, kind)
    assert (refusal.text if refusal else None) == reason
