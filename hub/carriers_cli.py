"""``floor-hub carriers [FILE]``: load the site's carrier rules, or show the ones in use.

With ``FILE`` (a ``carriers.toml``, see :mod:`hub.carrier_rules`) the rules are
validated and stored in the hub database; every worker chooses with them from its next
allocation pass. A bad file changes nothing and exits 2 with every problem named.
Without ``FILE`` the rules in use are printed (``--json``: as stored).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .carrier_rules import RULES_KEY, read_rules, store_rules
from .database import run_transaction
from .site_data import get_meta
from .stock_cli import _db_args, _with_db


def register(subparsers: Any) -> None:
    """Add ``carriers`` to ``floor-hub``'s subcommands."""
    carriers = subparsers.add_parser(
        "carriers",
        help="load the carrier rules (carriers.toml) or show the ones in use",
        description=(__doc__ or "").split("\n\n")[1].replace("``", ""),
    )
    carriers.add_argument("file", type=Path, nargs="?", help="a carriers.toml to load")
    _db_args(carriers)
    carriers.set_defaults(func=_with_db(cmd_carriers))


def cmd_carriers(args: argparse.Namespace, engine: Any) -> int:
    if args.file is not None:
        rules = read_rules(args.file)
        run_transaction(engine, lambda c: store_rules(c, rules), what="carriers")
        summary = {
            "loaded": str(args.file),
            "zones": len({z.zone for z in rules.zones}),
            "services": len(rules.services),
        }
        if args.json:
            print(json.dumps(summary))
        else:
            print(
                f"carrier rules loaded from {args.file}: {summary['zones']} zones, "
                f"{summary['services']} services"
            )
        return 0
    text = run_transaction(engine, lambda c: get_meta(c, RULES_KEY), what="carriers")
    if not text:
        print("no carrier rules loaded: floor-hub carriers FILE loads a carriers.toml")
        return 1
    if args.json:
        print(text)
        return 0
    data = json.loads(text)
    for s in data["services"]:
        zones = ", ".join(f"{r['zone']} {r['transit_days']}d" for r in s["rates"])
        print(f"{s['carrier']} {s['service']}: up to {s['max_weight_g']} g; {zones}")
    return 0
