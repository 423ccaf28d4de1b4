"""Stock tasks on the hub (SQLite and PostgreSQL): leased urgent first to a picker serving the
zone, pushed, taken back when nobody started them in time."""

from __future__ import annotations

import json

import pytest
from hub_builders import SITE
from sqlalchemy import Connection, Engine, select

from floor_app.domain.stockwork import StockTaskKind
from hub import run_transaction
from hub.outbound import Outbound
from hub.stock_tasks import (
    STOCK_TASKS,
    assign_open_stock_tasks,
    create,
    expire_stock_leases,
    load_stock_tasks,
    save,
)
from hub.tables import LocationRow, StockRow, table_of
from sync.protocol import Topics

pytestmark = pytest.mark.integration

LOCATIONS = table_of(LocationRow)
STOCK = table_of(StockRow)


def a_place(engine: Engine) -> tuple[str, str]:
    with engine.connect() as conn:
        row = conn.execute(select(STOCK.c.location, STOCK.c.sku).limit(1)).one()
    return row.location, row.sku


def test_urgent_work_is_leased_first_and_pushed_with_no_expected_quantity(
    demo_engine: Engine,
) -> None:
    location, sku = a_place(demo_engine)

    def make(conn: Connection) -> tuple[str, str]:
        count = create(conn, StockTaskKind.COUNT, sku=sku, from_location=location, expected=41)
        urgent = create(
            conn,
            StockTaskKind.REPLENISH,
            sku=sku,
            from_location=location,
            to_location=location,
            qty=5,
            urgent=True,
        )
        save(conn, [count, urgent], now=1.0)
        return count.task_id, urgent.task_id

    count_id, urgent_id = run_transaction(demo_engine, make)
    out = Outbound(Topics(SITE))

    def assign(conn: Connection) -> dict[str, str]:
        return assign_open_stock_tasks(conn, out, 10.0, lease_s=60.0)

    assigned = run_transaction(demo_engine, assign)
    assert set(assigned) == {count_id, urgent_id}
    pushed = [(d, item) for d, items in out.pushes.items() for item in items]
    assert [item.task.task_id for _d, item in pushed] == [urgent_id, count_id]
    body = json.loads(pushed[1][1].model_dump_json())
    assert "expected" not in json.dumps(body)
    with demo_engine.connect() as conn:
        recs = load_stock_tasks(conn, [count_id, urgent_id])
    assert recs[count_id].expected == 41
    assert recs[urgent_id].task.state.value == "assigned"
    assert recs[urgent_id].lease_expires_at == 70.0

    out2 = Outbound(Topics(SITE))
    expired = run_transaction(demo_engine, lambda c: expire_stock_leases(c, out2, 100.0))
    assert sorted(expired) == sorted([count_id, urgent_id])
    kinds = [item.kind for items in out2.pushes.values() for item in items]
    assert kinds == ["stock_task.cancelled", "stock_task.cancelled"]
    with demo_engine.connect() as conn:
        states = set(conn.execute(select(STOCK_TASKS.c.state)).scalars())
    assert states == {"open"}
