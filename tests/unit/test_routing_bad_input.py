"""Bad routing input gets a clear DomainError naming what is wrong, never a crash."""

import pytest

from floor_app.domain.errors import DomainError
from floor_app.domain.layout import Layout
from floor_app.domain.location import Location, LocationKind, Side
from floor_app.domain.routing import (
    EmptyPickList,
    LocationNotInLayout,
    UnknownRouteMethod,
    plan_route,
    route_methods,
)

pytestmark = pytest.mark.unit

DEMO = Layout(aisles=10, bays=20, middle_cross_after=(4,))


@pytest.mark.parametrize("method", ["auto", *route_methods()])
def test_empty_pick_list_is_refused(method: str) -> None:
    with pytest.raises(EmptyPickList, match="empty"):
        plan_route(DEMO, [], method)


@pytest.mark.parametrize(
    "stop", [(11, 1), (0, 5), (3, 21), (3, 0), (-1, -1)], ids=lambda s: f"{s[0]}-{s[1]}"
)
def test_stop_outside_the_layout_is_named(stop: tuple[int, int]) -> None:
    with pytest.raises(LocationNotInLayout) as err:
        plan_route(DEMO, [(1, 1), stop])
    assert str(stop) in err.value.reason
    assert "aisles 1..10, bays 1..20" in err.value.hint


def test_location_of_a_packing_station_is_not_in_the_layout() -> None:
    station = Location("PACK-01", "dc1", "S", 0, 1, 0, "A", -2.0, 0.0, LocationKind.PACK, Side.LEFT)
    with pytest.raises(LocationNotInLayout, match="location PACK-01 is not in the layout"):
        plan_route(DEMO, [station])


@pytest.mark.parametrize("stop", [("3", 4), (2.5, 4), (True, 4), (3,), "A03-04-2A", None])
def test_malformed_stop_is_refused(stop: object) -> None:
    with pytest.raises(LocationNotInLayout):
        plan_route(DEMO, [stop])  # type: ignore[list-item]


def test_unknown_method_lists_the_known_ones() -> None:
    with pytest.raises(UnknownRouteMethod) as err:
        plan_route(DEMO, [(1, 1)], "fastest")
    assert "s_shape" in err.value.hint and "optimal" in err.value.hint


def test_every_routing_error_is_a_domain_error() -> None:
    for error in (EmptyPickList, LocationNotInLayout, UnknownRouteMethod):
        assert issubclass(error, DomainError)
