"""What a shipping label says (every field a carrier's label carries), and the input it
refuses."""

from __future__ import annotations

from datetime import date

import pytest

from device_drivers.labels import LabelError, ShippingLabel, check_sscc, read_qr_payload
from device_drivers.labels.content import format_sscc
from floor_app.domain.carriers import CarrierChoice
from floor_app.domain.labelling import ParcelFacts
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


SENDER = Address(
    name="Floor DC1",
    lines=("Unit 4, Riverside Park",),
    city="Leeds",
    postcode="LS10 1AB",
    country="GB",
    phone="+44 113 496 0000",
)
RETURNS = Address(
    name="Returns Centre", lines=("Dock 9",), city="Leeds", postcode="LS11 5AA", country="GB"
)


def order(address: Address = SHANGHAI, carrier: str = "SF Express") -> Order:
    o = Order(
        order_id="SO-100042",
        lines=[OrderLine(1, "SKU-1", 1)],
        ship_to=address,
        carrier=carrier,
        service="express",
    )
    o.carrier_choice = CarrierChoice(
        carrier, "express", 5.2, "cheapest", currency="EUR", sort_code="CN-SHA"
    )
    return o


def parcel(return_to: Address | None = None, piece: int = 1, pieces: int = 1) -> ParcelFacts:
    return ParcelFacts(
        sender=SENDER,
        weight_g=2450,
        ship_date=date(2026, 11, 25),
        return_to=return_to,
        piece=piece,
        pieces=pieces,
    )


def test_label_for_an_order() -> None:
    label = ShippingLabel.for_order(order(), parcel())
    assert label.tracking == tracking_number("SO-100042")
    assert label.carrier == "SF Express" and label.service == "express"
    assert label.address_lines == [
        "王小明",
        "浦东新区世纪大道100号",
        "12楼3室",
        "200120 上海市",
        "CN",
        "Tel +86 13800138000",
    ]
    assert label.sender_lines == [
        "Floor DC1",
        "Unit 4, Riverside Park",
        "LS10 1AB Leeds",
        "GB",
        "Tel +44 113 496 0000",
    ]
    assert label.return_line == ""  # back to the sender
    assert (label.routing, label.sort, label.weight, label.piece_text) == (
        "CN 200120",
        "CN-SHA",
        "2.45 kg",
        "1/1",
    )


def test_the_qr_code_carries_every_field_tracking_first() -> None:
    label = ShippingLabel.for_order(order(), parcel(return_to=RETURNS, piece=2, pieces=3))
    assert label.qr_payload.startswith(f"{label.tracking}|SO-100042|")
    assert read_qr_payload(label.qr_payload) == {
        "tracking": label.tracking,
        "order": "SO-100042",
        "carrier": "SF Express",
        "service": "express",
        "sort": "CN-SHA",
        "postcode": "200120",
        "country": "CN",
        "weight_g": "2450",
        "ship_date": "2026-11-25",
        "piece": "2/3",
        "to_name": "王小明",
        "to_phone": "+86 13800138000",
        "to_lines": "浦东新区世纪大道100号; 12楼3室",
        "to_city": "上海市",
        "from_name": "Floor DC1",
        "from_phone": "+44 113 496 0000",
        "from_lines": "Unit 4, Riverside Park",
        "from_city": "Leeds",
        "from_postcode": "LS10 1AB",
        "from_country": "GB",
        "return_to": "Returns Centre, Dock 9, LS11 5AA Leeds, GB",
    }
    with pytest.raises(LabelError, match="fields"):
        read_qr_payload("TRK1|SO-1")


def test_without_sort_code_the_country_is_sorted_on() -> None:
    o = order()
    o.carrier_choice = None
    assert ShippingLabel.for_order(o, parcel()).sort == "CN"


def test_carrier_and_tracking_can_be_given() -> None:
    label = ShippingLabel.for_order(order(), parcel(), carrier="DHL", tracking="1Z999AA10123456784")
    assert (label.carrier, label.tracking) == ("DHL", "1Z999AA10123456784")


def test_a_bar_in_a_field_does_not_split_the_qr_record() -> None:
    label = ShippingLabel.for_order(order(carrier="A|B"), parcel())
    assert read_qr_payload(label.qr_payload)["carrier"] == "A/B"


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
        ShippingLabel.for_order(order(), parcel(), **kwargs)


def test_an_order_without_carrier_or_address_is_refused() -> None:
    with pytest.raises(LabelError, match="no carrier"):
        ShippingLabel.for_order(order(carrier=""), parcel())
    incomplete = Address(name="", lines=(), city="Leeds", postcode="LS1", country="GB")
    with pytest.raises(LabelError, match="ship-to address of SO-100042 lacks name, lines"):
        ShippingLabel.for_order(order(address=incomplete), parcel())
    no_sender = ParcelFacts(sender=incomplete, weight_g=100, ship_date=date(2026, 11, 25))
    with pytest.raises(LabelError, match="sender address of SO-100042 lacks name, lines"):
        ShippingLabel.for_order(order(), no_sender)
    with pytest.raises(LabelError, match="return address of SO-100042 lacks name"):
        ShippingLabel.for_order(order(), parcel(return_to=incomplete))


def test_sscc() -> None:
    assert check_sscc("106141411234567897") == "106141411234567897"
    assert format_sscc("106141411234567897") == "(00) 1 0614141 123456789 7"
