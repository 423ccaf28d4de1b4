"""The classic heuristics on a small floor worked out by hand, and their usual ranking."""

import random
import statistics

import pytest

from floor_app.domain.layout import Layout
from floor_app.domain.routing import plan_route, route_methods

pytestmark = pytest.mark.unit

# Three aisles at x = 1.5, 4.5, 7.5; bay positions at y = 1.6 and 2.8; the back cross aisle
# at y = 4.4; the depot at (0, 0) on the front cross aisle.
SMALL = Layout(aisles=3, bays=4)
STOPS = [(1, 3), (2, 1), (3, 3)]  # (1.5, 2.8), (4.5, 1.6), (7.5, 2.8)


def test_route_methods_names_the_classics_and_the_exact_method() -> None:
    names = route_methods()
    for name in ("optimal", "local_search", "s_shape", "return", "largest_gap", "combined"):
        assert name in names


@pytest.mark.parametrize(
    ("method", "metres"),
    [
        # through aisle 1, back down aisle 2, in and out of aisle 3 from the front:
        # 1.5 + 4.4 + 3 + 4.4 + 3 + 2 * 2.8 + 7.5
        ("s_shape", 29.4),
        # every aisle in and out from the front: 1.5 + 5.6 + 3 + 3.2 + 3 + 5.6 + 7.5
        ("return", 29.4),
        # through aisle 1, along the back, through aisle 3, aisle 2 from the front
        ("largest_gap", 27.0),
        ("combined", 29.4),
        ("optimal", 27.0),
        ("local_search", 27.0),
    ],
)
def test_hand_worked_lengths(method: str, metres: float) -> None:
    assert plan_route(SMALL, STOPS, method).length_m == pytest.approx(metres)


def test_single_pick_is_straight_there_and_back_for_every_method() -> None:
    layout = Layout(aisles=10, bays=20, middle_cross_after=(4,))
    x, y, _ = layout.bay_point(6, 15)
    for method in route_methods():
        assert plan_route(layout, [(6, 15)], method).length_m == pytest.approx(2 * (x + y))


def test_s_shape_walks_aisles_left_to_right_on_one_block() -> None:
    layout = Layout(aisles=6, bays=10)
    route = plan_route(layout, [(5, 2), (1, 9), (3, 4)], "s_shape")
    assert [a for a, _ in route.stops] == [1, 3, 5]


def test_depot_at_the_back_is_handled_like_one_at_the_front() -> None:
    front = Layout(aisles=5, bays=10)
    back_y = front.cross_aisle_ys()[-1]
    back = Layout(aisles=5, bays=10, depot=(0.0, back_y))
    stops = [(1, 2), (3, 9), (5, 5)]
    mirrored = [(a, front.bays + 1 - b) for a, b in stops]  # bay position p -> 4 - p
    for method in ("s_shape", "largest_gap", "combined", "return"):
        assert plan_route(back, mirrored, method).length_m == pytest.approx(
            plan_route(front, stops, method).length_m
        ), method


def test_combined_is_better_than_s_shape_and_return_on_average() -> None:
    layout = Layout(aisles=10, bays=20, middle_cross_after=(4,))
    rng = random.Random(5)
    lengths: dict[str, list[float]] = {m: [] for m in route_methods()}
    for _ in range(30):
        stops = [(rng.randint(1, 10), rng.randint(1, 20)) for _ in range(15)]
        for method in route_methods():
            lengths[method].append(plan_route(layout, stops, method).length_m)
    mean = {m: statistics.fmean(v) for m, v in lengths.items()}
    assert mean["optimal"] <= mean["local_search"] <= mean["combined"]
    assert mean["combined"] < mean["s_shape"] < mean["return"]
