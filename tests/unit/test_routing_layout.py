"""Layouts from plain mappings (TOML [layout], instance files): errors name the key."""

import pytest

from floor_app.domain.errors import DomainError
from floor_app.domain.layout import Layout, LayoutError, layout_from_mapping

pytestmark = pytest.mark.unit


def test_demo_layout_from_a_mapping() -> None:
    layout = Layout.from_dict(
        {"aisles": 10, "bays": 20, "middle_cross_after": [4], "depot": [0, 0]}
    )
    assert layout == Layout(aisles=10, bays=20, middle_cross_after=(4,))
    assert layout.blocks == 2


def test_missing_keys_take_the_defaults() -> None:
    assert Layout.from_dict({}) == Layout()


def test_round_trip() -> None:
    layout = Layout(aisles=7, bays=31, aisle_pitch_m=3.5, middle_cross_after=(3, 9), depot=(2, 1))
    assert Layout.from_dict(layout.to_dict()) == layout


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"aisle": 10}, "'aisle'"),
        ({"aisles": "ten"}, "'aisles'"),
        ({"aisles": 2.5}, "'aisles'"),
        ({"aisles": True}, "'aisles'"),
        ({"aisles": 0}, "'aisles'"),
        ({"bays": -4}, "'bays'"),
        ({"aisle_pitch_m": 0}, "'aisle_pitch_m'"),
        ({"bay_width_m": "wide"}, "'bay_width_m'"),
        ({"cross_aisle_width_m": -1.0}, "'cross_aisle_width_m'"),
        ({"first_aisle_x_m": float("nan")}, "'first_aisle_x_m'"),
        ({"middle_cross_after": 4}, "'middle_cross_after'"),
        ({"middle_cross_after": ["4"]}, "'middle_cross_after'"),
        ({"depot": [0]}, "'depot'"),
        ({"depot": "front"}, "'depot'"),
        ({"depot": [0, None]}, "'depot'"),
    ],
)
def test_bad_value_names_the_key(data: dict[str, object], key: str) -> None:
    with pytest.raises(LayoutError) as err:
        layout_from_mapping(data)
    assert key in err.value.reason


def test_middle_cross_aisle_outside_the_aisle_is_refused() -> None:
    with pytest.raises(LayoutError, match=r"outside 0\.\.8"):
        Layout.from_dict({"bays": 20, "middle_cross_after": [9]})


def test_middle_cross_aisle_listed_twice_is_refused() -> None:
    with pytest.raises(LayoutError, match="twice"):
        Layout.from_dict({"middle_cross_after": [4, 4]})


def test_not_a_mapping_is_refused() -> None:
    with pytest.raises(LayoutError, match="table"):
        layout_from_mapping([("aisles", 3)])  # type: ignore[arg-type]


def test_layout_errors_are_domain_errors() -> None:
    assert issubclass(LayoutError, DomainError)


def test_block_of_bay_positions() -> None:
    layout = Layout(aisles=2, bays=20, middle_cross_after=(4,))
    assert [layout.block_of(p) for p in range(10)] == [0] * 5 + [1] * 5
    with pytest.raises(LayoutError):
        layout.block_of(10)
