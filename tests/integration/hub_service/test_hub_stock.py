"""Reservations never oversell: concurrent allocators on PostgreSQL (and the same rules on
SQLite) competing for scarce stock."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest
from conftest import require_postgres
from sqlalchemy import Engine, func, select, update

from hub import allocate, open_database, run_transaction, take_order, transact
from hub.stock import reserve_units
from hub.tables import OrderRow, ReservationRow, StockRow, table_of
from sync.protocol import Topics

pytestmark = pytest.mark.integration

SITE = "dc1"
STOCK = table_of(StockRow)
ORDERS = table_of(OrderRow)
RESERVATIONS = table_of(ReservationRow)
SCARCE = ("SKU-00030", "SKU-00031")


def scarce_site(engine: Engine, units: dict[str, int]) -> None:
    """Leave only ``units`` of each scarce SKU (spread over its locations), nothing reserved."""
    with engine.begin() as conn:
        for sku, total in units.items():
            locs = list(
                conn.execute(
                    select(STOCK.c.location).where(STOCK.c.sku == sku).order_by(STOCK.c.location)
                ).scalars()
            )
            assert locs, sku
            share = [
                total // len(locs) + (1 if i < total % len(locs) else 0) for i in range(len(locs))
            ]
            for loc, qty in zip(locs, share, strict=True):
                conn.execute(
                    update(STOCK)
                    .where(STOCK.c.location == loc)
                    .where(STOCK.c.sku == sku)
                    .values(qty=qty, reserved=0)
                )
        # every other order is out of the way: only the orders made here compete
        conn.execute(update(ORDERS).values(state="held"))


def add_orders(engine: Engine, count: int, rng: random.Random) -> dict[str, dict[str, int]]:
    """``count`` orders of one or both scarce SKUs; order id -> {sku: qty}."""
    wanted: dict[str, dict[str, int]] = {}

    def work(conn: Any, out: Any) -> None:
        for n in range(count):
            order_id = f"RACE-{n:03d}"
            skus = rng.sample(SCARCE, rng.choice((1, 2)))
            lines = [
                {"line_no": i + 1, "sku": sku, "qty": rng.randint(1, 3)}
                for i, sku in enumerate(skus)
            ]
            wanted[order_id] = {ln["sku"]: ln["qty"] for ln in lines}
            result = take_order(
                conn,
                out,
                {
                    "v": 1,
                    "order_id": order_id,
                    "lines": lines,
                    "ship_to": {
                        "name": "A",
                        "lines": ["1 Road"],
                        "city": "C",
                        "postcode": "P",
                        "country": "GB",
                    },
                },
                source="test",
            )
            assert result.accepted, result.reasons

    transact(engine, Topics(SITE), work)
    return wanted


def check_no_oversell(
    engine: Engine, wanted: dict[str, dict[str, int]], units: dict[str, int]
) -> int:
    with engine.connect() as conn:
        rows = conn.execute(select(STOCK).where(STOCK.c.sku.in_(SCARCE))).all()
        allocated = set(
            conn.execute(select(ORDERS.c.order_id).where(ORDERS.c.state == "allocated")).scalars()
        )
        reserved_by_order = dict(
            conn.execute(
                select(RESERVATIONS.c.order_id, func.sum(RESERVATIONS.c.qty)).group_by(
                    RESERVATIONS.c.order_id
                )
            ).all()
        )
    for r in rows:
        assert 0 <= r.reserved <= r.qty, (r.location, r.sku, r.qty, r.reserved)
    for sku in SCARCE:
        promised = sum(wanted[o].get(sku, 0) for o in allocated)
        assert promised == sum(r.reserved for r in rows if r.sku == sku) <= units[sku]
    # all or nothing: an allocated order has every unit reserved, the others none
    assert set(reserved_by_order) == allocated
    for order_id in allocated:
        assert reserved_by_order[order_id] == sum(wanted[order_id].values())
    return len(allocated)


@pytest.mark.postgres
def test_concurrent_allocators_never_oversell(pg_demo_url: str) -> None:
    require_postgres()
    engine = open_database(pg_demo_url, SITE)
    try:
        units = {"SKU-00030": 17, "SKU-00031": 11}
        scarce_site(engine, units)
        wanted = add_orders(engine, 40, random.Random(7))
        start = threading.Barrier(4)
        errors: list[BaseException] = []

        def allocator() -> None:
            try:
                start.wait()
                allocate(engine, SITE)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=allocator) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
        allocated = check_no_oversell(engine, wanted, units)
        assert 0 < allocated < len(wanted)  # stock ran out: some orders wait
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_many_transactions_taking_the_last_units_at_once_take_each_unit_once(
    pg_demo_url: str,
) -> None:
    require_postgres()
    engine = open_database(pg_demo_url, SITE)
    try:
        scarce_site(engine, {"SKU-00030": 25, "SKU-00031": 1})
        taken: list[int] = []
        lock = threading.Lock()
        start = threading.Barrier(8)

        def grab() -> None:
            start.wait()
            for _ in range(10):

                def work(conn: Any) -> int:
                    got = sum(t.qty for t in reserve_units(conn, "SKU-00030", 2))
                    time.sleep(0.002)  # hold the row lock a moment: widen the race
                    return got

                got = run_transaction(engine, work)
                with lock:
                    taken.append(got)

        threads = [threading.Thread(target=grab) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        with engine.connect() as conn:
            rows = conn.execute(select(STOCK).where(STOCK.c.sku == "SKU-00030")).all()
        assert sum(taken) == 25 == sum(r.reserved for r in rows)
        assert all(r.reserved <= r.qty for r in rows)
    finally:
        engine.dispose()


def test_allocation_is_all_or_nothing_per_order(demo_engine: Engine) -> None:
    units = {"SKU-00030": 3, "SKU-00031": 2}
    scarce_site(demo_engine, units)
    wanted = add_orders(demo_engine, 12, random.Random(3))
    report = allocate(demo_engine, SITE)
    assert report.waiting and report.reserved
    check_no_oversell(demo_engine, wanted, units)
