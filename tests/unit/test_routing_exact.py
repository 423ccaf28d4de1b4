"""The exact method against a proven optimum (Held-Karp over the layout's shortest walks)."""

import random

import pytest

from floor_app.domain.layout import Layout
from floor_app.domain.routing import RoutingError, brute_force_length, plan_route, route_methods

pytestmark = pytest.mark.unit

LAYOUTS = [
    pytest.param(Layout(aisles=6, bays=12), id="one-block"),
    pytest.param(Layout(aisles=10, bays=20, middle_cross_after=(4,)), id="demo-two-block"),
    pytest.param(
        Layout(aisles=5, bays=16, middle_cross_after=(2, 5), depot=(7.0, 0.0)),
        id="three-block-depot-between-aisles",
    ),
    pytest.param(Layout(aisles=4, bays=12, depot=(4.5, 0.0)), id="depot-in-front-of-an-aisle"),
    pytest.param(
        Layout(aisles=5, bays=12, middle_cross_after=(2,), depot=(20.0, 15.0)),
        id="depot-behind-the-right-end",
    ),
    pytest.param(
        Layout(aisles=5, bays=12, middle_cross_after=(2,), depot=(7.5, 8.0)),
        id="depot-on-the-middle-cross-aisle",
    ),
    pytest.param(Layout(aisles=1, bays=8), id="one-aisle"),
    pytest.param(Layout(aisles=7, bays=4, middle_cross_after=(0,)), id="short-blocks"),
]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_optimal_equals_the_brute_force_optimum(layout: Layout) -> None:
    rng = random.Random(layout.aisles * 1000 + layout.bays)
    for _ in range(40):
        stops = [
            (rng.randint(1, layout.aisles), rng.randint(1, layout.bays))
            for _ in range(rng.randint(1, 7))
        ]
        best = brute_force_length(layout, stops)
        route = plan_route(layout, stops, "optimal")
        assert route.length_m == pytest.approx(best, abs=1e-6), stops


@pytest.mark.parametrize("layout", LAYOUTS)
def test_no_method_beats_the_optimum(layout: Layout) -> None:
    rng = random.Random(7 + layout.aisles)
    for _ in range(15):
        stops = [
            (rng.randint(1, layout.aisles), rng.randint(1, layout.bays))
            for _ in range(rng.randint(1, 12))
        ]
        optimum = plan_route(layout, stops, "optimal").length_m
        for method in route_methods():
            assert plan_route(layout, stops, method).length_m >= optimum - 1e-6, method


def test_auto_is_exact_on_the_demo_floor() -> None:
    layout = Layout(aisles=10, bays=20, middle_cross_after=(4,))
    route = plan_route(layout, [(3, 5), (7, 18), (9, 2)])
    assert route.method == "optimal"


def test_auto_uses_local_search_on_many_blocks() -> None:
    layout = Layout(aisles=4, bays=24, middle_cross_after=(1, 3, 5, 7, 9))
    route = plan_route(layout, [(1, 3), (4, 20), (2, 11)])
    assert route.method == "local_search"


def test_optimal_refuses_layouts_with_too_many_blocks() -> None:
    layout = Layout(aisles=4, bays=24, middle_cross_after=(1, 3, 5, 7, 9))
    with pytest.raises(RoutingError, match="at most 5 blocks"):
        plan_route(layout, [(1, 3)], "optimal")


def test_local_search_is_close_to_optimal_on_two_blocks() -> None:
    layout = Layout(aisles=10, bays=20, middle_cross_after=(4,))
    rng = random.Random(42)
    ratios = []
    for _ in range(20):
        stops = [(rng.randint(1, 10), rng.randint(1, 20)) for _ in range(20)]
        optimum = plan_route(layout, stops, "optimal").length_m
        ratios.append(plan_route(layout, stops, "local_search").length_m / optimum)
    assert sum(ratios) / len(ratios) < 1.03


def test_brute_force_refuses_large_lists() -> None:
    layout = Layout(aisles=10, bays=20)
    stops = [(a, b) for a in range(1, 11) for b in (1, 9)]
    with pytest.raises(RoutingError, match="at most"):
        brute_force_length(layout, stops)
