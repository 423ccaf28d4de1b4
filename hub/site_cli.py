"""``floor-hub site load DIR [--dry-run]`` and ``floor-hub site export DIR``: a site's own data.

``load`` reads the site files in DIR (docs/operations.md, "Going live": items, barcodes,
locations, the layout, users, totes, cartons, pick faces, carrier rules, opening stock),
checks every row, and brings the hub to what they say in one transaction; any bad row and
nothing changes, every problem printed as ``file:line: column: reason`` (exit 2). Loading
the same files again changes nothing. A load that changed something is a new version of the
site's reference data, which the running hub sends to every device. ``--dry-run`` checks
everything and says what would change. ``export`` writes the files a load reads.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .site_files import SiteFileError, export_site, load_site
from .stock_cli import _db_args, _with_db


def register(subparsers: Any) -> None:
    """Add ``site`` to ``floor-hub``'s subcommands."""
    site = subparsers.add_parser(
        "site",
        help="load the site's own data from files, or export it",
        description=(__doc__ or "").split("\n\n")[1].replace("``", ""),
    )
    actions = site.add_subparsers(dest="site_command", required=True)
    load = actions.add_parser("load", help="load the site files in DIR (one transaction)")
    load.add_argument("directory", type=Path, metavar="DIR")
    load.add_argument("--dry-run", action="store_true", help="check and report, change nothing")
    _db_args(load)
    load.set_defaults(func=_with_db(cmd_load))
    export = actions.add_parser("export", help="write the site files into DIR")
    export.add_argument("directory", type=Path, metavar="DIR")
    _db_args(export)
    export.set_defaults(func=_with_db(cmd_export))


def cmd_load(args: argparse.Namespace, engine: Any) -> int:
    try:
        report = load_site(engine, args.site, args.directory, dry_run=args.dry_run)
    except SiteFileError as exc:
        if args.json:
            print(json.dumps({"loaded": False, "problems": [str(p) for p in exc.problems]}))
        else:
            print(f"floor-hub site load: {exc}", flush=True)
        return 2
    if args.json:
        print(json.dumps({"loaded": not report.dry_run, **report.as_dict()}))
        return 0
    what = "would change" if report.dry_run else "changed"
    if not report.changed:
        print(f"site files in {args.directory}: nothing to change (version {report.version})")
        return 0
    print(
        f"site files in {args.directory}: {what} (version {report.version}"
        + (" after the load)" if report.dry_run else ")")
    )
    for kind, change in report.changes.items():
        if change:
            counts = f"{change.added} added, {change.changed} changed, {change.removed} removed"
            print(f"  {kind}: {counts}")
    return 0


def cmd_export(args: argparse.Namespace, engine: Any) -> int:
    written = export_site(engine, args.directory)
    if args.json:
        print(json.dumps({"directory": str(args.directory), "files": written}))
    else:
        for name, rows in written.items():
            print(f"{args.directory / name}: {rows} {'rows' if name.endswith('.csv') else 'file'}")
    return 0
