"""Every route is a real walk: depot to depot, on aisles and cross aisles, through every stop."""

import itertools
import random

import pytest

from floor_app.domain.layout import Layout
from floor_app.domain.location import Location, LocationKind
from floor_app.domain.routing import Route, plan_route, route_methods

pytestmark = pytest.mark.unit

FLOORS = [
    Layout(aisles=6, bays=12),
    Layout(aisles=10, bays=20, middle_cross_after=(4,)),
    Layout(aisles=5, bays=16, middle_cross_after=(2, 5), depot=(7.0, -2.0)),
    Layout(aisles=5, bays=12, middle_cross_after=(2,), depot=(20.0, 15.0)),
]


def _on_segment(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> bool:
    eps = 1e-6
    return (
        min(a[0], b[0]) - eps <= p[0] <= max(a[0], b[0]) + eps
        and min(a[1], b[1]) - eps <= p[1] <= max(a[1], b[1]) + eps
    )


def check_walk(layout: Layout, stops: list[tuple[int, int]], route: Route) -> None:
    xs = [layout.aisle_x(a) for a in range(1, layout.aisles + 1)]
    cross = layout.cross_aisle_ys()
    dx, dy = layout.depot
    depot_cross = min(cross, key=lambda y: (abs(y - dy), y))
    path = route.path
    assert path[0] == pytest.approx(layout.depot) and path[-1] == pytest.approx(layout.depot)
    walked = 0.0
    for a, b in itertools.pairwise(path):
        assert a[0] == pytest.approx(b[0]) or a[1] == pytest.approx(b[1]), (a, b)
        if a[0] == pytest.approx(b[0]):  # along an aisle, or the depot's own walk
            on_aisle = any(a[0] == pytest.approx(x) for x in xs)
            stub = a[0] == pytest.approx(dx) and all(
                min(dy, depot_cross) - 1e-6 <= y <= max(dy, depot_cross) + 1e-6
                for y in (a[1], b[1])
            )
            assert on_aisle or stub, (a, b)
        else:
            assert any(a[1] == pytest.approx(y) for y in cross), (a, b)
        walked += abs(a[0] - b[0]) + abs(a[1] - b[1])
    assert walked == pytest.approx(route.length_m, abs=1e-6)
    assert sorted(route.order) == list(range(len(stops)))
    assert list(route.stops) == [stops[i] for i in route.order]
    for aisle, bay in stops:
        x, y, _ = layout.bay_point(aisle, bay)
        assert any(_on_segment((x, y), a, b) for a, b in itertools.pairwise(path)), (aisle, bay)


@pytest.mark.parametrize("layout", FLOORS)
@pytest.mark.parametrize("method", route_methods())
def test_every_method_walks_a_real_tour(layout: Layout, method: str) -> None:
    rng = random.Random(hash((layout.aisles, layout.bays, method)) & 0xFFFF)
    for n in (1, 2, 5, 13, 30):
        stops = [(rng.randint(1, layout.aisles), rng.randint(1, layout.bays)) for _ in range(n)]
        route = plan_route(layout, stops, method)
        assert route.method == method
        check_walk(layout, stops, route)


def _first_reached(path: tuple[tuple[float, float], ...], point: tuple[float, float]) -> float:
    travelled = 0.0
    for a, b in itertools.pairwise(path):
        if _on_segment(point, a, b):
            return travelled + abs(point[0] - a[0]) + abs(point[1] - a[1])
        travelled += abs(b[0] - a[0]) + abs(b[1] - a[1])
    raise AssertionError(f"{point} is not on the path")


def test_optimal_stop_order_follows_the_path() -> None:
    layout = Layout(aisles=10, bays=20, middle_cross_after=(4,))
    rng = random.Random(9)
    for _ in range(10):
        stops = [(rng.randint(1, 10), rng.randint(1, 20)) for _ in range(25)]
        route = plan_route(layout, stops, "optimal")
        reached = [_first_reached(route.path, layout.bay_point(a, b)[:2]) for a, b in route.stops]
        assert reached == sorted(reached)


def test_locations_are_routed_and_returned_as_given() -> None:
    layout = Layout(aisles=10, bays=20, middle_cross_after=(4,))
    locations = []
    for aisle, bay in [(2, 3), (9, 17), (5, 8), (5, 7)]:
        x, y, side = layout.bay_point(aisle, bay)
        code = Location.make_code("A", aisle, bay, 2, "A")
        locations.append(
            Location(code, "dc1", "A", aisle, bay, 2, "A", x, y, LocationKind.PICK, side)
        )
    route = plan_route(layout, locations)
    assert sorted(s.code for s in route.stops) == sorted(loc.code for loc in locations)
    assert all(isinstance(s, Location) for s in route.stops)


def test_opposite_bays_are_picked_from_one_spot_in_a_row() -> None:
    layout = Layout(aisles=4, bays=10)
    route = plan_route(layout, [(2, 5), (4, 1), (2, 6)])
    pos = {stop: i for i, stop in enumerate(route.stops)}
    assert abs(pos[(2, 5)] - pos[(2, 6)]) == 1


def test_same_stop_twice_is_kept_twice() -> None:
    layout = Layout(aisles=4, bays=10)
    route = plan_route(layout, [(3, 3), (3, 3)])
    assert route.order == (0, 1)
    x, y, _ = layout.bay_point(3, 3)
    assert route.length_m == pytest.approx(2 * (x + y))


def test_route_order_plugs_into_building_a_pick_task() -> None:
    from floor_app.demo.site import build_demo_site
    from floor_app.domain.routing import route_order
    from floor_app.domain.tasks import build_pick_task

    site = build_demo_site()
    by_code = {loc.code: loc for loc in site.locations}
    orders = site.orders[:4]
    task = build_pick_task(
        "T-1",
        orders,
        pick_face=lambda s: by_code[site.pick_faces[s]],
        sku=site.sku,
        route_order=route_order(site.layout),
    )
    stops = [by_code[line.location] for line in task.ordered_lines()]
    shuffled = stops[:]
    random.Random(1).shuffle(shuffled)
    planned = plan_route(site.layout, shuffled, "optimal").stops

    def spots(seq: list[Location] | tuple[Location, ...]) -> list[tuple[int, int]]:
        return [(s.aisle, (s.bay - 1) // 2) for s in seq]

    assert len(stops) > 4
    assert spots(stops) == spots(planned)  # the task's lines follow the optimal walk
