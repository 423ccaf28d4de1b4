"""Location codes: printed A03-12-2A, parsed back, station codes told apart."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from floor_app.domain.errors import InvalidBarcode
from floor_app.domain.location import Location, LocationKind, Side

pytestmark = pytest.mark.unit


def test_make_code() -> None:
    assert Location.make_code("A", 3, 12, 2, "A") == "A03-12-2A"
    assert Location.make_code("B", 10, 1, 4, "C") == "B10-01-4C"


def test_parse_code() -> None:
    assert Location.parse_code("A03-12-2A") == ("A", 3, 12, 2, "A")


def test_parse_code_is_forgiving_about_case_and_padding() -> None:
    assert Location.parse_code(" b10-01-4c\r\n") == ("B", 10, 1, 4, "C")


@pytest.mark.parametrize("code", ["PACK-01", "STAGE-01", "DOCK-02", "QUAR-01", "RET-01"])
def test_station_locations_are_not_rack_locations(code: str) -> None:
    with pytest.raises(InvalidBarcode, match="station location, not a rack location"):
        Location.parse_code(code)


@pytest.mark.parametrize(
    "code", ["", "A3-12-2A", "A03-12-2", "A03122A", "AA03-12-2A", "A03-12-22A", "T0001", "1"]
)
def test_malformed_codes_are_refused_with_an_example(code: str) -> None:
    with pytest.raises(InvalidBarcode, match="not a location code") as info:
        Location.parse_code(code)
    assert "A03-12-2A" in info.value.hint


@given(
    st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ"),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 9),
    st.sampled_from("ABCD"),
)
def test_make_and_parse_round_trip(zone: str, aisle: int, bay: int, level: int, bin_: str) -> None:
    code = Location.make_code(zone, aisle, bay, level, bin_)
    assert Location.parse_code(code) == (zone, aisle, bay, level, bin_)


def test_location_defaults_to_a_left_pick_face() -> None:
    loc = Location("A03-12-2A", "dc1", "A", 3, 12, 2, "A", 7.5, 9.2)
    assert loc.kind is LocationKind.PICK
    assert loc.side is Side.LEFT
