"""``floor-hub totes [FILE]``: load the site's tote list, or show the totes and what they hold.

With ``FILE`` (a TOML tote list, see :func:`hub.totes.read_tote_file`) the list is checked
and stored: new totes are added free, totes no longer listed are removed unless they still
hold an order, carts are set as listed, and every picker's and station's device is sent the
list (the running hub publishes it). A bad file changes nothing and exits 2 naming every
problem. Without ``FILE`` the totes that hold an order are printed, with counts by state
(``--json``: every tote).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from sync.protocol import Topics

from .database import run_transaction
from .outbound import Outbound, transact
from .stock_cli import _db_args, _with_db
from .totes import ToteListReport, read_tote_file, store_tote_list, tote_counts, tote_list_of


def register(subparsers: Any) -> None:
    """Add ``totes`` to ``floor-hub``'s subcommands."""
    totes = subparsers.add_parser(
        "totes",
        help="load the site's tote list (a TOML file) or show the totes and what they hold",
        description=(__doc__ or "").split("\n\n")[1].replace("``", ""),
    )
    totes.add_argument("file", type=Path, nargs="?", help="a tote list (TOML) to load")
    _db_args(totes)
    totes.set_defaults(func=_with_db(cmd_totes))


def cmd_totes(args: argparse.Namespace, engine: Any) -> int:
    if args.file is not None:
        tote_list = read_tote_file(args.file)

        def store(conn: Connection, out: Outbound) -> ToteListReport:
            return store_tote_list(conn, out, tote_list)

        report, _ = transact(engine, Topics(args.site), store, "totes")
        summary = {
            "loaded": str(args.file),
            "totes": report.totes,
            "added": report.added,
            "removed": report.removed,
            "kept_busy": report.kept_busy,
            "carts": report.carts,
        }
        if args.json:
            print(json.dumps(summary))
        else:
            print(
                f"tote list loaded from {args.file}: {report.totes} totes ({report.added} new, "
                f"{report.removed} removed), {report.carts} carts"
            )
            if report.kept_busy:
                print(f"kept, still holding an order: {', '.join(report.kept_busy)}")
        return 0
    totes = run_transaction(engine, tote_list_of, what="totes")
    counts = run_transaction(engine, tote_counts, what="totes")
    if args.json:
        print(
            json.dumps(
                {
                    "counts": counts,
                    "totes": [
                        {
                            "tote": t.code,
                            "state": t.state.value,
                            "order": t.order_id,
                            "destination": t.destination,
                            "cart": t.cart,
                        }
                        for t in totes
                    ],
                }
            )
        )
        return 0
    if not totes:
        print("no tote list loaded: floor-hub totes FILE loads one")
        return 1
    print(", ".join(f"{n} {state}" for state, n in counts.items()))
    for t in totes:
        if t.order_id is not None and t.state.value != "free":
            where = f" -> {t.destination}" if t.destination else ""
            print(f"{t.code} {t.state.value} {t.order_id}{where}")
    return 0
