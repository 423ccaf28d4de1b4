"""Lots through the hub, on SQLite and PostgreSQL, from a site loaded from its own files:
allocation takes the first expiry first and never an expired lot; pick lines carry the lot
the picker must scan; picks record their lot, the order's status names it, and
``floor-hub trace --lot`` says where every unit of it is and went."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hub_builders import SITE, apply, envelope, pick
from sqlalchemy import Engine, select

from floor_app.domain.events import PickUndone
from hub import allocate, take_order, transact
from hub.database import run_transaction
from hub.lots import trace_lot, traced_of
from hub.outbound import pending_outbox
from hub.repositories import load_orders
from hub.site_data import register_device
from hub.site_files import load_site
from hub.tables import PickLineRow, table_of
from sync.protocol import OrderStatus, Topics

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "site-example"
HONEY = "HON-WF-340"
LINES = table_of(PickLineRow)


def day(offset: int) -> str:
    return (dt.date.today() + dt.timedelta(days=offset)).isoformat()


@pytest.fixture
def site(engine: Engine, tmp_path: Path) -> Engine:
    """The example site with honey in four lots: at the pick face (lot LA, 100 days left), at
    two other pick locations (LC with 50 days, LX expired yesterday) and in reserve (LB)."""
    folder = tmp_path / "site"
    shutil.copytree(EXAMPLE, folder)
    path = folder / "stock.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["sku"] != HONEY]
    rows += [
        {"location": "A01-07-1A", "sku": HONEY, "qty": "24", "lot": "LA", "expiry": day(100)},
        {"location": "A01-05-3A", "sku": HONEY, "qty": "72", "lot": "LB", "expiry": day(300)},
        {"location": "A01-12-1A", "sku": HONEY, "qty": "10", "lot": "LC", "expiry": day(50)},
        {"location": "A01-12-2A", "sku": HONEY, "qty": "10", "lot": "LX", "expiry": day(-1)},
    ]
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, ["location", "sku", "qty", "lot", "expiry", "serials"])
        writer.writeheader()
        writer.writerows(rows)
    run_transaction(engine, lambda c: register_device(c, "hh-01", "picker"))
    load_site(engine, SITE, folder)
    return engine


def order(engine: Engine, order_id: str, qty: int) -> None:
    data = {
        "order_id": order_id,
        "lines": [{"line_no": 1, "sku": HONEY, "qty": qty}],
        "ship_to": {
            "name": "Jo Bloggs",
            "lines": ["1 High Street"],
            "city": "Leeds",
            "postcode": "LS1 1AA",
            "country": "GB",
        },
    }
    result, _ = transact(engine, Topics(SITE), lambda c, out: take_order(c, out, data, source="t"))
    assert result.accepted, result.reasons


def lines_of(engine: Engine, order_id: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(LINES).where(LINES.c.order_id == order_id).order_by(LINES.c.sequence)
            )
        )


def test_first_expiry_first_never_expired_and_the_lot_travels(site: Engine) -> None:
    order(site, "WEB-1", 15)
    allocate(site, SITE)
    lines = lines_of(site, "WEB-1")
    taken = {(ln.location, ln.qty, ln.lot, ln.expiry, ln.lot_tracked) for ln in lines}
    assert taken == {
        ("A01-12-1A", 10, "LC", day(50), True),  # the first expiry among pick locations
        ("A01-07-1A", 5, "LA", day(100), True),
    }  # never LX, which expired yesterday
    by_lot = {ln.lot: ln for ln in lines}
    device = "hh-01"
    events = [
        pick("WEB-1", HONEY, task=ln.task_id, line=ln.line_id, qty=ln.qty, location=ln.location)
        for ln in (by_lot["LC"], by_lot["LA"])
    ]
    events = [
        type(e)(**{**e.payload(), "lot": lot}) for e, lot in zip(events, ("LC", "LA"), strict=True)
    ]
    undo = PickUndone(
        task=by_lot["LA"].task_id,
        line=by_lot["LA"].line_id,
        order="WEB-1",
        sku=HONEY,
        location="A01-07-1A",
        qty=1,
        user="alice",
        lot="LA",
    )
    records = [envelope(device, n, e) for n, e in enumerate([*events, undo], start=1)]
    result = apply(site, device, records)
    assert [o.kind for _seq, o in result.outcomes] == ["applied"] * 3
    traced = run_transaction(site, lambda c: trace_lot(c, "LC"))
    assert traced["units_picked"] == 10 and traced["units_in_stock"] == 0
    # what the pack station is sent with the picked order, for its packing slip
    web1 = run_transaction(site, lambda c: load_orders(c, ["WEB-1"])["WEB-1"].order)
    slip = run_transaction(site, lambda c: traced_of(c, [web1]))["WEB-1"]
    assert sorted((t.line_no, t.lot, t.qty) for t in slip) == [(1, "LA", 4), (1, "LC", 10)]
    assert traced["orders"][0]["order"] == "WEB-1" and traced["orders"][0]["from"] == ["A01-12-1A"]
    la = run_transaction(site, lambda c: trace_lot(c, "LA", HONEY))
    assert la["units_picked"] == 4 and la["units_in_stock"] == 20  # one put back
    statuses = [
        OrderStatus.model_validate_json(m.payload)
        for m in run_transaction(site, lambda c: pending_outbox(c, float("inf"), limit=10_000))
        if m.topic.endswith("orders/WEB-1/status")
    ]
    last = statuses[-1]
    assert [(x.lot, x.qty) for x in last.lots] == [("LA", 4), ("LC", 10)]


def test_the_trace_command(site: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    from hub.__main__ import main

    url = site.url.render_as_string(hide_password=False)
    assert main(["trace", "--lot", "LB", "--db", url, "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["in_stock"] == [
        {"location": "A01-05-3A", "sku": HONEY, "qty": 72, "reserved": 0, "expiry": day(300)}
    ]
    assert main(["trace", "--serial", "LMP0025600", "--db", url]) == 0
    assert "serial LMP0025600 of LMP-DK-LED: in_stock at B03-01-1A" in capsys.readouterr().out
    assert main(["trace", "--serial", "NOPE", "--db", url]) == 1


def test_a_serial_leaves_stock_with_its_order_and_comes_back_with_an_undo(
    site: Engine,
) -> None:
    from hub.lots import trace_serial

    lamp = "LMP-DK-LED"
    data = {
        "order_id": "WEB-2",
        "lines": [{"line_no": 1, "sku": lamp, "qty": 2}],
        "ship_to": {
            "name": "Jo",
            "lines": ["1 High St"],
            "city": "Leeds",
            "postcode": "LS1 1AA",
            "country": "GB",
        },
    }
    result, _ = transact(site, Topics(SITE), lambda c, out: take_order(c, out, data, source="t"))
    assert result.accepted
    allocate(site, SITE)
    (ln,) = lines_of(site, "WEB-2")  # two lamps from one location
    assert ln.serial_tracked and not ln.lot_tracked
    picked = pick("WEB-2", lamp, task=ln.task_id, line=ln.line_id, location=ln.location)
    picked = type(picked)(**{**picked.payload(), "serial": "LMP0025600"})
    again = type(picked)(**{**picked.payload(), "serial": "LMP0025600"})
    result = apply(site, "hh-01", [envelope("hh-01", 1, picked), envelope("hh-01", 2, again)])
    outcomes = [o for _seq, o in result.outcomes]
    assert [o.kind for o in outcomes] == ["applied", "applied"]
    assert "already picked for order WEB-2" in outcomes[1].note
    (unit,) = run_transaction(site, lambda c: trace_serial(c, "LMP0025600"))["units"]
    assert (unit["state"], unit["order"], unit["location"]) == ("picked", "WEB-2", "")
    undo = PickUndone(
        task=ln.task_id,
        line=ln.line_id,
        order="WEB-2",
        sku=lamp,
        location=ln.location,
        qty=1,
        user="alice",
        serial="LMP0025600",
    )
    apply(site, "hh-01", [envelope("hh-01", 3, undo)])
    (unit,) = run_transaction(site, lambda c: trace_serial(c, "LMP0025600"))["units"]
    assert (unit["state"], unit["order"], unit["location"]) == ("in_stock", "", ln.location)
