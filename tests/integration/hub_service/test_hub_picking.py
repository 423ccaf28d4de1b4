"""Picking facts on a real database: a task picked through to the pack station, shortages
reallocated or held for a supervisor, facts about a cancelled order compensated."""

from __future__ import annotations

import json

import pytest
from hub_builders import SITE, apply, envelope, order_row, pick, start_task, stock
from sqlalchemy import Engine, select, update

from floor_app.domain.events import ShortApproved, ShortReported, TaskCompleted
from hub import cancel_order, transact
from hub.tables import (
    OrderLineRow,
    PickTaskRow,
    ReservationRow,
    ShortageRow,
    StockRow,
    StockTaskRow,
    table_of,
)
from sync.protocol import Topics

pytestmark = pytest.mark.integration

TOPICS = Topics(SITE)
STOCK = table_of(StockRow)
PUTAWAYS = table_of(StockTaskRow)
TASKS = table_of(PickTaskRow)


def test_picking_every_line_makes_the_order_picked_and_sends_it_to_its_station(
    demo_engine: Engine,
) -> None:
    device, task, lines, seq = start_task(demo_engine, "SO-100003")
    line = lines[0]
    before = stock(demo_engine, line.location, line.sku)
    events = [
        envelope(
            device,
            seq,
            pick(
                "SO-100003",
                line.sku,
                task=task.task_id,
                line=line.line_id,
                qty=line.qty,
                location=line.location,
                tote=line.tote_position,
            ),
        )
    ]
    result = apply(demo_engine, device, events)
    row = order_row(demo_engine, "SO-100003")
    assert row.state == "picked"
    after = stock(demo_engine, line.location, line.sku)
    assert after == (before[0] - line.qty, before[1] - line.qty)
    station_device = {"PACK-01": "pk-01", "PACK-02": "pk-02"}[row.pack_station]
    pushed = [
        json.loads(m.payload)["item"]
        for m in result.messages
        if m.topic == TOPICS.push(station_device)
    ]
    assert [p["kind"] for p in pushed] == ["order.snapshot"]
    assert pushed[0]["order"]["state"] == "picked"
    statuses = [json.loads(m.payload) for m in result.messages if "/orders/" in m.topic]
    assert [s["state"] for s in statuses] == ["picked"]


def test_a_short_is_reallocated_from_another_location_as_a_new_task(demo_engine: Engine) -> None:
    device, task, lines, seq = start_task(demo_engine, "SO-100003")
    line = lines[0]
    short = ShortReported(
        task=task.task_id,
        line=line.line_id,
        order="SO-100003",
        sku=line.sku,
        location=line.location,
        qty=line.qty,
        reason="empty",
        user="alice",
    )
    result = apply(demo_engine, device, [envelope(device, seq, short)])
    assert "reallocated" in result.outcomes[0][1].note
    with demo_engine.connect() as conn:
        new = conn.execute(select(TASKS).where(TASKS.c.origin == "reallocation")).one()
        shortage = conn.execute(select(table_of(ShortageRow))).one()
        reservations = conn.execute(
            select(table_of(ReservationRow)).where(
                table_of(ReservationRow).c.task_id == new.task_id
            )
        ).all()
    assert (new.lease_device, new.state) == (device, "assigned")
    assert shortage.reallocated == line.qty
    assert sum(r.qty for r in reservations) == line.qty
    assert all(r.location != line.location for r in reservations)
    assert order_row(demo_engine, "SO-100003").state == "picking"
    pushed = [
        json.loads(m.payload)["item"]["kind"]
        for m in result.messages
        if m.topic == TOPICS.push(device)
    ]
    assert "task.assigned" in pushed


def test_a_short_without_stock_waits_for_a_supervisor_who_approves_it(
    demo_engine: Engine,
) -> None:
    device, task, lines, seq = start_task(demo_engine, "SO-100003")
    line = lines[0]
    with demo_engine.begin() as conn:  # nothing anywhere else
        conn.execute(
            update(STOCK)
            .where(STOCK.c.sku == line.sku)
            .where(STOCK.c.location != line.location)
            .values(qty=0, reserved=0)
        )
    short = ShortReported(
        task=task.task_id,
        line=line.line_id,
        order="SO-100003",
        sku=line.sku,
        location=line.location,
        qty=line.qty,
        reason="damaged",
        user="alice",
    )
    result = apply(
        demo_engine,
        device,
        [
            envelope(device, seq, short),
            envelope(device, seq + 1, TaskCompleted(task=task.task_id, user="alice")),
        ],
    )
    assert "waiting for a supervisor" in result.outcomes[0][1].note
    row = order_row(demo_engine, "SO-100003")
    assert row.state == "short"
    approve = ShortApproved(order="SO-100003", user="grace", order_version=row.version)
    approved = apply(
        demo_engine, "sv-01", [envelope("sv-01", 1, approve, order_version=row.version)]
    )
    assert approved.outcomes[0][1].kind == "applied"
    assert order_row(demo_engine, "SO-100003").state == "picked"


def test_facts_for_a_cancelled_order_are_recorded_and_compensated(demo_engine: Engine) -> None:
    device, task, lines, seq = start_task(demo_engine, "SO-100003")
    line = lines[0]
    before = stock(demo_engine, line.location, line.sku)
    summary, sent = transact(
        demo_engine, TOPICS, lambda c, out: cancel_order(c, out, "SO-100003", "customer call")
    )
    assert summary["released_units"] == line.qty
    assert stock(demo_engine, line.location, line.sku) == (before[0], before[1] - line.qty)
    told = [json.loads(m.payload)["item"]["kind"] for m in sent if m.topic == TOPICS.push(device)]
    assert "order.cancelled" in told
    late = pick(
        "SO-100003",
        line.sku,
        task=task.task_id,
        line=line.line_id,
        qty=line.qty,
        location=line.location,
    )
    result = apply(demo_engine, device, [envelope(device, seq, late)])
    assert result.outcomes[0][1].kind == "applied"
    assert "go back to stock" in result.outcomes[0][1].note
    assert order_row(demo_engine, "SO-100003").state == "cancelled"
    with demo_engine.connect() as conn:
        returns = conn.execute(select(PUTAWAYS).where(PUTAWAYS.c.kind == "putaway")).all()
    assert [
        (r.kind, r.state, r.origin, r.origin_ref, r.sku, r.qty, r.from_location, r.to_location)
        for r in returns
    ] == [
        (
            "putaway",
            "open",
            "cancelled",
            "SO-100003",
            line.sku,
            line.qty,
            f"tote {late.tote_position} of task {task.task_id}",
            line.location,
        )
    ]
    assert not any("/orders/" in m.topic for m in result.messages)  # status unchanged


def test_units_picked_beyond_the_order_go_back_to_stock(demo_engine: Engine) -> None:
    device, task, lines, seq = start_task(demo_engine, "SO-100003")
    line = lines[0]
    extra = pick(
        "SO-100003",
        line.sku,
        task=task.task_id,
        line=line.line_id,
        qty=line.qty + 2,
        location=line.location,
    )
    result = apply(demo_engine, device, [envelope(device, seq, extra)])
    assert "2 picked beyond the order" in result.outcomes[0][1].note
    with demo_engine.connect() as conn:
        returns = conn.execute(select(PUTAWAYS).where(PUTAWAYS.c.kind == "putaway")).all()
        picked = conn.execute(
            select(table_of(OrderLineRow).c.picked).where(
                table_of(OrderLineRow).c.order_id == "SO-100003"
            )
        ).scalar_one()
    assert [(r.kind, r.origin, r.qty, r.reason, r.to_location) for r in returns] == [
        ("putaway", "surplus", 2, "picked more than ordered", line.location)
    ]
    assert picked == line.qty + 2
