"""The order state machine: every allowed move, every refused one, holds, terminal states."""

import itertools

import pytest

from floor_app.domain.errors import DomainError, IllegalTransition, QuantityError
from floor_app.domain.order import (
    MOVED_BY_PICKS,
    STAGES,
    TERMINAL,
    TRANSITIONS,
    Address,
    Order,
    OrderLine,
    OrderState,
    after_pick,
    check_transition,
    forward,
)

pytestmark = pytest.mark.unit

S = OrderState
ADDRESS = Address("Alice Walker", ("12 High Street",), "London", "SW1A 1AA", "GB")


def make_order(state: OrderState = S.RECEIVED) -> Order:
    lines = [OrderLine(1, "SKU-00001", 2), OrderLine(2, "SKU-00002", 1)]
    return Order("SO-100001", lines, ADDRESS, state=state)


ALLOWED = [
    (src, dst)
    for src, targets in TRANSITIONS.items()
    for dst in sorted(targets)
    if src is not S.HELD
]
REFUSED = [
    (src, dst)
    for src, dst in itertools.product(S, S)
    if src is not S.HELD and dst not in TRANSITIONS[src]
]


def test_every_state_has_an_entry() -> None:
    assert set(TRANSITIONS) == set(S)


def test_the_tables_cover_every_pair() -> None:
    held_pairs = [(S.HELD, dst) for dst in S]
    assert len(ALLOWED) + len(REFUSED) + len(held_pairs) == len(S) ** 2


@pytest.mark.parametrize(("src", "dst"), ALLOWED, ids=lambda s: str(s))
def test_every_allowed_transition(src: OrderState, dst: OrderState) -> None:
    check_transition(src, dst)
    order = make_order(src)
    order.transition(dst, "test")
    assert order.state is dst
    assert order.version == 2
    assert order.history == [(src, dst, "test")]
    if dst is S.HELD:
        assert order.held_from is src
        assert order.hold_reason == "test"


@pytest.mark.parametrize(("src", "dst"), REFUSED, ids=lambda s: str(s))
def test_every_other_transition_is_refused_with_a_reason(src: OrderState, dst: OrderState) -> None:
    with pytest.raises(IllegalTransition) as info:
        check_transition(src, dst)
    assert str(src) in info.value.reason
    order = make_order(src)
    with pytest.raises(IllegalTransition) as info:
        order.transition(dst)
    assert "SO-100001" in info.value.reason
    assert str(src) in info.value.reason
    if src not in TERMINAL:
        assert str(dst) in info.value.reason
    # Nothing changed.
    assert (order.state, order.version, order.history) == (src, 1, [])


@pytest.mark.parametrize("src", sorted(TERMINAL))
def test_terminal_states_refuse_everything(src: OrderState) -> None:
    assert TRANSITIONS[src] == frozenset()
    order = make_order(src)
    for dst in S:
        with pytest.raises(IllegalTransition, match="nothing can change it any more"):
            order.transition(dst)
    with pytest.raises(IllegalTransition):
        order.hold("customer called")
    with pytest.raises(IllegalTransition):
        order.cancel("too late")


def test_refusal_lists_the_allowed_targets() -> None:
    with pytest.raises(IllegalTransition) as info:
        check_transition(S.RECEIVED, S.SHIPPED)
    assert "cancelled, held, validated" in info.value.reason


HOLDABLE = [s for s in S if S.HELD in TRANSITIONS[s]]


def test_every_non_terminal_state_can_be_held() -> None:
    assert set(HOLDABLE) == set(S) - TERMINAL - {S.HELD}


@pytest.mark.parametrize("src", HOLDABLE)
def test_hold_and_release_return_to_the_held_from_state(src: OrderState) -> None:
    order = make_order(src)
    order.hold("damaged item")
    assert (order.state, order.held_from, order.hold_reason) == (S.HELD, src, "damaged item")
    assert order.version == 2
    order.release()
    assert order.state is src
    assert order.held_from is None
    assert order.hold_reason == ""
    assert order.version == 3
    assert order.history == [(src, S.HELD, "damaged item"), (S.HELD, src, "released")]


@pytest.mark.parametrize("src", HOLDABLE)
def test_held_order_moves_only_back_or_to_cancelled(src: OrderState) -> None:
    order = make_order(src)
    order.hold("check stock")
    for dst in S:
        if dst in (src, S.CANCELLED):
            continue
        with pytest.raises(IllegalTransition, match=f"released to {src} or cancelled") as info:
            order.transition(dst)
        assert str(dst) in info.value.reason
        assert order.state is S.HELD
    assert order.version == 2


@pytest.mark.parametrize("src", HOLDABLE)
def test_held_order_can_be_cancelled(src: OrderState) -> None:
    order = make_order(src)
    order.hold("fraud check")
    order.cancel("fraud confirmed")
    assert order.state is S.CANCELLED
    assert order.held_from is None
    assert order.version == 3
    with pytest.raises(IllegalTransition):
        order.release()


def test_check_transition_from_held_needs_the_held_from_state() -> None:
    check_transition(S.HELD, S.PICKING, held_from=S.PICKING)
    check_transition(S.HELD, S.CANCELLED)
    with pytest.raises(IllegalTransition, match="its earlier state"):
        check_transition(S.HELD, S.PICKING)
    with pytest.raises(IllegalTransition):
        check_transition(S.HELD, S.HELD, held_from=S.PICKING)


def test_release_of_an_order_not_held() -> None:
    order = make_order(S.PICKING)
    with pytest.raises(IllegalTransition, match="is picking, not held"):
        order.release()


def test_release_without_a_held_from_state() -> None:
    order = make_order(S.HELD)
    with pytest.raises(IllegalTransition, match="not held"):
        order.release()


def test_hold_needs_a_reason() -> None:
    order = make_order(S.PICKING)
    with pytest.raises(DomainError, match="needs a reason"):
        order.hold("")
    assert order.state is S.PICKING
    assert order.version == 1


def test_hold_from_held_is_refused() -> None:
    order = make_order(S.PACKING)
    order.hold("printer down")
    with pytest.raises(IllegalTransition):
        order.hold("again")
    assert order.held_from is S.PACKING


def test_happy_path_bumps_the_version_at_every_step() -> None:
    order = make_order()
    for i, stage in enumerate(STAGES[1:], start=2):
        order.transition(stage)
        assert order.version == i
    assert order.state is S.SHIPPED
    assert [h[1] for h in order.history] == list(STAGES[1:])


def test_stages_follow_allowed_transitions() -> None:
    for src, dst in itertools.pairwise(STAGES):
        assert dst in TRANSITIONS[src]


def test_short_branch_back_to_picking_and_on() -> None:
    order = make_order(S.PICKING)
    order.transition(S.SHORT, "bin empty")
    order.transition(S.ALLOCATED, "reallocated")
    order.transition(S.PICKING)
    order.transition(S.SHORT)
    order.transition(S.PICKED, "short approved")
    assert order.state is S.PICKED
    assert order.version == 6


# -- facts move orders forward -----------------------------------------------------------


def test_advance_walks_every_stage_in_between() -> None:
    order = make_order(S.VALIDATED)
    entered = order.advance(S.PACKED, "packed")
    assert entered == [S.ALLOCATED, S.PICKING, S.PICKED, S.PACKING, S.PACKED]
    assert order.state is S.PACKED and order.version == 6
    assert order.history == [
        (src, dst, "packed") for src, dst in itertools.pairwise([S.VALIDATED, *entered])
    ]


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (S.PACKED, S.PICKING),  # never backwards
        (S.PICKING, S.PICKING),  # already there
        (S.HELD, S.PACKED),  # a held order stays held
        (S.CANCELLED, S.PICKED),  # finished
        (S.SHIPPED, S.LABELLED),
        (S.VALIDATED, S.HELD),  # not a stage
        (S.PICKING, S.SHORT),
    ],
)
def test_advance_leaves_the_order_alone(start: OrderState, target: OrderState) -> None:
    order = make_order(start)
    assert forward(start, target) == ()
    assert order.advance(target) == []
    assert (order.state, order.version, order.history) == (start, 1, [])


def test_a_short_order_resumes_picking_or_moves_on() -> None:
    assert make_order(S.SHORT).advance(S.PICKING) == [S.PICKING]
    assert make_order(S.SHORT).advance(S.PACKED) == [S.PICKED, S.PACKING, S.PACKED]


@pytest.mark.parametrize("src", list(S), ids=str)
def test_every_forward_step_is_an_allowed_transition(src: OrderState) -> None:
    for target in STAGES:
        steps = forward(src, target)
        for a, b in itertools.pairwise((src, *steps)):
            check_transition(a, b)
        assert not steps or steps[-1] is target


@pytest.mark.parametrize(
    ("state", "nothing_open", "steps"),
    [
        (S.ALLOCATED, False, (S.PICKING,)),
        (S.ALLOCATED, True, (S.PICKING, S.PICKED)),
        (S.PICKING, False, ()),
        (S.PICKING, True, (S.PICKED,)),
    ],
)
def test_a_pick_starts_picking_and_ends_it_when_nothing_is_open(
    state: OrderState, nothing_open: bool, steps: tuple[OrderState, ...]
) -> None:
    assert after_pick(state, nothing_open=nothing_open) == steps


@pytest.mark.parametrize("state", sorted(set(S) - MOVED_BY_PICKS), ids=str)
def test_a_pick_moves_no_order_in_another_state(state: OrderState) -> None:
    # a short order waits for a supervisor; held, finished or later ones are not a pick's
    assert after_pick(state, nothing_open=True) == ()
    assert after_pick(state, nothing_open=False) == ()


def test_picked_clean_needs_every_unit_and_no_shortage() -> None:
    order = make_order(S.PICKING)
    first, second = order.lines
    first.picked, second.picked = 2, 1
    assert order.is_picked_clean
    first.picked, first.short = 1, 1
    assert order.is_fully_picked and not order.is_picked_clean
    first.short = 0
    assert not order.is_picked_clean


def test_cancel() -> None:
    order = make_order(S.PICKED)
    order.cancel("customer cancelled")
    assert order.state is S.CANCELLED
    assert order.history[-1] == (S.PICKED, S.CANCELLED, "customer cancelled")


# -- lines and addresses -----------------------------------------------------------------


@pytest.mark.parametrize("qty", [0, -1])
def test_order_line_needs_a_positive_quantity(qty: int) -> None:
    with pytest.raises(QuantityError, match="line 3: quantity must be positive"):
        OrderLine(3, "SKU-1", qty)


def test_order_needs_lines() -> None:
    with pytest.raises(DomainError, match="SO-1 has no lines"):
        Order("SO-1", [], ADDRESS)


def test_order_line_numbers_are_unique() -> None:
    with pytest.raises(DomainError, match="line 1 appears twice"):
        Order("SO-1", [OrderLine(1, "A", 1), OrderLine(1, "B", 1)], ADDRESS)


def test_open_to_pick_and_fully_picked() -> None:
    order = make_order()
    first, second = order.lines
    assert order.total_units == 3
    assert not order.is_fully_picked
    first.picked = 1
    first.short = 1
    assert first.open_to_pick == 0
    assert not order.is_fully_picked
    second.picked = 1
    assert order.is_fully_picked


def test_line_lookup() -> None:
    order = make_order()
    assert order.line(2).sku == "SKU-00002"
    with pytest.raises(DomainError, match="has no line 9"):
        order.line(9)


def test_complete_address_has_nothing_missing() -> None:
    assert ADDRESS.missing_fields() == []


def test_missing_address_fields_are_named() -> None:
    empty = Address(" ", ("", "  "), "", "\t", "")
    assert empty.missing_fields() == ["name", "city", "postcode", "country", "lines"]
    assert Address("A", (), "C", "P", "GB").missing_fields() == ["lines"]


def test_label_lines_english() -> None:
    address = Address("Alice Walker", ("12 High Street", "", "Flat 2"), "London", "SW1A 1AA", "GB")
    assert address.as_label_lines() == [
        "Alice Walker",
        "12 High Street",
        "Flat 2",
        "SW1A 1AA London",
        "GB",
    ]


def test_label_lines_chinese_keep_their_order() -> None:
    address = Address(
        "王芳", ("浦东新区世纪大道100号", "5楼12室"), "上海市", "200120", "CN", region="上海"
    )
    assert address.as_label_lines() == [
        "王芳",
        "浦东新区世纪大道100号",
        "5楼12室",
        "200120 上海市 上海",
        "CN",
    ]
