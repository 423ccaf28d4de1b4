"""Stock tasks: quantities, states and moves."""

from __future__ import annotations

import pytest

from floor_app.domain.errors import DomainError, IllegalTransition, QuantityError
from floor_app.domain.stockwork import StockTask, StockTaskKind, StockTaskState

pytestmark = pytest.mark.unit


def replenish(qty: int = 10) -> StockTask:
    return StockTask("ST-1", StockTaskKind.REPLENISH, "SKU-1", "04012345678901", "R01", "A01", qty)


def test_moves_count_up_to_the_quantity_and_never_past_it() -> None:
    task = replenish(10)
    task.confirm_move(4)
    task.confirm_move(6)
    assert (task.moved, task.open_qty) == (10, 0)
    with pytest.raises(QuantityError, match="more than the 0 still to move"):
        task.confirm_move(1)
    with pytest.raises(QuantityError, match="positive"):
        task.confirm_move(0)


def test_a_move_needs_a_quantity_and_a_count_needs_a_location() -> None:
    with pytest.raises(QuantityError, match="positive quantity"):
        replenish(0)
    with pytest.raises(QuantityError, match="negative"):
        StockTask("ST-2", StockTaskKind.COUNT, "", "", "A01", "", qty=-1)
    with pytest.raises(DomainError, match="names no location"):
        StockTask("ST-3", StockTaskKind.COUNT, "SKU-1", "", "", "")
    count = StockTask("ST-4", StockTaskKind.COUNT, "", "", "A01", "")
    assert count.open_qty == 0 and count.is_open


def test_states_move_along_the_table_and_bump_the_version() -> None:
    task = replenish()
    task.move_to(StockTaskState.IN_PROGRESS)
    task.move_to(StockTaskState.DONE)
    assert task.version == 3 and not task.is_open
    with pytest.raises(IllegalTransition, match="cannot go from done to assigned"):
        task.move_to(StockTaskState.ASSIGNED)


def test_units_taken_back_are_to_move_again_and_reopen_a_done_task() -> None:
    task = replenish()
    task.confirm_move(task.qty)
    task.move_to(StockTaskState.IN_PROGRESS)
    task.move_to(StockTaskState.DONE)
    version = task.version
    task.take_back(3, "the hub refused: reserve empty")
    assert (task.state, task.moved, task.open_qty) == (StockTaskState.IN_PROGRESS, task.qty - 3, 3)
    assert task.version == version + 1 and task.reason == "the hub refused: reserve empty"
    task.take_back(task.qty + 5, "again")
    assert task.moved == 0
    with pytest.raises(QuantityError):
        task.take_back(-1, "never")
    task.move_to(StockTaskState.CANCELLED)
    task.take_back(0, "a refused close")
    assert task.state is StockTaskState.CANCELLED
