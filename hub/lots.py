"""Lots on their way out: which lots were picked for which order lines (``lot_picks``), and
where every unit of a lot or a serial number went (``floor-hub trace``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from floor_app.domain.order import Order, TracedUnits
from sync.protocol import OrderLot

from .tables import (
    LotPickRow,
    OrderRow,
    ReceiptCountRow,
    ReceiptRow,
    SerialRow,
    StockRow,
    table_of,
)

LOT_PICKS = table_of(LotPickRow)
ORDERS = table_of(OrderRow)
STOCK = table_of(StockRow)
SERIALS = table_of(SerialRow)


def lots_of_orders(conn: Connection, order_ids: Sequence[str]) -> dict[str, list[OrderLot]]:
    """order -> the lots picked for its lines (net of units put back), by line and lot."""
    out: dict[str, list[OrderLot]] = {}
    wanted = sorted(set(order_ids))
    for start in range(0, len(wanted), 500):
        total = func.sum(LOT_PICKS.c.qty)
        rows = conn.execute(
            select(
                LOT_PICKS.c.order_id,
                LOT_PICKS.c.line_no,
                LOT_PICKS.c.sku,
                LOT_PICKS.c.lot,
                total.label("qty"),
            )
            .where(LOT_PICKS.c.order_id.in_(wanted[start : start + 500]))
            .group_by(LOT_PICKS.c.order_id, LOT_PICKS.c.line_no, LOT_PICKS.c.sku, LOT_PICKS.c.lot)
            .having(total > 0)
            .order_by(LOT_PICKS.c.order_id, LOT_PICKS.c.line_no, LOT_PICKS.c.lot)
        )
        for r in rows:
            out.setdefault(r.order_id, []).append(
                OrderLot(line_no=r.line_no, sku=r.sku, lot=r.lot, qty=int(r.qty))
            )
    return out


def trace_lot(conn: Connection, lot: str, sku: str = "") -> dict[str, Any]:
    """Where every unit of ``lot`` is (stock) and went (orders), for a recall."""
    stock_q = select(STOCK).where(STOCK.c.lot == lot).order_by(STOCK.c.sku, STOCK.c.location)
    picks_q = select(LOT_PICKS).where(LOT_PICKS.c.lot == lot)
    if sku:
        stock_q = stock_q.where(STOCK.c.sku == sku)
        picks_q = picks_q.where(LOT_PICKS.c.sku == sku)
    stock = [
        {
            "location": r.location,
            "sku": r.sku,
            "qty": int(r.qty),
            "reserved": int(r.reserved),
            "expiry": r.expiry,
        }
        for r in conn.execute(stock_q)
    ]
    orders: dict[tuple[str, int, str], dict[str, Any]] = {}
    for r in conn.execute(picks_q.order_by(LOT_PICKS.c.id)):
        key = (r.order_id, r.line_no, r.sku)
        entry = orders.setdefault(
            key,
            {
                "order": r.order_id,
                "line_no": r.line_no,
                "sku": r.sku,
                "qty": 0,
                "substituted": False,
                "picked_by": [],
                "from": [],
            },
        )
        entry["qty"] += int(r.qty)
        entry["substituted"] = entry["substituted"] or bool(r.substituted)
        if r.user and r.user not in entry["picked_by"]:
            entry["picked_by"].append(r.user)
        if r.location not in entry["from"]:
            entry["from"].append(r.location)
    states = _order_states(conn, sorted({k[0] for k in orders}))
    shipped = [
        {
            **e,
            "state": states.get(e["order"], ("", ""))[0],
            "tracking": states.get(e["order"], ("", ""))[1],
        }
        for e in orders.values()
        if e["qty"] > 0
    ]
    return {
        "lot": lot,
        "sku": sku,
        "received": received(conn, lot=lot, sku=sku),
        "in_stock": stock,
        "units_in_stock": sum(s["qty"] for s in stock),
        "orders": shipped,
        "units_picked": sum(e["qty"] for e in shipped),
    }


def serial_place(conn: Connection, sku: str, serial: str) -> tuple[str, str] | None:
    """(state, location) of the unit ``serial`` of ``sku``; None when the hub has no such
    unit."""
    row = conn.execute(
        select(SERIALS.c.state, SERIALS.c.location)
        .where(SERIALS.c.sku == sku)
        .where(SERIALS.c.serial == serial)
    ).first()
    return None if row is None else (str(row.state), str(row.location or ""))


def trace_serial(conn: Connection, serial: str, sku: str = "") -> dict[str, Any]:
    """Where the unit with serial number ``serial`` is (every item carrying it)."""
    query = select(SERIALS).where(SERIALS.c.serial == serial).order_by(SERIALS.c.sku)
    if sku:
        query = query.where(SERIALS.c.sku == sku)
    units = [
        {
            "sku": r.sku,
            "serial": r.serial,
            "state": r.state,
            "location": r.location,
            "lot": r.lot,
            "order": r.order_id,
        }
        for r in conn.execute(query)
    ]
    return {
        "serial": serial,
        "sku": sku,
        "received": received(conn, serial=serial, sku=sku),
        "units": units,
    }


def received(
    conn: Connection, *, lot: str = "", serial: str = "", sku: str = ""
) -> list[dict[str, Any]]:
    """The deliveries that brought units of ``lot`` (or the unit ``serial``) in: per receipt
    and SKU, good and damaged units (:mod:`hub.receiving`)."""
    counts = table_of(ReceiptCountRow)
    receipts = table_of(ReceiptRow)
    query = (
        select(
            counts.c.receipt_id,
            receipts.c.reference,
            receipts.c.supplier,
            counts.c.sku,
            counts.c.condition,
            func.sum(counts.c.qty),
            func.max(counts.c.at),
        )
        .join(receipts, receipts.c.receipt_id == counts.c.receipt_id)
        .group_by(
            counts.c.receipt_id,
            receipts.c.reference,
            receipts.c.supplier,
            counts.c.sku,
            counts.c.condition,
        )
        .order_by(counts.c.receipt_id, counts.c.sku)
    )
    query = query.where(counts.c.serial == serial) if serial else query.where(counts.c.lot == lot)
    if sku:
        query = query.where(counts.c.sku == sku)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for rid, ref, supplier, item, condition, qty, at in conn.execute(query):
        entry = out.setdefault(
            (rid, item),
            {
                "receipt": rid,
                "reference": ref,
                "supplier": supplier,
                "sku": item,
                "good": 0,
                "damaged": 0,
                "at": 0.0,
            },
        )
        entry["good" if condition == "good" else "damaged"] += int(qty or 0)
        entry["at"] = max(entry["at"], float(at or 0))
    return [e for e in out.values() if e["good"] or e["damaged"]]


def _order_states(conn: Connection, order_ids: list[str]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for start in range(0, len(order_ids), 500):
        for r in conn.execute(
            select(ORDERS.c.order_id, ORDERS.c.state, ORDERS.c.tracking).where(
                ORDERS.c.order_id.in_(order_ids[start : start + 500])
            )
        ):
            out[r.order_id] = (r.state, r.tracking)
    return out


def traced_of(conn: Connection, orders: Sequence[Order]) -> dict[str, list[TracedUnits]]:
    """order -> the lots (per line, net of units put back) and serials picked for it: what
    its packing slip lists."""
    lots = lots_of_orders(conn, [o.order_id for o in orders])
    out: dict[str, list[TracedUnits]] = {
        o.order_id: [TracedUnits(x.line_no, lot=x.lot, qty=x.qty) for x in lots.get(o.order_id, [])]
        for o in orders
    }
    line_of = {(o.order_id, ln.sku): ln.line_no for o in orders for ln in reversed(o.lines)}
    ids = sorted(out)
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(SERIALS.c.order_id, SERIALS.c.sku, SERIALS.c.serial)
            .where(SERIALS.c.order_id.in_(ids[start : start + 500]))
            .where(SERIALS.c.state != "in_stock")
            .order_by(SERIALS.c.order_id, SERIALS.c.sku, SERIALS.c.serial)
        )
        for order_id, sku, serial in rows:
            line_no = line_of.get((order_id, sku))
            if line_no is not None:
                out[order_id].append(TracedUnits(line_no, serial=serial))
    return out
