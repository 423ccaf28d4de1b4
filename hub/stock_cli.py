"""``floor-hub stock ...``: the stock commands of the hub (reconciliation and stock work).

Each subcommand is a function taking the parsed arguments and returning the exit code;
:func:`register` adds them to ``floor-hub``'s subparsers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from floor_app.domain.counting import CountFrequency, CountTolerance
from floor_app.domain.errors import DomainError

from .counts import CountRefused, CountSettings, count_location, count_sku, create_due, results
from .database import run_transaction
from .pick_faces import load_faces, read_faces
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
    count = sub.add_parser(
        "count",
        help="create cycle counts: of a location, of a SKU everywhere, or those due (ABC)",
        description="Create count tasks (blind: the expected quantity stays on the hub). "
        "--location CODE counts a location (every SKU, or --sku); --sku alone counts the SKU "
        "at every location holding it; --due creates the counts the ABC frequencies ask for. "
        "The hub leases them to pickers' devices on its next allocation pass.",
    )
    _db_args(count)
    what = count.add_mutually_exclusive_group()
    what.add_argument("--location", help="the location to count")
    what.add_argument("--due", action="store_true", help="create the counts due by ABC class")
    count.add_argument("--sku", help="the SKU to count (alone: at every location holding it)")
    count.add_argument("--reason", default="", help="why (shown on the task)")
    add_count_args(count)
    count.set_defaults(func=_with_db(cmd_count))
    listed = sub.add_parser(
        "counts",
        help="the newest count results: expected, counted and what the hub decided",
        description="List the newest count results, newest first: the place, what the hub "
        "held when the count was applied, what was counted, by whom, and the outcome (match, "
        "adjusted, recount, deferred).",
    )
    _db_args(listed)
    listed.add_argument("--limit", type=int, default=50, help="how many (default %(default)s)")
    listed.set_defaults(func=_with_db(cmd_counts))
    faces = sub.add_parser(
        "faces",
        help="load pick faces with their min/max from a TOML file",
        description="Add or change pick faces ([[face]] tables: location, sku, min, max) and "
        "make the refills faces already below their minimum need. Every location and SKU is "
        "checked first; a bad file changes nothing.",
    )
    faces.add_argument("file", type=Path, help="TOML file of [[face]] tables")
    _db_args(faces)
    faces.set_defaults(func=_with_db(cmd_faces))
    return cast("argparse._SubParsersAction[argparse.ArgumentParser]", sub)


def add_count_args(p: argparse.ArgumentParser) -> None:
    """The count settings (tolerance and ABC frequencies) as options of ``p``."""
    d, f = CountSettings(), CountFrequency()
    p.add_argument(
        "--count-tolerance-units",
        type=int,
        default=d.tolerance.units,
        help="accept a count this many units off at once (default %(default)s)",
    )
    p.add_argument(
        "--count-tolerance-percent",
        type=float,
        default=d.tolerance.percent,
        help="accept a count this percent off at once (default %(default)s)",
    )
    for cls, days in (("a", f.a_days), ("b", f.b_days), ("c", f.c_days)):
        p.add_argument(
            f"--count-{cls}-days",
            type=float,
            default=days,
            help=f"days between counts of class {cls.upper()} (default %(default)s)",
        )
    p.add_argument(
        "--count-window-days",
        type=float,
        default=d.window_days,
        help="picked units over this many days class SKUs A/B/C (default %(default)s)",
    )
    p.add_argument(
        "--count-limit",
        type=int,
        default=d.due_limit,
        help="at most this many counts per ABC pass (default %(default)s)",
    )


def count_settings(args: argparse.Namespace, **extra: Any) -> CountSettings:
    """The :class:`CountSettings` of the options of :func:`add_count_args` (raises
    :class:`DomainError` for values that make no sense)."""
    return CountSettings(
        tolerance=CountTolerance(args.count_tolerance_units, args.count_tolerance_percent),
        frequency=CountFrequency(args.count_a_days, args.count_b_days, args.count_c_days),
        window_days=args.count_window_days,
        due_limit=args.count_limit,
        **extra,
    )


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


def cmd_count(args: argparse.Namespace, engine: Any) -> int:
    try:
        settings = count_settings(args)
    except DomainError as exc:
        print(f"floor-hub stock count: {exc}", file=sys.stderr)
        return 2
    now = time.time()

    def work(conn: Any) -> list[dict[str, Any]]:
        if args.due:
            return create_due(conn, settings, now)
        if args.location:
            made = [
                count_location(conn, args.location, args.sku or "", now=now, reason=args.reason)
            ]
        else:
            made = count_sku(conn, args.sku, now=now, reason=args.reason)
        return [
            {
                "task": rec.task_id,
                "location": rec.task.from_location,
                "sku": rec.task.sku,
                "created": created,
            }
            for rec, created in made
        ]

    if not args.due and not args.location and not args.sku:
        print("floor-hub stock count: name --location, --sku or --due", file=sys.stderr)
        return 2
    try:
        tasks = run_transaction(engine, work, what="stock count")
    except CountRefused as exc:
        print(f"floor-hub stock count: {exc}; nothing was created", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"tasks": tasks}, sort_keys=True, ensure_ascii=False))
        return 0
    for t in tasks:
        state = "already open" if t.get("created") is False else "created"
        extra = f" (class {t['class']})" if "class" in t else ""
        print(f"{t['task']} count {t['location']} {t['sku'] or '(every SKU)'}{extra}: {state}")
    if not tasks:
        print("nothing to count")
    return 0


def cmd_faces(args: argparse.Namespace, engine: Any) -> int:
    faces = read_faces(args.file)  # a bad file fails before anything is written
    report = run_transaction(engine, lambda conn: load_faces(conn, faces), what="pick faces")
    if args.json:
        print(json.dumps(report, sort_keys=True))
    else:
        refills = cast("list[str]", report["refills"])
        print(f"{report['faces']} pick faces loaded; {len(refills)} refills made")
    return 0


def cmd_counts(args: argparse.Namespace, engine: Any) -> int:
    if args.limit < 1:
        print(
            f"floor-hub stock counts: --limit must be 1 or more, not {args.limit}", file=sys.stderr
        )
        return 2
    rows = run_transaction(engine, lambda c: results(c, limit=args.limit), what="counts")
    if args.json:
        print(json.dumps({"counts": rows}, sort_keys=True, ensure_ascii=False))
        return 0
    for r in rows:
        diff = r["counted"] - r["expected"]
        print(
            f"#{r['id']} {r['task_id']} {r['location']} {r['sku']}: held {r['expected']}, "
            f"counted {r['counted']} ({diff:+d}) by {r['user']} (attempt {r['attempt']}): "
            f"{r['outcome']}"
        )
    if not rows:
        print("no counts yet")
    return 0
