"""``floor-hub receive``: advance ship notices in, receipts and their state out.

``import FILE [--dry-run]`` reads notices (CSV or JSON, docs/hub.md "Receiving") and makes
or updates their receipts in one transaction: any bad line and nothing changes, every
problem printed as ``file:line: column: reason`` (exit 2). Importing the same file again
changes nothing. The notices reach every registered device through the running hub.
``list`` shows receipts (``--state``), ``show ID|REFERENCE`` one with its lines, ``cancel
ID`` a notice nothing was counted on.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from floor_app.domain.errors import DomainError
from floor_app.domain.receiving import ReceiptState
from sync.protocol import Topics

from .database import run_transaction
from .outbound import Outbound, transact
from .receiving.files import read_notices
from .receiving.receipts import RECEIPTS, ImportResult, cancel, import_notices, load, status
from .site_files.csvfile import Problems
from .stock_cli import _db_args, _with_db


class _DryRun(Exception):
    def __init__(self, result: ImportResult) -> None:
        super().__init__("dry run")
        self.result = result


class _Refused(Exception):
    def __init__(self, problems: Problems) -> None:
        super().__init__("refused")
        self.problems = problems


def register(subparsers: Any) -> None:
    """Add ``receive`` to ``floor-hub``'s subcommands."""
    receive = subparsers.add_parser(
        "receive",
        help="advance ship notices and receipts",
        description=(__doc__ or "").split("\n\n")[1].replace("``", ""),
    )
    actions = receive.add_subparsers(dest="receive_command", required=True)
    imp = actions.add_parser("import", help="import advance ship notices (CSV or JSON)")
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument("--dry-run", action="store_true", help="check and report, change nothing")
    _db_args(imp)
    imp.set_defaults(func=_with_db(cmd_import))
    lst = actions.add_parser("list", help="list receipts")
    lst.add_argument("--state", choices=[s.value for s in ReceiptState], default=None)
    _db_args(lst)
    lst.set_defaults(func=_with_db(cmd_list))
    show = actions.add_parser("show", help="one receipt with its lines")
    show.add_argument("receipt", metavar="ID|REFERENCE")
    _db_args(show)
    show.set_defaults(func=_with_db(cmd_show))
    can = actions.add_parser("cancel", help="cancel a notice nothing was counted on")
    can.add_argument("receipt", metavar="ID")
    _db_args(can)
    can.set_defaults(func=_with_db(cmd_cancel))


def cmd_import(args: argparse.Namespace, engine: Any) -> int:
    problems = Problems()
    found = read_notices(args.file, problems)

    def work(conn: Connection, out: Outbound) -> ImportResult:
        if problems:
            raise _Refused(problems)
        result = import_notices(conn, out, found, args.file.name, problems, time.time())
        if problems:
            raise _Refused(problems)
        if args.dry_run:
            raise _DryRun(result)
        return result

    try:
        result, _messages = transact(engine, Topics(args.site), work, "notice import")
    except _Refused as refused:
        lines = [str(p) for p in refused.problems.items]
        if args.json:
            print(json.dumps({"imported": False, "problems": lines}, ensure_ascii=False))
        else:
            print(f"floor-hub receive import: {args.file}: nothing imported", flush=True)
            for line in lines:
                print(f"  {line}")
        return 2
    except _DryRun as dry:
        result = dry.result
    imported = not args.dry_run
    if args.json:
        print(json.dumps({"imported": imported, **result.as_dict()}, ensure_ascii=False))
        return 0
    verb = "would" if args.dry_run else "did"
    print(
        f"{args.file}: {verb} create {len(result.created)}, update {len(result.updated)}; "
        f"{len(result.unchanged)} unchanged"
    )
    for ref in result.created + result.updated:
        print(f"  {ref}: {result.receipt_ids.get(ref, '(new)')}")
    return 0


def _find(conn: Connection, key: str) -> str | None:
    row = conn.execute(
        select(RECEIPTS.c.receipt_id)
        .where((RECEIPTS.c.receipt_id == key) | (RECEIPTS.c.reference == key))
        .order_by(RECEIPTS.c.created_at.desc())
    ).first()
    return None if row is None else str(row.receipt_id)


def cmd_list(args: argparse.Namespace, engine: Any) -> int:
    def work(conn: Connection) -> list[dict[str, Any]]:
        query = select(RECEIPTS).order_by(RECEIPTS.c.receipt_id)
        if args.state:
            query = query.where(RECEIPTS.c.state == args.state)
        return [
            {
                "receipt_id": r.receipt_id,
                "kind": r.kind,
                "reference": r.reference,
                "supplier": r.supplier,
                "state": r.state,
                "to_put_away": r.to_put_away,
                "put_away": r.put_away,
            }
            for r in conn.execute(query)
        ]

    rows = run_transaction(engine, work, what="receipt list")
    if args.json:
        print(json.dumps({"receipts": rows}, ensure_ascii=False))
        return 0
    if not rows:
        print("no receipts")
    for r in rows:
        print(
            f"{r['receipt_id']:<10} {r['kind']:<6} {r['state']:<9} {r['reference']:<20} "
            f"{r['supplier']}"
        )
    return 0


def cmd_show(args: argparse.Namespace, engine: Any) -> int:
    def work(conn: Connection) -> dict[str, Any] | None:
        receipt_id = _find(conn, args.receipt)
        stored = None if receipt_id is None else load(conn, receipt_id)
        if stored is None:
            return None
        data = status(stored, time.time()).model_dump(mode="json")
        data["to_put_away"], data["put_away"] = stored.to_put_away, stored.put_away
        return data

    data = run_transaction(engine, work, what="receipt show")
    if data is None:
        print(f"floor-hub receive show: no receipt {args.receipt}", flush=True)
        return 1
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return 0
    print(
        f"{data['receipt_id']} {data['kind']} {data['reference']} {data['supplier']}: "
        f"{data['state']} ({data['put_away']} of {data['to_put_away']} put away)"
    )
    print(f"  {'line':>4} {'sku':<14} {'lot':<12} {'expected':>8} {'good':>6} {'damaged':>7}")
    for ln in data["lines"]:
        print(
            f"  {ln['line_no']:>4} {ln['sku']:<14} {ln['lot'] or '-':<12} {ln['expected']:>8} "
            f"{ln['received']:>6} {ln['damaged']:>7} {ln['reason']}"
        )
    return 0


def cmd_cancel(args: argparse.Namespace, engine: Any) -> int:
    def work(conn: Connection, out: Outbound) -> str:
        return cancel(conn, out, args.receipt, time.time()).receipt.reference

    try:
        ref, _ = transact(engine, Topics(args.site), work, "receipt cancel")
    except DomainError as exc:
        print(f"floor-hub receive cancel: {exc.reason}", flush=True)
        return 2
    print(f"{args.receipt} ({ref}) cancelled")
    return 0
