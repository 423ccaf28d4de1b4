"""Allocation on a real database: reservations, batches in route order, leases to pickers'
devices by zone and load, pack stations; claims on leased tasks; lease expiry."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hub_builders import SITE, apply, envelope
from sqlalchemy import Engine, select, update

from floor_app.domain.events import TaskStarted
from floor_app.domain.layout import Layout
from floor_app.domain.routing import route_length
from hub import allocate
from hub.site_data import load_layout
from hub.tables import (
    DeviceRow,
    OrderLineRow,
    OrderRow,
    PickLineRow,
    PickTaskRow,
    PushRow,
    StockRow,
    table_of,
)
from hub.task_building import load_locations
from sync.protocol import ClaimRefused, Topics, decode_ack

pytestmark = pytest.mark.integration

TASKS = table_of(PickTaskRow)
LINES = table_of(PickLineRow)
ORDERS = table_of(OrderRow)
STOCK = table_of(StockRow)
PUSHES = table_of(PushRow)
DEVICES = table_of(DeviceRow)


def tasks_by_device(engine: Engine) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for row in conn.execute(select(TASKS).order_by(TASKS.c.task_id)):
            out.setdefault(row.lease_device or "-", []).append(row.task_id)
    return out


def test_allocation_reserves_batches_and_leases_every_order(demo_engine: Engine) -> None:
    report = allocate(demo_engine, SITE)
    assert len(report.reserved) == 20 and report.waiting == {}
    picks = {t for t in report.assigned if not t.startswith("ST-")}  # refills are ST-
    assert report.tasks and picks == set(report.tasks)
    with demo_engine.connect() as conn:
        states = set(conn.execute(select(ORDERS.c.state)).scalars())
        over = conn.execute(select(STOCK).where(STOCK.c.reserved > STOCK.c.qty)).all()
        stations = set(conn.execute(select(ORDERS.c.pack_station)).scalars())
        lines = conn.execute(select(LINES)).all()
        leases = conn.execute(select(TASKS.c.lease_device, TASKS.c.state)).all()
    assert states == {"allocated"}
    assert over == []
    assert stations == {"PACK-01", "PACK-02"}
    assert {state for _, state in leases} == {"assigned"}
    pickers = {device for device, _ in leases}
    assert pickers <= {"hh-01", "hh-02", "hh-03", "hh-04"} and len(pickers) > 1
    # every ordered unit is on exactly one pick line
    picked_units = sum(ln.qty for ln in lines)
    assert picked_units == sum(ln.qty for o in _orders(demo_engine) for ln in o)
    # each device got its task pushed with the task's orders
    by_device = tasks_by_device(demo_engine)
    with demo_engine.connect() as conn:
        kinds = {
            device: [
                r.kind
                for r in conn.execute(
                    select(PUSHES.c.kind)
                    .where(PUSHES.c.device_id == device)
                    .order_by(PUSHES.c.cursor)
                )
            ]
            for device in by_device
        }
    for device, tasks in by_device.items():
        assert kinds[device].count("task.assigned") == len(tasks)
    assert any(m.topic.endswith("/push") for m in report.messages)


def _orders(engine: Engine) -> list[list[object]]:
    lines = table_of(OrderLineRow)
    with engine.connect() as conn:
        rows = conn.execute(select(lines)).all()
    grouped: dict[str, list[object]] = {}
    for r in rows:
        grouped.setdefault(r.order_id, []).append(r)
    return list(grouped.values())


def test_task_lines_follow_a_route_no_longer_than_the_s_shape_walk(demo_engine: Engine) -> None:
    allocate(demo_engine, SITE)
    with demo_engine.connect() as conn:
        layout = load_layout(conn)
        assert isinstance(layout, Layout)
        for task_id in conn.execute(select(TASKS.c.task_id)).scalars():
            lines = conn.execute(
                select(LINES).where(LINES.c.task_id == task_id).order_by(LINES.c.sequence)
            ).all()
            locs = load_locations(conn, [ln.location for ln in lines])
            stops = [locs[ln.location] for ln in lines]
            walked = route_length(layout, stops, "optimal")
            s_shape = route_length(layout, stops, "s_shape")
            assert walked <= s_shape + 1e-6
            assert [ln.sequence for ln in lines] == list(range(len(lines)))


def test_zones_limit_which_device_gets_a_task(demo_engine: Engine) -> None:
    with demo_engine.begin() as conn:
        conn.execute(update(DEVICES).where(DEVICES.c.role == "picker").values(zones="Z"))
        conn.execute(update(DEVICES).where(DEVICES.c.device_id == "hh-04").values(zones="A,B"))
    report = allocate(demo_engine, SITE)
    assert report.tasks
    assert set(report.assigned.values()) == {"hh-04"}


def test_a_second_device_cannot_claim_a_leased_task(demo_engine: Engine) -> None:
    report = allocate(demo_engine, SITE)
    task_id, holder = sorted(report.assigned.items())[0]
    other = next(d for d in ("hh-01", "hh-02", "hh-03", "hh-04") if d != holder)
    with demo_engine.connect() as conn:
        version = conn.execute(
            select(TASKS.c.version).where(TASKS.c.task_id == task_id)
        ).scalar_one()
    stolen = apply(
        demo_engine,
        other,
        [envelope(other, 1, TaskStarted(task=task_id, user="sam", task_version=version + 1))],
    )
    refusal = [decode_ack(m.payload) for m in stolen.messages if m.topic.endswith("/ack")]
    refused = [m for m in refusal if isinstance(m, ClaimRefused)]
    assert refused and f"leased to device {holder}" in refused[0].reason
    taken = apply(
        demo_engine,
        holder,
        [envelope(holder, 1, TaskStarted(task=task_id, user="alice", task_version=version + 1))],
    )
    assert taken.outcomes[0][1].kind == "applied"
    with demo_engine.connect() as conn:
        row = conn.execute(select(TASKS).where(TASKS.c.task_id == task_id)).one()
    assert (row.state, row.assigned_to, row.lease_device) == ("in_progress", "alice", holder)
    stale = apply(
        demo_engine,
        holder,
        [envelope(holder, 2, TaskStarted(task=task_id, user="alice", task_version=version))],
    )
    assert stale.outcomes[0][1].kind == "refused"
    assert "changed since this device saw it" in stale.outcomes[0][1].note


def test_after_the_lease_runs_out_another_device_may_take_the_task(demo_engine: Engine) -> None:
    report = allocate(demo_engine, SITE)
    task_id, holder = sorted(report.assigned.items())[0]
    other = next(d for d in ("hh-01", "hh-02", "hh-03", "hh-04") if d != holder)
    with demo_engine.begin() as conn:
        conn.execute(update(TASKS).where(TASKS.c.task_id == task_id).values(lease_expires_at=1.0))
        version = conn.execute(
            select(TASKS.c.version).where(TASKS.c.task_id == task_id)
        ).scalar_one()
    taken = apply(
        demo_engine,
        other,
        [envelope(other, 1, TaskStarted(task=task_id, user="sam", task_version=version + 1))],
    )
    assert taken.outcomes[0][1].kind == "applied"
    told = [json.loads(m.payload) for m in taken.messages if m.topic == Topics(SITE).push(holder)]
    assert [t["item"]["kind"] for t in told] == ["task.cancelled"]
    assert f"device {other} took the task over" in told[0]["item"]["reason"]


def test_an_expired_lease_on_an_unstarted_task_goes_to_another_picker(demo_engine: Engine) -> None:
    first = allocate(demo_engine, SITE)
    task_id, holder = sorted(first.assigned.items())[0]
    with demo_engine.begin() as conn:
        conn.execute(update(TASKS).where(TASKS.c.task_id == task_id).values(lease_expires_at=1.0))
        conn.execute(update(DEVICES).where(DEVICES.c.device_id == holder).values(active=False))
    second = allocate(demo_engine, SITE)
    assert second.expired == [task_id]
    assert second.assigned.get(task_id) not in (None, holder)
    cancelled = [
        json.loads(m.payload)["item"]
        for m in second.messages
        if m.topic == Topics(SITE).push(holder)
    ]
    assert cancelled and cancelled[0]["kind"] == "task.cancelled"


def test_an_order_waits_when_stock_is_short_and_nothing_is_reserved(demo_engine: Engine) -> None:
    with demo_engine.begin() as conn:
        conn.execute(update(STOCK).where(STOCK.c.sku == "SKU-00020").values(qty=0))
    report = allocate(demo_engine, SITE)
    assert "SO-100003" in report.waiting
    assert "SKU-00020" in report.waiting["SO-100003"][0]
    with demo_engine.connect() as conn:
        state = conn.execute(
            select(ORDERS.c.state).where(ORDERS.c.order_id == "SO-100003")
        ).scalar_one()
        reserved = (
            conn.execute(select(STOCK.c.reserved).where(STOCK.c.sku == "SKU-00020")).scalars().all()
        )
    assert state == "validated"
    assert set(reserved) == {0}


def test_an_order_that_breaks_the_pass_is_set_aside_and_the_rest_are_allocated(
    demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hub.allocation as allocation

    with demo_engine.connect() as conn:
        first = conn.execute(select(ORDERS.c.order_id).order_by(ORDERS.c.order_id)).scalar()
    assert first is not None
    real = allocation.reserve_one

    def breaks_on_first(conn: Any, order_id: str, *args: Any) -> Any:
        if order_id == first:
            raise MemoryError("one carton item per unit")
        return real(conn, order_id, *args)

    monkeypatch.setattr(allocation, "reserve_one", breaks_on_first)
    report = allocate(demo_engine, SITE)
    assert len(report.reserved) == 19 and first not in report.reserved
    assert "allocation failed: MemoryError" in report.held[first]
    with demo_engine.connect() as conn:
        state, reason = conn.execute(
            select(ORDERS.c.state, ORDERS.c.hold_reason).where(ORDERS.c.order_id == first)
        ).one()
    assert state == "held" and "one carton item per unit" in reason
    assert allocate(demo_engine, SITE).held == {}  # set aside: the next pass goes on
