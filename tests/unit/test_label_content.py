"""What a shipping label says, and the input it refuses."""

from __future__ import annotations

import pytest

from device_drivers.labels import LabelError, ShippingLabel, check_sscc
from device_drivers.labels.content import format_sscc
from floor_app.domain.order import Address, Order, OrderLine
from floor_app.domain.packing import tracking_number

pytestmark = pytest.mark.unit

SHANGHAI = Address(
    name="王小明",
    lines=("浦东新区世纪大道100号", "12楼3室"),
    city="上海市",
    postcode="200120",
    country="CN",
    phone="+86 13800138000",
)


def order(address: Address = SHANGHAI, carrier: str = "SF Express") -> Order:
    return Order(
        order_id="SO-100042",
        lines=[OrderLine(1, "SKU-1", 1)],
        ship_to=address,
        carrier=carrier,
        service="express",
    )


def test_label_for_an_order() -> None:
    label = ShippingLabel.for_order(order())
    assert label.tracking == tracking_number("SO-100042")
    assert label.carrier == "SF Express" and label.service == "express"
    assert label.address_lines == [
        "王小明",
        "浦东新区世纪大道100号",
        "12楼3室",
        "200120 上海市",
        "CN",
    ]
    assert label.routing == "CN 200120"
    assert label.qr_payload == f"{label.tracking}|SO-100042|SF Express|200120|CN|express"


def test_carrier_and_tracking_can_be_given() -> None:
    label = ShippingLabel.for_order(order(), carrier="DHL", tracking="1Z999AA10123456784")
    assert (label.carrier, label.tracking) == ("DHL", "1Z999AA10123456784")


def test_a_bar_in_a_field_does_not_split_the_qr_record() -> None:
    label = ShippingLabel.for_order(order(carrier="A|B"))
    assert label.qr_payload.count("|") == 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tracking": "TRK^XZ"}, "cannot be printed as Code 128"),
        ({"tracking": "运单123456"}, "cannot be printed as Code 128"),
        ({"tracking": "T1"}, "cannot be printed as Code 128"),
        ({"sscc": "12345"}, "must be 18 digits"),
        ({"sscc": "106141411234567890"}, "wrong check digit"),
    ],
)
def test_bad_input_is_refused(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(LabelError, match=message):
        ShippingLabel.for_order(order(), **kwargs)


def test_an_order_without_carrier_or_address_is_refused() -> None:
    with pytest.raises(LabelError, match="no carrier"):
        ShippingLabel.for_order(order(carrier=""))
    incomplete = Address(name="", lines=(), city="Leeds", postcode="LS1", country="GB")
    with pytest.raises(LabelError, match="lacks name, lines"):
        ShippingLabel.for_order(order(address=incomplete))


def test_sscc() -> None:
    assert check_sscc("106141411234567897") == "106141411234567897"
    assert format_sscc("106141411234567897") == "(00) 1 0614141 123456789 7"
