"""``floor-hub stock ...``: the stock commands of the hub (reconciliation and stock work).

Each subcommand is a function taking the parsed arguments and returning the exit code;
:func:`register` adds them to ``floor-hub``'s subparsers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any, cast

from .database import run_transaction
from .setup import open_database
from .stock_check import check_stock


def _db_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        default=os.environ.get("FLOOR_HUB_DB", "sqlite:///floor-hub.db"),
        help="database URL or SQLite file (default: $FLOOR_HUB_DB or sqlite:///floor-hub.db)",
    )
    p.add_argument("--site", default=os.environ.get("FLOOR_SITE", "dc1"), help="site id")
    p.add_argument("--json", action="store_true", help="one JSON object")


def register(subparsers: Any) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """Add ``stock`` and its subcommands; returns the ``stock`` subparsers for more."""
    stock = subparsers.add_parser("stock", help="stock: reconciliation and stock work")
    sub = stock.add_subparsers(dest="stock_command", required=True)
    check = sub.add_parser(
        "check",
        help="compare stock by location with the last count plus every applied event",
        description="Compare on-hand stock by location with the newest baseline (load or "
        "accepted count) plus every stock event applied since, and every applied event with "
        "the stock ledger. Exit 0 when nothing differs, 1 when something does.",
    )
    _db_args(check)
    check.set_defaults(func=_with_db(cmd_check))
    return cast("argparse._SubParsersAction[argparse.ArgumentParser]", sub)


def _with_db(
    command: Callable[[argparse.Namespace, Any], int],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        engine = open_database(args.db, args.site)
        try:
            return command(args, engine)
        finally:
            engine.dispose()

    return run


def cmd_check(args: argparse.Namespace, engine: Any) -> int:
    report = run_transaction(engine, check_stock, what="stock check")
    if args.json:
        print(json.dumps(report, sort_keys=True, ensure_ascii=False))
    else:
        checked = report["checked"]
        print(
            f"{checked['places']} places, {checked['baselines']} baselines, "
            f"{checked['events']} stock events checked"
        )
        for d in report["differences"]:
            print(
                f"  {d['location']} {d['sku']}: on hand {d['on_hand']}, expected "
                f"{d['expected']} ({d['events_since']} events since the last count)"
            )
        for m in report["event_mismatches"]:
            print(f"  {m['device_id']} #{m['seq']} {m['type']}: {m['expected']} vs {m['ledger']}")
        for n in report["negative_on_hand"]:
            print(f"  {n['location']} {n['sku']}: on hand {n['on_hand']} (below zero)")
        for o in report["reserved_over_on_hand"]:
            print(f"  {o['location']} {o['sku']}: {o['reserved']} reserved, {o['on_hand']} held")
        print("stock reconciled" if report["ok"] else "stock differs: see above", file=sys.stderr)
    return 0 if report["ok"] else 1
