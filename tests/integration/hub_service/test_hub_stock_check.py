"""``floor-hub stock check`` on a real database: zero after real picking, and every kind of
drift (a stock row changed behind the ledger's back, an event applied twice, a change with
no event) is reported with where it is."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hub_builders import SITE, apply, envelope, pick, task_of_order
from sqlalchemy import Engine, insert, select, update

from floor_app.domain.events import PickUndone, TaskStarted
from hub import allocate
from hub.stock import set_baseline
from hub.stock_check import check_stock
from hub.tables import StockLedgerRow, StockRow, table_of

pytestmark = pytest.mark.integration

STOCK = table_of(StockRow)
LEDGER = table_of(StockLedgerRow)


def picked_once(engine: Engine) -> tuple[str, str, str, int]:
    """Allocate, start and pick the first line of SO-100003: (device, location, sku, qty)."""
    allocate(engine, SITE)
    task, lines = task_of_order(engine, "SO-100003")
    device = task.lease_device
    line = lines[0]
    events = [
        envelope(device, 1, TaskStarted(task=task.task_id, user="alice", task_version=2)),
        envelope(
            device,
            2,
            pick(
                "SO-100003",
                line.sku,
                task=task.task_id,
                line=line.line_id,
                qty=line.qty,
                location=line.location,
                tote=line.tote_position,
            ),
        ),
        envelope(
            device,
            3,
            PickUndone(
                task=task.task_id,
                line=line.line_id,
                order="SO-100003",
                sku=line.sku,
                location=line.location,
                qty=1,
                user="alice",
            ),
        ),
    ]
    result = apply(engine, device, events)
    assert [o.kind for _seq, o in result.outcomes] == ["applied"] * 3
    return device, line.location, line.sku, line.qty


def report(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        return check_stock(conn)


def test_stock_reconciles_after_loading_and_picking(demo_engine: Engine) -> None:
    _device, location, sku, qty = picked_once(demo_engine)
    found = report(demo_engine)
    assert found["ok"] is True, found
    assert found["checked"]["events"] == 2  # the pick and the undo
    with demo_engine.connect() as conn:
        rows = conn.execute(
            select(LEDGER.c.kind, LEDGER.c.delta, LEDGER.c.reason, LEDGER.c.seq)
            .where(LEDGER.c.location == location)
            .where(LEDGER.c.sku == sku)
            .order_by(LEDGER.c.id)
        ).all()
    assert [(r.kind, r.delta, r.reason, r.seq) for r in rows][-2:] == [
        ("event", -qty, "pick", 2),
        ("event", 1, "undo", 3),
    ]
    assert rows[0].kind == "load"


def test_a_stock_row_changed_behind_the_ledger_is_a_difference(demo_engine: Engine) -> None:
    _device, location, sku, _qty = picked_once(demo_engine)
    with demo_engine.begin() as conn:
        held = conn.execute(
            select(STOCK.c.qty).where(STOCK.c.location == location).where(STOCK.c.sku == sku)
        ).scalar_one()
        conn.execute(
            update(STOCK)
            .where(STOCK.c.location == location)
            .where(STOCK.c.sku == sku)
            .values(qty=held + 5)
        )
    found = report(demo_engine)
    assert found["ok"] is False
    assert found["event_mismatches"] == []
    [diff] = found["differences"]
    assert (diff["location"], diff["sku"], diff["difference"]) == (location, sku, 5)
    assert diff["on_hand"] == held + 5 and diff["expected"] == held
    assert diff["events_since"] == 2


def test_an_event_written_twice_or_without_an_event_is_a_mismatch(demo_engine: Engine) -> None:
    device, location, sku, qty = picked_once(demo_engine)
    with demo_engine.begin() as conn:
        pick_row = conn.execute(
            select(LEDGER).where(LEDGER.c.device_id == device).where(LEDGER.c.seq == 2)
        ).one()
        twice = {k: v for k, v in pick_row._mapping.items() if k != "id"}
        conn.execute(insert(LEDGER).values(**twice))
        conn.execute(insert(LEDGER).values({**twice, "seq": 99, "delta": -1}))
    found = report(demo_engine)
    assert found["ok"] is False
    by_seq = {m["seq"]: m for m in found["event_mismatches"]}
    assert by_seq[2]["expected"] == {f"{location} {sku}": -qty}
    assert by_seq[2]["ledger"] == {f"{location} {sku}": -2 * qty}
    assert by_seq[99]["type"] == "(no applied event)"
    # the stock table was not changed, so it differs from what the ledger now says
    assert found["differences"][0]["difference"] == qty + 1


def test_a_count_is_a_new_baseline(demo_engine: Engine) -> None:
    _device, location, sku, _qty = picked_once(demo_engine)
    with demo_engine.begin() as conn:
        conn.execute(
            update(STOCK)
            .where(STOCK.c.location == location)
            .where(STOCK.c.sku == sku)
            .values(qty=1000)
        )
    assert report(demo_engine)["ok"] is False
    with demo_engine.begin() as conn:
        change = set_baseline(conn, location, sku, 7, kind="count", reason="count", now=1.0)
    assert change == 7 - 1000
    found = report(demo_engine)
    assert found["ok"] is True, found
    with pytest.raises(ValueError, match="below zero"), demo_engine.begin() as conn:
        set_baseline(conn, location, sku, -1, kind="count", reason="count", now=2.0)


def test_the_command_prints_json_and_exits_by_the_result(demo_engine: Engine, db_url: str) -> None:
    picked_once(demo_engine)
    command = [sys.executable, "-m", "hub", "stock", "check", "--db", db_url, "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True
    with demo_engine.begin() as conn:
        conn.execute(update(STOCK).values(qty=STOCK.c.qty + 1))
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert json.loads(done.stdout)["differences"]
    plain = subprocess.run(command[:-1], capture_output=True, text=True, timeout=60, check=False)
    assert "stock differs" in plain.stderr and "expected" in plain.stdout
