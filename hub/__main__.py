"""``floor-hub``: the central order-state service and its admin commands.

::

    floor-hub [run] [--db URL] [--broker URL] [--site dc1] [--demo [--demo-orders N]] [--worker N]
              [--shared-group GROUP] [--allocate-every S]
    floor-hub stats [--db URL] [--json]
    floor-hub import FILE [--db URL] [--json]
    floor-hub register DEVICE --role picker|packer|supervisor [--station S] [--zones A,B]
    floor-hub cancel ORDER --reason TEXT
    floor-hub allocate [--db URL]
    floor-hub stock check [--db URL] [--json]
    floor-hub stock count --location L [--sku S] | --sku S | --due [--json]
    floor-hub stock counts [--limit N] [--json]
    floor-hub carriers [FILE] [--db URL] [--json]
    floor-hub totes [FILE] [--db URL] [--json]
    floor-hub provision | revoke | broker-cert | crl | devices   (hub.provisioning)

``--db`` is a SQLAlchemy URL (``sqlite:///FILE``, ``postgresql://USER@HOST/DB``) or a file
path; the default is ``$FLOOR_HUB_DB`` or ``sqlite:///floor-hub.db``. ``--broker`` defaults
to ``$FLOOR_HUB_BROKER`` or ``mqtt://127.0.0.1:1883``; ``--identity`` (or
``$FLOOR_HUB_IDENTITY``) reads the broker URL and credentials from the ``identity.toml``
that ``floor-hub provision hub-1 --role hub`` wrote. ``run`` serves Prometheus metrics on
127.0.0.1:``--metrics-port`` (9464), tells systemd when it is ready, and stops cleanly on
SIGTERM and SIGINT.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path
from types import FrameType

from sqlalchemy import Connection

from floor_app.domain.errors import DomainError
from floor_app.logs import setup_logging
from hub.metrics import HubMetrics, start_metrics_server
from hub.provisioning.cli import register as register_provisioning
from sync.mqtt import BrokerUrlError
from sync.protocol import Topics

from .allocation import allocate
from .cancellation import cancel_order
from .carrier_rules import CarrierRulesError
from .carriers_cli import register as register_carriers
from .database import run_transaction
from .errors import HubError
from .identity import read_identity
from .importer import import_orders
from .intake import IntakeLimits
from .outbound import Outbound, transact
from .receive_cli import register as register_receive
from .receiving.putaway import RULES as PUTAWAY_RULES
from .receiving.receipts import send_open_notices
from .service import Hub, HubSettings, crash_probability
from .setup import load_demo, open_database
from .site_cli import register as register_site
from .site_data import DEVICE_ROLES, register_device
from .site_files import send_reference
from .stats import hub_stats
from .stock_cli import add_count_args, count_settings
from .stock_cli import register as register_stock
from .totes import TOLD_ROLES, send_tote_list
from .totes_cli import register as register_totes
from .trace_cli import register as register_trace

log = logging.getLogger("floor.hub")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        default=os.environ.get("FLOOR_HUB_DB", "sqlite:///floor-hub.db"),
        help="database URL or SQLite file (default: $FLOOR_HUB_DB or sqlite:///floor-hub.db)",
    )
    p.add_argument("--site", default=os.environ.get("FLOOR_SITE", "dc1"), help="site id")
    p.add_argument("--verbose", "-v", action="store_true", help="log more")


def _order_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of orders") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"the number of orders must be 0 or more, not {value}")
    return value


def parser() -> argparse.ArgumentParser:
    """The command line of floor-hub."""
    doc = (__doc__ or "").splitlines()[0]
    p = argparse.ArgumentParser(prog="floor-hub", description=doc.strip("`").replace("``", ""))
    sub = p.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run the hub (the default)")
    _common(run)
    run.add_argument(
        "--broker",
        default=os.environ.get("FLOOR_HUB_BROKER", "mqtt://127.0.0.1:1883"),
        help="mqtt://[user:pass@]HOST:PORT or mqtts://...",
    )
    run.add_argument("--demo", action="store_true", help="load the demo site into an empty db")
    run.add_argument(
        "--demo-orders",
        type=_order_count,
        default=None,
        metavar="N",
        help="with --demo: take in only the first N demo orders (0: none, they come by intake)",
    )
    run.add_argument("--worker", default="1", help="worker name (part of the client id)")
    run.add_argument("--shared-group", default=None, help="share subscriptions with other workers")
    run.add_argument(
        "--allocate-every", type=float, default=2.0, help="seconds between allocation passes"
    )
    run.add_argument("--lease-s", type=float, default=1800.0, help="task lease in seconds")
    run.add_argument(
        "--putaway",
        choices=[r.replace("_", "-") for r in PUTAWAY_RULES],
        default="pick-face",
        help="where received goods go first: the pick face while below its maximum, or "
        "reserve (default %(default)s)",
    )
    limits = IntakeLimits()
    run.add_argument(
        "--max-line-qty",
        type=int,
        default=limits.max_line_qty,
        help="intake refuses an order line asking for more (default %(default)s)",
    )
    run.add_argument(
        "--max-lines",
        type=int,
        default=limits.max_lines,
        help="intake refuses an order of more lines (default %(default)s)",
    )
    run.add_argument(
        "--max-order-units",
        type=int,
        default=limits.max_units,
        help="intake refuses an order of more units in all (default %(default)s)",
    )
    add_count_args(run)
    run.add_argument(
        "--count-every",
        type=float,
        default=3600.0,
        help="seconds between ABC count passes (0: none; default %(default)s)",
    )
    run.add_argument("--ca-file", type=Path, default=None, help="CA bundle for mqtts://")
    run.add_argument("--cert-file", type=Path, default=None, help="client certificate")
    run.add_argument("--key-file", type=Path, default=None, help="client key")
    run.add_argument(
        "--identity",
        type=Path,
        default=Path(os.environ["FLOOR_HUB_IDENTITY"])
        if os.environ.get("FLOOR_HUB_IDENTITY")
        else None,
        help="identity.toml with the broker URL and credentials (from floor-hub provision)",
    )
    run.add_argument(
        "--metrics-port",
        type=int,
        default=int(os.environ.get("FLOOR_HUB_METRICS_PORT", "9464")),
        help="serve Prometheus metrics on 127.0.0.1:PORT (-1: off)",
    )
    run.add_argument(
        "--log-json",
        action="store_true",
        default=bool(os.environ.get("JOURNAL_STREAM")),
        help="JSON log lines (the default under systemd, whose journal takes stdout)",
    )
    stats = sub.add_parser("stats", help="print what the hub has recorded")
    _common(stats)
    stats.add_argument("--json", action="store_true", help="one JSON object")
    imp = sub.add_parser("import", help="import orders from a .jsonl or .csv file")
    _common(imp)
    imp.add_argument("file", type=Path)
    imp.add_argument("--json", action="store_true", help="one JSON object")
    add = sub.add_parser("register", help="let a device send events to the hub")
    _common(add)
    add.add_argument("device")
    add.add_argument("--role", required=True, choices=DEVICE_ROLES)
    add.add_argument("--station", default="", help="pack station of a packer (PACK-01)")
    add.add_argument("--zones", default="", help="comma-separated zones a picker serves")
    cancel = sub.add_parser("cancel", help="cancel an order")
    _common(cancel)
    cancel.add_argument("order")
    cancel.add_argument("--reason", required=True)
    alloc = sub.add_parser("allocate", help="run one allocation pass")
    _common(alloc)
    register_provisioning(sub)
    register_stock(sub)
    register_carriers(sub)
    register_totes(sub)
    register_site(sub)
    register_receive(sub)
    register_trace(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``floor-hub``."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in ("-h", "--help")):
        args_list.insert(0, "run")
    args = parser().parse_args(args_list)
    if args.command is None:
        parser().print_help()
        return 2
    if args.command == "run" and args.log_json:
        setup_logging("floor-hub", "info" if args.verbose else "warning", json=True, site=args.site)
    else:
        logging.basicConfig(
            level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
            format="%(asctime)s %(name)s %(message)s",
            stream=sys.stderr,
        )
    try:
        if getattr(args, "func", None) is not None:  # a provisioning or stock subcommand
            code: int = args.func(args)
            return code
        return COMMANDS[args.command](args)
    except (HubError, CarrierRulesError) as exc:
        print(f"floor-hub: {exc}", file=sys.stderr)
        return 2
    except BrokerUrlError as exc:
        print(f"floor-hub: {exc}", file=sys.stderr)
        return 2


def cmd_run(args: argparse.Namespace) -> int:
    if args.demo_orders is not None and not args.demo:
        print("floor-hub: --demo-orders only goes with --demo", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    broker_url = args.broker
    if args.identity is not None:
        identity = read_identity(args.identity)
        broker_url = identity.url
        args.ca_file = args.ca_file or identity.ca_file
        args.cert_file = args.cert_file or identity.cert_file
        args.key_file = args.key_file or identity.key_file
    settings = HubSettings(
        site=args.site,
        worker=args.worker,
        shared_group=args.shared_group,
        allocate_every_s=args.allocate_every,
        crash_after_commit_prob=crash_probability(),
        ca_file=args.ca_file,
        cert_file=args.cert_file,
        key_file=args.key_file,
    )
    settings = _with_lease(settings, args.lease_s)
    try:
        counting = count_settings(args, due_every_s=args.count_every)
    except DomainError as exc:
        print(f"floor-hub run: {exc}", file=sys.stderr)
        return 2
    limits = IntakeLimits(args.max_lines, args.max_line_qty, args.max_order_units)
    if min(limits.max_lines, limits.max_line_qty, limits.max_units) < 1:
        print("floor-hub run: the intake limits must be at least 1", file=sys.stderr)
        return 2
    settings = replace(
        settings,
        handlers=replace(
            settings.handlers,
            counts=counting,
            intake=limits,
            putaway=args.putaway.replace("-", "_"),
        ),
    )
    engine = open_database(args.db, args.site)
    metrics = HubMetrics()
    server = None
    if args.metrics_port >= 0:
        try:
            server = start_metrics_server(args.metrics_port, metrics)
        except OSError as exc:
            log.warning("metrics are not served: %s", exc)
    hub = Hub(args.db, broker_url, settings, engine=engine, metrics=metrics)
    if args.demo:
        loaded, messages = load_demo(engine, orders=args.demo_orders)
        if loaded:
            log.warning("demo site loaded into %s", args.db)
        hub.publish_later(messages)
    hub.start()
    print(
        f"floor-hub: site {args.site}, worker {args.worker}, broker {hub.address.url}",
        file=sys.stderr,
        flush=True,
    )
    while not stop.wait(0.5):
        pass
    hub.stop()
    counts = hub.receiver.counts if hub.receiver is not None else {}
    print(
        f"floor-hub: worker {args.worker} stopped after {counts.get('batches', 0)} batches, "
        f"{counts.get('events_applied', 0)} events applied, "
        f"{counts.get('duplicates', 0)} duplicates, {counts.get('gaps', 0)} gaps",
        file=sys.stderr,
        flush=True,
    )
    if server is not None:
        server.stop()
    engine.dispose()
    return 0


def _with_lease(settings: HubSettings, lease_s: float) -> HubSettings:
    return replace(
        settings,
        allocation=replace(settings.allocation, lease_s=lease_s),
        handlers=replace(settings.handlers, lease_s=lease_s),
    )


def cmd_stats(args: argparse.Namespace) -> int:
    engine = open_database(args.db, args.site)
    figures = run_transaction(engine, hub_stats, what="stats")
    engine.dispose()
    if args.json:
        print(json.dumps(figures, sort_keys=True))
        return 0
    print(f"site {figures['site']}")
    for device, f in figures["devices"].items():
        print(
            f"  {device:<10} applied {f['applied']:>7}  last seq {f['last_seq']:>7}  "
            f"duplicates {f['duplicates_ignored']:>5}  refused {f['refused']:>4}  "
            f"rejected {f['rejected']:>4}  {f['presence']}"
        )
    print(f"orders: {json.dumps(figures['orders'])}")
    print(f"orders rejected at intake: {figures['orders_rejected']}")
    print(f"carrier choices: {json.dumps(figures['carriers'])}")
    print(f"dead letters: {figures['dead_letters']} {json.dumps(figures['dead_letters_by_code'])}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    engine = open_database(args.db, args.site)
    report = import_orders(engine, args.site, args.file)
    engine.dispose()
    summary = report.as_dict()
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(
            f"{summary['accepted']} orders accepted, {summary['unchanged']} unchanged, "
            f"{summary['rejected']} rejected"
        )
        for item in summary["rejections"]:
            print(f"  {item['order'] or '(no order id)'}: {'; '.join(item['reasons'])}")
    return 1 if report.rejected else 0


def cmd_register(args: argparse.Namespace) -> int:
    engine = open_database(args.db, args.site)

    def work(conn: Connection, out: Outbound) -> bool:
        added = register_device(
            conn, args.device, args.role, station=args.station, zones=args.zones
        )
        if added:  # published by the running hub
            send_reference(conn, out, args.device)
            send_open_notices(conn, out, args.device)
            if args.role in TOLD_ROLES:
                send_tote_list(conn, out, args.device)
        return added

    added, _ = transact(engine, Topics(args.site), work, "register")
    engine.dispose()
    print(f"device {args.device} {'registered' if added else 'was already registered'}")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    engine = open_database(args.db, args.site)
    summary, _ = transact(
        engine,
        Topics(args.site),
        lambda c, out: cancel_order(c, out, args.order, args.reason),
        "cancel",
    )
    engine.dispose()
    print(json.dumps(summary))
    return 0


def cmd_allocate(args: argparse.Namespace) -> int:
    engine = open_database(args.db, args.site)
    report = allocate(engine, args.site)
    engine.dispose()
    print(
        json.dumps(
            {
                "reserved": len(report.reserved),
                "waiting": report.waiting,
                "held": report.held,
                "tasks": report.tasks,
                "assigned": report.assigned,
                "expired": report.expired,
            }
        )
    )
    return 0


COMMANDS = {
    "run": cmd_run,
    "stats": cmd_stats,
    "import": cmd_import,
    "register": cmd_register,
    "cancel": cmd_cancel,
    "allocate": cmd_allocate,
}


if __name__ == "__main__":
    sys.exit(main())
