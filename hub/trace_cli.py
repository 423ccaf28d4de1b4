"""``floor-hub trace --lot LOT [--sku SKU]`` and ``floor-hub trace --serial SERIAL``: for a
recall, where every unit of a lot is on the shelves and which orders took it (with their
state and tracking number), or where the unit with a serial number is."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .database import run_transaction
from .lots import trace_lot, trace_serial
from .stock_cli import _db_args, _with_db


def register(subparsers: Any) -> None:
    """Add ``trace`` to ``floor-hub``'s subcommands."""
    trace = subparsers.add_parser(
        "trace",
        help="where every unit of a lot (or a serial number) is and went",
        description=(__doc__ or "").replace("``", ""),
    )
    what = trace.add_mutually_exclusive_group(required=True)
    what.add_argument("--lot", help="a lot (GS1 AI 10)")
    what.add_argument("--serial", help="a serial number (GS1 AI 21)")
    trace.add_argument("--sku", default="", help="only this item (a lot code may repeat)")
    _db_args(trace)
    trace.set_defaults(func=_with_db(cmd_trace))


def cmd_trace(args: argparse.Namespace, engine: Any) -> int:
    if args.lot is not None:
        found = run_transaction(engine, lambda c: trace_lot(c, args.lot, args.sku), what="trace")
    else:
        found = run_transaction(
            engine, lambda c: trace_serial(c, args.serial, args.sku), what="trace"
        )
    if args.json:
        print(json.dumps(found, ensure_ascii=False))
        return 0
    if args.lot is not None:
        print(
            f"lot {args.lot}: {found['units_in_stock']} units in stock, "
            f"{found['units_picked']} picked for {len(found['orders'])} order lines"
        )
        _received(found["received"])
        for s in found["in_stock"]:
            expires = s["expiry"] or "-"
            print(f"  stock  {s['location']:<12} {s['sku']:<16} {s['qty']:>6}  expires {expires}")
        for o in found["orders"]:
            swap = "  (substituted)" if o["substituted"] else ""
            print(
                f"  order  {o['order']:<12} line {o['line_no']:<3} {o['sku']:<16} {o['qty']:>6}  "
                f"{o['state']} {o['tracking']}".rstrip()
                + swap
            )
        return 0
    units = found["units"]
    _received(found["received"])
    if not units:
        print(f"serial {args.serial}: not known to the hub")
        return 1
    for u in units:
        where = f"for order {u['order']}" if u["order"] else f"at {u['location'] or '-'}"
        print(f"serial {u['serial']} of {u['sku']}: {u['state']} {where}")
    return 0


def _received(receipts: list[dict[str, Any]]) -> None:
    for r in receipts:
        damaged = f", {r['damaged']} damaged" if r["damaged"] else ""
        print(
            f"  received  {r['reference']:<12} {r['supplier']:<16} {r['sku']:<16} "
            f"{r['good']:>6}{damaged}"
        )
