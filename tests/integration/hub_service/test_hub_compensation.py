"""Compensating work as put-away stock tasks (SQLite and PostgreSQL): a cancelled order's
picked units go back from the tote or the parcel to where they were picked, leased and
pushed to a device like any other stock task; a parcel packed after the cancellation
moves the tasks to the parcel instead of doubling them; doing the put-aways on the leased
devices restores the stock, and the stock check reconciles."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hub_builders import SITE, apply, envelope, inbox_seqs, pick_every_line, stock
from sqlalchemy import Engine, select

from floor_app.domain.events import LabelConfirmed, LabelPrinted, PackCompleted, StockMoved
from hub import allocate, cancel_order, transact
from hub.stock_check import check_stock
from hub.tables import StockTaskRow, table_of
from sync.protocol import Topics

pytestmark = pytest.mark.integration

TOPICS = Topics(SITE)
PUTAWAYS = table_of(StockTaskRow)
ORDER = "SO-100003"
Picked = tuple[str, Any, list[Any], int]


def putaways(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(PUTAWAYS).where(PUTAWAYS.c.kind == "putaway").order_by(PUTAWAYS.c.task_id)
            )
        )


def picked(engine: Engine, before: dict[tuple[str, str], int] | None = None) -> Picked:
    """Start SO-100003's task and pick every line of it: (device, task, lines, next seq)."""
    return pick_every_line(engine, ORDER, before)


def cancel(engine: Engine) -> dict[str, Any]:
    summary, _sent = transact(
        engine, TOPICS, lambda c, out: cancel_order(c, out, ORDER, "customer call")
    )
    return dict(summary)


def test_cancelling_a_picked_order_makes_a_putaway_task_per_tote_line_leased_and_pushed(
    demo_engine: Engine,
) -> None:
    _device, task, lines, _seq = picked(demo_engine)
    summary = cancel(demo_engine)
    made = putaways(demo_engine)
    assert summary["putaway_tasks"] == [r.task_id for r in made]
    want = sorted(
        (ln.sku, ln.qty, f"tote {ln.tote_position} of task {task.task_id}", ln.location)
        for ln in lines
    )
    assert sorted((r.sku, r.qty, r.from_location, r.to_location) for r in made) == want
    assert {(r.state, r.origin, r.origin_ref) for r in made} == {("open", "cancelled", ORDER)}
    report = allocate(demo_engine, SITE)
    leased = putaways(demo_engine)
    assert {r.state for r in leased} == {"assigned"}
    for r in leased:
        pushed = [
            json.loads(m.payload)["item"]
            for m in report.messages
            if m.topic == TOPICS.push(r.lease_device)
        ]
        assert any(
            item["kind"] == "stock_task.assigned" and item["task"]["task_id"] == r.task_id
            for item in pushed
        ), pushed
    with demo_engine.connect() as conn:
        assert check_stock(conn)["ok"] is True


def test_a_parcel_packed_after_the_cancellation_moves_the_tasks_to_the_parcel(
    demo_engine: Engine,
) -> None:
    picked(demo_engine)
    cancel(demo_engine)
    before = putaways(demo_engine)
    packed = apply(
        demo_engine,
        "pk-01",
        [
            envelope(
                "pk-01",
                1,
                PackCompleted(
                    order=ORDER, station="PACK-01", carton="CTN-M", weight_g=900, user="ben"
                ),
            )
        ],
    )
    assert packed.outcomes[0][1].note == "order is cancelled: unpack and return the units to stock"
    after = putaways(demo_engine)
    assert [r.task_id for r in after] == [r.task_id for r in before]  # none added
    assert {r.from_location for r in after} == {"parcel at PACK-01"}
    assert [(r.sku, r.qty, r.to_location) for r in after] == [
        (r.sku, r.qty, r.to_location) for r in before
    ]
    assert all(a.version == b.version + 1 for a, b in zip(after, before, strict=True))


def test_cancelling_a_labelled_order_puts_its_units_away_from_the_parcel(
    demo_engine: Engine,
) -> None:
    _device, _task, lines, _seq = picked(demo_engine)
    packer = [
        PackCompleted(order=ORDER, station="PACK-02", carton="CTN-M", weight_g=900, user="ben"),
        LabelPrinted(
            job="J-1", order=ORDER, tracking="1Z999AA10123456784", carrier="ups", user="b"
        ),
        LabelConfirmed(job="J-1", order=ORDER, tracking="1Z999AA10123456784", user="b"),
    ]
    apply(demo_engine, "pk-02", [envelope("pk-02", i + 1, e) for i, e in enumerate(packer)])
    cancel(demo_engine)
    made = putaways(demo_engine)
    assert sorted((r.sku, r.qty, r.to_location) for r in made) == sorted(
        (ln.sku, ln.qty, ln.location) for ln in lines
    )
    assert {r.from_location for r in made} == {"parcel at PACK-02"}


def test_doing_the_putaways_puts_the_units_back_and_the_stock_reconciles(
    demo_engine: Engine,
) -> None:
    before: dict[tuple[str, str], int] = {}
    picked(demo_engine, before)
    assert all(stock(demo_engine, *place)[0] < qty for place, qty in before.items())
    cancel(demo_engine)
    allocate(demo_engine, SITE)
    for rec in putaways(demo_engine):
        device = rec.lease_device
        seq = max(inbox_seqs(demo_engine, device), default=0) + 1
        moved = StockMoved(
            task=rec.task_id,
            sku=rec.sku,
            from_location=rec.from_location,
            to_location=rec.to_location,
            qty=rec.qty,
            reason="putaway",
            user="alice",
        )
        result = apply(demo_engine, device, [envelope(device, seq, moved)])
        assert result.outcomes[0][1].kind == "applied", result.outcomes
    assert {r.state for r in putaways(demo_engine)} == {"done"}
    after = {place: stock(demo_engine, *place)[0] for place in before}
    assert after == before
    with demo_engine.connect() as conn:
        found = check_stock(conn)
    assert found["ok"] is True, found
