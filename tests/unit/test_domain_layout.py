"""The floor geometry: aisle x, bay position y, cross aisles and where a picker stands."""

import pytest

from floor_app.domain.errors import DomainError
from floor_app.domain.layout import Layout
from floor_app.domain.location import Side

pytestmark = pytest.mark.unit


def test_defaults() -> None:
    layout = Layout()
    assert (layout.aisles, layout.bays, layout.positions, layout.blocks) == (10, 20, 10, 1)


@pytest.mark.parametrize(("bays", "positions"), [(1, 1), (2, 1), (3, 2), (20, 10), (21, 11)])
def test_two_bays_share_a_position(bays: int, positions: int) -> None:
    assert Layout(bays=bays).positions == positions


def test_aisle_x() -> None:
    layout = Layout(aisles=4, aisle_pitch_m=3.0, first_aisle_x_m=1.5)
    assert [layout.aisle_x(a) for a in range(1, 5)] == [1.5, 4.5, 7.5, 10.5]


@pytest.mark.parametrize("aisle", [0, -1, 5])
def test_aisle_outside_the_layout(aisle: int) -> None:
    with pytest.raises(DomainError, match=rf"aisle {aisle} is not in the layout \(1\.\.4\)"):
        Layout(aisles=4).aisle_x(aisle)


def test_position_y_single_block() -> None:
    layout = Layout(bays=6, bay_width_m=1.2, cross_aisle_width_m=2.0)
    assert [layout.position_y(p) for p in range(3)] == pytest.approx([1.6, 2.8, 4.0])


def test_position_y_behind_a_middle_cross_aisle() -> None:
    layout = Layout(bays=8, bay_width_m=1.0, cross_aisle_width_m=2.0, middle_cross_after=(1,))
    assert layout.blocks == 2
    # Positions 0, 1 in the front block; 2, 3 behind a 2 m cross aisle.
    assert [layout.position_y(p) for p in range(4)] == pytest.approx([1.5, 2.5, 5.5, 6.5])


@pytest.mark.parametrize("position", [-1, 10])
def test_position_outside_the_layout(position: int) -> None:
    with pytest.raises(DomainError, match=f"bay position {position} is not in the layout"):
        Layout().position_y(position)


def test_cross_aisle_ys_front_middle_back() -> None:
    layout = Layout(bays=8, bay_width_m=1.0, cross_aisle_width_m=2.0, middle_cross_after=(1,))
    assert layout.cross_aisle_ys() == pytest.approx([0.0, 4.0, 8.0])


def test_cross_aisle_ys_single_block() -> None:
    layout = Layout(bays=4, bay_width_m=1.0, cross_aisle_width_m=2.0)
    assert layout.cross_aisle_ys() == pytest.approx([0.0, 4.0])


def test_every_bay_lies_between_cross_aisles() -> None:
    layout = Layout(bays=20, middle_cross_after=(2, 6))
    ys = layout.cross_aisle_ys()
    assert ys == sorted(ys)
    assert len(ys) == layout.blocks + 1
    for p in range(layout.positions):
        y = layout.position_y(p)
        assert ys[0] < y < ys[-1]
        assert y not in ys


def test_bay_point_odd_bays_left_even_bays_right() -> None:
    layout = Layout(aisles=3, bays=6)
    x1, y1, side1 = layout.bay_point(2, 3)
    x2, y2, side2 = layout.bay_point(2, 4)
    assert (x1, y1) == (x2, y2) == (layout.aisle_x(2), layout.position_y(1))
    assert (side1, side2) == (Side.LEFT, Side.RIGHT)


@pytest.mark.parametrize(("aisle", "bay"), [(1, 0), (1, 7), (0, 1), (4, 1)])
def test_bay_point_outside_the_layout(aisle: int, bay: int) -> None:
    with pytest.raises(DomainError, match="is not in the layout"):
        Layout(aisles=3, bays=6).bay_point(aisle, bay)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"aisles": 0}, "at least one aisle"),
        ({"bays": 0}, "at least one aisle and one bay"),
        ({"aisle_pitch_m": 0.0}, "must be positive"),
        ({"bay_width_m": -1.0}, "must be positive"),
        ({"cross_aisle_width_m": 0.0}, "must be positive"),
        ({"bays": 4, "middle_cross_after": (1,)}, r"outside 0\.\.0"),
        ({"middle_cross_after": (-1,)}, "outside"),
        ({"middle_cross_after": (2, 2)}, "twice"),
        ({"depot": (float("nan"), 0.0)}, "two finite coordinates"),
    ],
)
def test_impossible_layouts_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(DomainError, match=message):
        Layout(**kwargs)  # type: ignore[arg-type]
