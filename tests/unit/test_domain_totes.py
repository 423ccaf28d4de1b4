"""Totes: the site's reusable totes, the busy-tote rule, scanning totes for a task, puts
confirmed by tote scans, and where each tote goes at the end of a task."""

import pytest

from floor_app.domain.codes import CodeKind, classify
from floor_app.domain.errors import DomainError
from floor_app.domain.order import OrderState
from floor_app.domain.picking import PickLine, PickTask, PutConfirmation, ShortReason, Tote
from floor_app.domain.totes import (
    SiteTote,
    ToteBusy,
    ToteState,
    destination_of,
    drops_of,
    expand_tote_codes,
    site_totes,
)

pytestmark = pytest.mark.unit

EVERY, FIRST = PutConfirmation.EVERY_LINE, PutConfirmation.FIRST_PUT


def line(line_id: str, position: int, qty: int = 1, order: str = "SO-1") -> PickLine:
    return PickLine(line_id, order, 1, "SKU-1", "04006381333931", "A01-01-1A", qty, position)


def cart_task(*, positions: int = 2) -> PickTask:
    """Two lines into tote 1 (SO-1) and one into each further position."""
    lines = [line("L1", 1), line("L2", 1)]
    lines += [line(f"L{p + 1}", p, order=f"SO-{p}") for p in range(2, positions + 1)]
    totes = [Tote("", p, f"SO-{p}", "PACK-01") for p in range(1, positions + 1)]
    return PickTask("PT-1", lines, totes=totes)


# -- codes -------------------------------------------------------------------------------


def test_a_cart_code_is_its_own_kind() -> None:
    assert classify("CART-07").kind is CodeKind.CART
    assert classify("cart-07").value == "CART-07"
    assert classify("CTN-M").kind is CodeKind.CARTON  # a carton is not a cart
    assert classify("T0042").kind is CodeKind.TOTE


def test_tote_codes_and_ranges_expand_in_order_each_once() -> None:
    assert expand_tote_codes(["T0003-T0005", "T0001", "t0004"]) == [
        "T0003",
        "T0004",
        "T0005",
        "T0001",
    ]


@pytest.mark.parametrize("entry", ["T12", "X0001", "T0005-T0001", "T0001-CART-01", ""])
def test_a_bad_tote_entry_is_named(entry: str) -> None:
    with pytest.raises(DomainError, match="tote"):
        expand_tote_codes([entry])


def test_site_totes_stand_on_their_carts_in_order() -> None:
    totes = {t.code: t for t in site_totes(["T0001", "T0002", "T0003"], {"CART-01": ["T0002"]})}
    assert (totes["T0002"].cart, totes["T0002"].cart_position) == ("CART-01", 1)
    assert totes["T0001"].cart == "" and all(t.state is ToteState.FREE for t in totes.values())
    with pytest.raises(DomainError, match="not one of the site's totes"):
        site_totes(["T0001"], {"CART-01": ["T0009"]})
    with pytest.raises(DomainError, match="two carts"):
        site_totes(["T0001"], {"CART-01": ["T0001"], "CART-02": ["T0001"]})
    with pytest.raises(DomainError, match="not a cart code"):
        site_totes(["T0001"], {"TROLLEY": ["T0001"]})


# -- the busy-tote rule ------------------------------------------------------------------


def test_a_tote_holding_an_unpacked_order_is_refused_naming_the_order() -> None:
    tote = SiteTote("T0003")
    tote.fill("SO-100008", "PT-1")
    tote.hold("PACK-01")
    for state in (OrderState.PICKED, OrderState.PACKING, OrderState.HELD, None):
        with pytest.raises(ToteBusy, match="T0003 still holds order SO-100008") as caught:
            tote.check_free_for("SO-100020", "PT-2", state)
        assert caught.value.order_id == "SO-100008" and caught.value.tote == "T0003"


@pytest.mark.parametrize(
    "state", [OrderState.PACKED, OrderState.LABELLED, OrderState.SHIPPED, OrderState.CANCELLED]
)
def test_an_order_done_with_its_tote_frees_it(state: OrderState) -> None:
    tote = SiteTote("T0003", ToteState.HOLDING, "SO-100008", "PT-1", "PACK-01")
    tote.check_free_for("SO-100020", "PT-2", state)  # no error
    assert not tote.holds_unpacked(state)


def test_a_tote_takes_more_of_its_own_order_and_once_released_any() -> None:
    tote = SiteTote("T0003")
    tote.fill("SO-1", "PT-1")
    tote.check_free_for("SO-1", "PT-1")  # the same position scanned again
    tote.check_free_for("SO-1", "PT-2")  # the order's units reallocated to another task
    with pytest.raises(ToteBusy):
        tote.check_free_for("SO-2", "PT-2")
    tote.release()
    assert (tote.state, tote.order_id, tote.task_id) == (ToteState.FREE, None, None)
    tote.check_free_for("SO-9", "PT-9")


# -- totes of a task -----------------------------------------------------------------------


def test_totes_are_scanned_position_by_position_and_never_twice() -> None:
    task = cart_task(positions=3)
    assert [t.position for t in task.totes_to_scan()] == [1, 2, 3]
    placed = task.assign_tote(1, "T0010")
    assert placed == Tote("T0010", 1, "SO-1", "PACK-01") and placed.is_scanned
    with pytest.raises(DomainError, match="T0010 is already tote 1 of this task"):
        task.assign_tote(2, "T0010")
    task.assign_tote(2, "T0011")
    assert [t.position for t in task.totes_to_scan()] == [3]
    with pytest.raises(DomainError, match="no tote 9"):
        task.assign_tote(9, "T0012")


def test_a_task_naming_no_totes_has_none_to_scan_and_no_puts() -> None:
    task = PickTask("PT-1", [line("L1", 1), line("L2", 2)])
    assert task.totes_to_scan() == []
    task.line("L1").confirm(1)
    assert task.pending_put(EVERY) is None


def test_every_line_put_is_confirmed_by_its_tote_when_the_task_fills_several() -> None:
    task = cart_task()
    task.assign_tote(1, "T0010")
    task.assign_tote(2, "T0011")
    first = task.line("L1")
    assert not task.put_due(first, EVERY)  # nothing picked yet
    first.confirm(1)
    assert task.pending_put(EVERY) is first
    with pytest.raises(DomainError, match="wrong tote: T0011 — this goes in tote 1"):
        task.confirm_put("L1", "T0011")
    assert task.confirm_put("L1", "T0010").tote_id == "T0010"
    assert first.put_tote == "T0010" and task.pending_put(EVERY) is None
    task.line("L2").confirm(1)
    assert task.pending_put(EVERY) is task.line("L2")  # every line: the same tote again


def test_first_put_per_tote_is_confirmed_once_per_tote() -> None:
    task = cart_task()
    task.assign_tote(1, "T0010")
    task.assign_tote(2, "T0011")
    task.line("L1").confirm(1)
    assert task.pending_put(FIRST) is task.line("L1")
    task.confirm_put("L1", "T0010")
    task.line("L2").confirm(1)
    assert task.pending_put(FIRST) is None  # tote 1 was confirmed already
    task.line("L3").confirm(1)
    assert task.pending_put(FIRST) is task.line("L3")  # the first put into tote 2


def test_one_tote_needs_no_put_scan() -> None:
    task = PickTask("PT-1", [line("L1", 1), line("L2", 1)], totes=[Tote("", 1, "SO-1")])
    task.assign_tote(1, "T0010")
    task.line("L1").confirm(1)
    assert not task.fills_several_totes and task.pending_put(EVERY) is None


def test_a_refused_tote_comes_off_its_position_with_its_puts() -> None:
    task = cart_task()
    task.assign_tote(1, "T0010")
    task.assign_tote(2, "T0011")
    task.line("L1").confirm(1)
    task.confirm_put("L1", "T0010")
    task.release_tote(1)
    assert [t.position for t in task.totes_to_scan()] == [1]
    assert task.line("L1").put_tote == "" and task.pending_put(EVERY) is None  # until rescanned
    task.assign_tote(1, "T0012")
    assert task.pending_put(EVERY) is task.line("L1")


def test_a_task_closes_once_its_lines_are_done_and_puts_confirmed() -> None:
    task = cart_task()
    task.assign_tote(1, "T0010")
    task.assign_tote(2, "T0011")
    for ln in task.lines:
        ln.confirm(1)
    assert task.is_complete and not task.ready_to_close(EVERY)
    for ln in task.lines:
        task.confirm_put(ln.line_id, "T0010" if ln.tote_position == 1 else "T0011")
    assert task.ready_to_close(EVERY)


# -- the end of a task -------------------------------------------------------------------


def test_each_tote_is_named_with_its_order_and_where_it_goes() -> None:
    task = cart_task(positions=3)
    for position, code in ((1, "T0010"), (2, "T0011"), (3, "T0012")):
        task.assign_tote(position, code)
    task.line("L1").confirm(1)
    task.line("L2").report_short(1, ShortReason.EMPTY)
    task.line("L3").confirm(1)
    task.line("L4").report_short(1, ShortReason.DAMAGED)
    states = {"SO-1": OrderState.SHORT, "SO-2": OrderState.PICKED}
    drops = drops_of(task, states.get, "STAGE-01")
    assert [(d.tote, d.order_id, d.destination, d.units) for d in drops] == [
        ("T0010", "SO-1", "STAGE-01", 1),  # short: it waits for a supervisor at staging
        ("T0011", "SO-2", "PACK-01", 1),
        ("T0012", "", "", 0),  # nothing went in: back to the stack
    ]


def test_a_picked_order_goes_to_its_pack_station_else_to_staging() -> None:
    assert destination_of(OrderState.PICKED, "PACK-02", "STAGE-01") == "PACK-02"
    assert destination_of(None, "PACK-02", "STAGE-01") == "PACK-02"
    assert destination_of(OrderState.PICKED, "", "STAGE-01") == "STAGE-01"
    assert destination_of(OrderState.HELD, "PACK-02", "STAGE-01") == "STAGE-01"
