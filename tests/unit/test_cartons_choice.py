"""Choosing the carton: smallest or cheapest that really fits, splits and flags, bad input."""

import pytest

from floor_app.domain.cartonization import (
    CartonError,
    EmptyOrder,
    ItemDimensionsError,
    NoCartons,
    PackItem,
    choose_carton,
    inner_extents,
    placement_problems,
)
from floor_app.domain.errors import DomainError
from floor_app.domain.packing import Carton
from floor_app.domain.sku import Dimensions, Sku

pytestmark = pytest.mark.unit

S = Carton("CTN-S", Dimensions(200, 150, 100), tare_g=80, max_weight_g=5_000, cost=0.30)
M = Carton("CTN-M", Dimensions(300, 250, 150), tare_g=150, max_weight_g=10_000, cost=0.55)
L = Carton("CTN-L", Dimensions(400, 300, 250), tare_g=250, max_weight_g=20_000, cost=0.90)
CARTONS = [L, S, M]


def sku(code: str, dims: tuple[int, int, int] | None, weight: int = 100) -> Sku:
    return Sku(code, "4260123000011", code, Dimensions(*dims) if dims else None, weight)


def test_smallest_carton_that_fits() -> None:
    choice = choose_carton([(sku("MUG", (120, 90, 100)), 1)], CARTONS)
    assert choice.carton is S and choice.fits and not choice.flagged
    assert choice.fill_rate == pytest.approx(120 * 90 * 100 / (200 * 150 * 100))


def test_two_mugs_still_fit_the_small_carton() -> None:
    choice = choose_carton([(sku("MUG", (120, 90, 100)), 2)], CARTONS)
    assert choice.carton is S
    assert placement_problems(choice.items, inner_extents(S), choice.placements) == []


def test_an_item_that_fits_only_on_its_side() -> None:
    # 140 mm tall: only fits the small carton lying down (the carton is 100 mm high).
    choice = choose_carton([PackItem("tin", 90, 90, 140)], CARTONS)
    assert choice.carton is S
    (placed,) = choice.placements
    assert placed.height_mm <= 100


def test_volume_alone_is_not_enough() -> None:
    # Volume would fit the small carton, but a 250 mm long item does not.
    choice = choose_carton([PackItem("chopsticks", 250, 60, 20)], CARTONS)
    assert choice.carton is M


def test_weight_limit_moves_up_a_size() -> None:
    heavy = sku("DUMBBELL", (150, 100, 90), weight=6_000)
    assert choose_carton([heavy], CARTONS).carton is M


def test_by_cost_picks_the_cheapest_that_fits() -> None:
    cheap_big = Carton("BAG", Dimensions(350, 300, 120), tare_g=20, max_weight_g=3_000, cost=0.10)
    items = [(sku("SHIRT", (300, 220, 30)), 1)]
    assert choose_carton(items, [*CARTONS, cheap_big]).carton is M
    assert choose_carton(items, [*CARTONS, cheap_big], by="cost").carton is cheap_big


def test_exact_stage_finds_the_smaller_carton_the_heuristic_misses() -> None:
    tight = Carton("TIGHT", Dimensions(200, 300, 250), tare_g=0, max_weight_g=50_000)
    big = Carton("BIG", Dimensions(400, 400, 400), tare_g=0, max_weight_g=50_000)
    items = [PackItem("a", 50, 50, 150), PackItem("b", 150, 200, 150), PackItem("c", 150, 200, 250)]
    choice = choose_carton(items, [big, tight])
    assert choice.carton is tight and choice.proven_smallest
    assert placement_problems(choice.items, inner_extents(tight), choice.placements) == []


def test_order_too_big_for_one_carton_is_split() -> None:
    lamp = sku("LAMP", (300, 180, 160), weight=1_200)
    choice = choose_carton([(lamp, 5)], CARTONS)
    assert choice.carton is None and choice.flagged and not choice.unpackable
    assert "split into" in choice.reason
    assert sum(len(p.items) for p in choice.parcels) == 5
    for parcel in choice.parcels:
        assert (
            placement_problems(parcel.items, inner_extents(parcel.carton), parcel.placements) == []
        )
        assert 0 < parcel.fill_rate <= 1


def test_item_larger_than_every_carton_is_flagged_and_the_rest_still_packed() -> None:
    sofa = sku("SOFA", (2000, 900, 800), weight=40_000)
    mug = sku("MUG", (120, 90, 100))
    choice = choose_carton([(sofa, 1), (mug, 1)], CARTONS)
    assert choice.flagged
    assert [u.name for u in choice.unpackable] == ["SOFA"]
    assert "SOFA" in choice.reason and "no carton can take" in choice.reason
    assert [p.carton for p in choice.parcels] == [S]


def test_item_too_heavy_for_every_carton_is_flagged() -> None:
    anvil = sku("ANVIL", (150, 100, 80), weight=25_000)
    choice = choose_carton([anvil], CARTONS)
    assert choice.flagged and [u.name for u in choice.unpackable] == ["ANVIL"]
    assert choice.parcels == ()


def test_missing_dimensions_are_refused_with_the_sku_named() -> None:
    with pytest.raises(ItemDimensionsError, match="SKU GHOST has no dimensions"):
        choose_carton([(sku("GHOST", None), 1)], CARTONS)


@pytest.mark.parametrize("dims", [(0, 10, 10), (10, -1, 10), (10, 10, 0)])
def test_zero_or_negative_dimensions_are_refused(dims: tuple[int, int, int]) -> None:
    with pytest.raises(ItemDimensionsError, match="positive whole number"):
        choose_carton([PackItem("flat", *dims)], CARTONS)
    with pytest.raises(DomainError):  # the SKU's own dimensions refuse it as well
        Dimensions(*dims)


def test_non_integer_dimensions_are_refused() -> None:
    with pytest.raises(ItemDimensionsError):
        PackItem("odd", 10.5, 10, 10)  # type: ignore[arg-type]


def test_empty_order_is_refused() -> None:
    with pytest.raises(EmptyOrder, match="no items"):
        choose_carton([], CARTONS)


@pytest.mark.parametrize("qty", [0, -2, True, "2"])
def test_bad_quantity_is_refused(qty: object) -> None:
    with pytest.raises(CartonError, match="quantity"):
        choose_carton([(sku("MUG", (120, 90, 100)), qty)], CARTONS)  # type: ignore[list-item]


def test_no_cartons_is_refused() -> None:
    with pytest.raises(NoCartons):
        choose_carton([PackItem("x", 1, 1, 1)], [])


def test_unknown_ranking_is_refused() -> None:
    with pytest.raises(CartonError, match="'volume' or 'cost'"):
        choose_carton([PackItem("x", 1, 1, 1)], CARTONS, by="weight")  # type: ignore[arg-type]


def test_something_that_is_not_an_item_is_refused() -> None:
    with pytest.raises(CartonError, match="cannot pack a str"):
        choose_carton(["MUG"], CARTONS)  # type: ignore[list-item]


def test_plain_dimensions_are_accepted() -> None:
    assert choose_carton([Dimensions(100, 100, 50)], CARTONS).carton is S


def test_packer_service_uses_this_choice() -> None:
    from floor_app.services.cartons import suggest_carton

    items = [(sku("MUG", (120, 90, 100)), 2)]
    assert suggest_carton(items, CARTONS) is S


def test_packer_suggestion_falls_back_to_a_first_fit_for_an_item_without_dimensions() -> None:
    from floor_app.services.cartons import suggest_carton

    items = [(sku("MUG", (120, 90, 100)), 1), (sku("CARD", None, weight=4_950), 1)]
    with pytest.raises(ItemDimensionsError):
        choose_carton(items, CARTONS)
    # the mug fits S, but the weight needs M: the first fit still counts every item
    assert suggest_carton(items, CARTONS) is M


def test_packer_suggestion_with_no_cartons_is_none() -> None:
    from floor_app.services.cartons import suggest_carton

    assert suggest_carton([(sku("MUG", (120, 90, 100)), 1)], []) is None
