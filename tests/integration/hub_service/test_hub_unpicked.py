"""A pick task completed with units neither picked nor reported short: their reservation
leaves the finished task, and they go back to allocation (or are short when no stock is
free any more); stock, reservations and open work stay consistent, nothing is oversold."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hub_builders import (
    SITE,
    apply,
    envelope,
    order_row,
    pick,
    reservation_problems,
    start_task,
)
from sqlalchemy import Engine, select, update

from floor_app.domain.events import TaskCompleted
from hub import allocate
from hub.tables import (
    OrderLineRow,
    PickLineRow,
    PickTaskRow,
    ReservationRow,
    StockRow,
    table_of,
)

pytestmark = pytest.mark.integration

LINES = table_of(PickLineRow)
RESERVATIONS = table_of(ReservationRow)
STOCK = table_of(StockRow)
TASKS = table_of(PickTaskRow)


def pick_line(device: str, seq: int, task: Any, line: Any, qty: int) -> Any:
    return envelope(
        device,
        seq,
        pick(
            line.order_id,
            line.sku,
            task=task.task_id,
            line=line.line_id,
            qty=qty,
            location=line.location,
            tote=line.tote_position,
        ),
    )


def complete_with_one_order_picked(engine: Engine, order_id: str) -> tuple[Any, list[Any], Any]:
    """Start the task of ``order_id``, pick only that order's lines, complete the task:
    (task, every line of the task, the completion's outcome)."""
    device, task, _own, seq = start_task(engine, order_id)
    with engine.connect() as conn:
        lines = conn.execute(
            select(LINES).where(LINES.c.task_id == task.task_id).order_by(LINES.c.sequence)
        ).all()
    picks = [ln for ln in lines if ln.order_id == order_id]
    events = [pick_line(device, seq + n, task, ln, ln.qty) for n, ln in enumerate(picks)]
    events.append(
        envelope(device, seq + len(events), TaskCompleted(task=task.task_id, user="alice"))
    )
    result = apply(engine, device, events)
    assert all(outcome.kind == "applied" for _, outcome in result.outcomes)
    return task, lines, result.outcomes[-1][1]


def test_unpicked_units_of_a_completed_task_go_back_to_allocation(demo_engine: Engine) -> None:
    assert reservation_problems(demo_engine) == []
    task, lines, outcome = complete_with_one_order_picked(demo_engine, "SO-100003")
    unpicked = Counter(
        {(ln.order_id, ln.order_line_no): ln.qty for ln in lines if ln.order_id != "SO-100003"}
    )
    assert unpicked, "the task must hold other orders for this test"
    assert "back to allocation" in outcome.note
    assert reservation_problems(demo_engine) == []
    with demo_engine.connect() as conn:
        assert (
            conn.execute(select(TASKS.c.state).where(TASKS.c.task_id == task.task_id)).scalar_one()
            == "done"
        )
        waiting = conn.execute(select(RESERVATIONS).where(RESERVATIONS.c.task_id.is_(None))).all()
    assert Counter({(r.order_id, r.line_no): r.qty for r in waiting if r.qty}) == unpicked
    assert order_row(demo_engine, "SO-100003").state == "picked"

    report = allocate(demo_engine, SITE)  # the next pass batches them into a new task
    assert report.tasks and set(report.tasks) <= set(report.assigned)
    with demo_engine.connect() as conn:
        again = conn.execute(select(LINES).where(LINES.c.task_id.in_(report.tasks))).all()
    batched = Counter()
    for ln in again:
        batched[(ln.order_id, ln.order_line_no)] += ln.qty
    assert batched == unpicked
    assert reservation_problems(demo_engine) == []


def test_unpicked_units_without_free_stock_make_the_order_short(demo_engine: Engine) -> None:
    allocate(demo_engine, SITE)
    with demo_engine.connect() as conn:
        own = conn.execute(
            select(LINES).where(LINES.c.order_id == "SO-100005").order_by(LINES.c.sequence)
        ).all()
    line = own[0]
    with demo_engine.begin() as conn:  # a count finds the units gone, and none free elsewhere
        conn.execute(
            update(STOCK)
            .where(STOCK.c.sku == line.sku)
            .where(STOCK.c.location == line.location)
            .values(qty=STOCK.c.reserved - line.qty)
        )
        conn.execute(
            update(STOCK)
            .where(STOCK.c.sku == line.sku)
            .where(STOCK.c.location != line.location)
            .values(qty=STOCK.c.reserved)
        )
    other = next(
        o
        for o in sorted({ln.order_id for ln in task_lines(demo_engine, line.task_id)})
        if o != "SO-100005"
    )
    complete_with_one_order_picked(demo_engine, other)
    assert reservation_problems(demo_engine) == []  # never promised beyond what is there
    row = order_row(demo_engine, "SO-100005")
    assert row.state == "short"
    with demo_engine.connect() as conn:
        short = conn.execute(
            select(table_of(OrderLineRow).c.short)
            .where(table_of(OrderLineRow).c.order_id == "SO-100005")
            .where(table_of(OrderLineRow).c.line_no == line.order_line_no)
        ).scalar_one()
    assert short == line.qty


def task_lines(engine: Engine, task_id: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(LINES).where(LINES.c.task_id == task_id)).all())


def test_a_second_completion_of_the_same_task_changes_nothing(demo_engine: Engine) -> None:
    task, _lines, _outcome = complete_with_one_order_picked(demo_engine, "SO-100003")
    device = task.lease_device
    with demo_engine.connect() as conn:
        before = conn.execute(select(RESERVATIONS).order_by(*RESERVATIONS.primary_key)).all()
        seq = 1 + len(conn.execute(select(LINES).where(LINES.c.order_id == "SO-100003")).all())
    again = apply(
        demo_engine,
        device,
        [envelope(device, seq + 2, TaskCompleted(task=task.task_id, user="alice"))],
    )
    assert again.outcomes[0][1].note == f"task {task.task_id} is already done"
    with demo_engine.connect() as conn:
        after = conn.execute(select(RESERVATIONS).order_by(*RESERVATIONS.primary_key)).all()
    assert before == after
    assert reservation_problems(demo_engine) == []
