"""Batching orders onto carts: capacity kept, every order once, travel saved and reported."""

import random

import pytest

from floor_app.domain.batching import BatchingError, BatchOrder, form_batches
from floor_app.domain.errors import DomainError
from floor_app.domain.layout import Layout
from floor_app.domain.routing import plan_route

pytestmark = pytest.mark.unit

DEMO = Layout(aisles=10, bays=20, middle_cross_after=(4,))


def _wave(seed: int, count: int) -> dict[str, list[tuple[int, int]]]:
    rng = random.Random(seed)
    return {
        f"SO-{i:03d}": [(rng.randint(1, 10), rng.randint(1, 20)) for _ in range(rng.randint(1, 4))]
        for i in range(count)
    }


def test_every_order_is_in_exactly_one_batch_within_cart_capacity() -> None:
    orders = _wave(1, 23)
    plan = form_batches(orders, DEMO, totes_per_cart=4)
    placed = [o for b in plan.batches for o in b.order_ids]
    assert sorted(placed) == sorted(orders)
    assert all(len(b.order_ids) <= 4 for b in plan.batches)
    assert len(plan.batches) >= 6  # 23 orders, 4 per cart
    assert not plan.rejected


def test_each_batch_route_picks_exactly_its_orders_lines() -> None:
    orders = _wave(2, 12)
    plan = form_batches(orders, DEMO, totes_per_cart=5)
    for batch in plan.batches:
        expected = sorted((o, s) for o in batch.order_ids for s in orders[o])
        assert sorted(batch.picks) == expected
        assert [s for _, s in batch.picks] == list(batch.route.stops)
        assert batch.length_m == pytest.approx(
            plan_route(DEMO, [s for o in batch.order_ids for s in orders[o]]).length_m
        )


def test_travel_and_saving_add_up() -> None:
    orders = _wave(3, 18)
    plan = form_batches(orders, DEMO, totes_per_cart=6)
    alone = sum(plan_route(DEMO, stops).length_m for stops in orders.values())
    assert plan.separate_travel_m == pytest.approx(alone)
    assert plan.travel_m == pytest.approx(sum(b.length_m for b in plan.batches))
    assert plan.saving_m == pytest.approx(alone - plan.travel_m)
    assert plan.saving_pct > 40  # 18 small orders on 3 carts instead of 18 tours
    assert plan.method in ("savings", "seed")


def test_batching_beats_an_arbitrary_grouping() -> None:
    orders = _wave(4, 24)
    plan = form_batches(orders, DEMO, totes_per_cart=6)
    ids = sorted(orders)
    naive = sum(
        plan_route(DEMO, [s for o in ids[i : i + 6] for s in orders[o]]).length_m
        for i in range(0, 24, 6)
    )
    assert plan.travel_m < naive


def test_orders_in_the_same_aisle_go_together() -> None:
    orders = {
        "near-1": [(1, 1)],
        "far-1": [(10, 20)],
        "near-2": [(1, 3)],
        "far-2": [(10, 18)],
    }
    plan = form_batches(orders, DEMO, totes_per_cart=2)
    groups = sorted(tuple(sorted(b.order_ids)) for b in plan.batches)
    assert groups == [("far-1", "far-2"), ("near-1", "near-2")]


def test_tote_positions_follow_the_walk_and_units_per_tote() -> None:
    orders = [
        BatchOrder("big", ((9, 2), (9, 4)), units=7),
        BatchOrder("small", ((1, 2),), units=1),
    ]
    plan = form_batches(orders, DEMO, totes_per_cart=4, max_units_per_tote=3)
    (batch,) = plan.batches
    positions = sorted(p for t in batch.totes.values() for p in t)
    assert positions == [1, 2, 3, 4]
    assert len(batch.totes["big"]) == 3 and len(batch.totes["small"]) == 1
    first = batch.picks[0][0]
    assert 1 in batch.totes[first]  # the first order reached gets the first tote


def test_order_needing_more_totes_than_a_cart_is_rejected_with_reason() -> None:
    orders = [BatchOrder("huge", ((2, 2),), units=50), BatchOrder("ok", ((3, 3),))]
    plan = form_batches(orders, DEMO, totes_per_cart=4, max_units_per_tote=10)
    assert [b.order_ids for b in plan.batches] == [("ok",)]
    (rejected,) = plan.rejected
    assert rejected.order_id == "huge" and "5 totes" in rejected.reason


def test_order_with_a_stop_outside_the_layout_is_rejected_not_lost() -> None:
    orders = {"bad": [(12, 1)], "good": [(2, 2)], "empty": []}
    plan = form_batches(orders, DEMO, totes_per_cart=3)
    assert [b.order_ids for b in plan.batches] == [("good",)]
    reasons = {r.order_id: r.reason for r in plan.rejected}
    assert "not in the layout" in reasons["bad"]
    assert "nothing to pick" in reasons["empty"]


def test_all_orders_rejected_gives_an_empty_plan() -> None:
    plan = form_batches({"bad": [(0, 0)]}, DEMO, totes_per_cart=3)
    assert plan.batches == () and plan.travel_m == 0 and plan.saving_pct == 0


@pytest.mark.parametrize(
    ("orders", "kwargs", "words"),
    [
        ({}, {"totes_per_cart": 4}, "no orders"),
        ({"a": [(1, 1)]}, {"totes_per_cart": 0}, "at least one tote"),
        ({"a": [(1, 1)]}, {"totes_per_cart": 4, "max_units_per_tote": 0}, "max_units_per_tote"),
        ([BatchOrder("a", ((1, 1),)), BatchOrder("a", ((2, 2),))], {"totes_per_cart": 4}, "twice"),
        ([("a", [(1, 1)])], {"totes_per_cart": 4}, "BatchOrder"),
    ],
)
def test_bad_batching_input_is_a_clear_error(
    orders: object, kwargs: dict[str, int], words: str
) -> None:
    with pytest.raises(BatchingError, match=words):
        form_batches(orders, DEMO, **kwargs)  # type: ignore[arg-type]
    assert issubclass(BatchingError, DomainError)


def test_same_input_same_plan() -> None:
    orders = _wave(6, 15)
    a = form_batches(orders, DEMO, totes_per_cart=5)
    b = form_batches(orders, DEMO, totes_per_cart=5)
    assert [x.order_ids for x in a.batches] == [x.order_ids for x in b.batches]
