"""``floor-app``: the floor device app, and its subcommands (``floor-app doctor`` ...).

Starting the app builds some hundred thousand objects that live as long as the process
(SQLAlchemy, pydantic, Textual and our own modules, the store, the first screen). The
cyclic garbage collector traversed them about 200 times while they were imported (75 ms
of a one-second start, more on a busy device), finding nothing to free. It is off from
the start of :func:`main` until the first screen is drawn; then the app freezes what
startup built and turns it back on (:func:`floor_app.ui.app.settle_memory`). The heavy
imports (settings, store, logging, the subcommands) are made in :func:`main`, after that
switch.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from pathlib import Path

from floor_app import __version__
from floor_app.domain.users import Role


def build_parser() -> argparse.ArgumentParser:
    """The command line: the app's own options plus the subcommands of floor_app.commands."""
    from floor_app.commands import doctor, label

    parser = argparse.ArgumentParser(prog="floor-app", description="The floor device app.")
    parser.add_argument("--config", type=Path, help="TOML settings file (default: $FLOOR_CONFIG)")
    parser.add_argument("--role", choices=[r.value for r in Role], help="work in this role only")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="seeded local data and simulated devices; no broker, no hardware",
    )
    parser.add_argument(
        "--reset", action="store_true", help="with --demo: start from fresh demo data"
    )
    parser.add_argument(
        "--hub",
        action="store_true",
        help="with --demo: work with the demo site's hub at [sync] broker (floor-demo); "
        "tasks and orders come from the hub, not from local demo data",
    )
    parser.add_argument("--lang", choices=["en", "zh"], help="language at start")
    parser.add_argument("--device-id", help="override device.id")
    parser.add_argument("--data-dir", type=Path, help="override store.data_dir")
    parser.add_argument("--version", action="version", version=f"floor {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in (doctor, label):
        command.register(subparsers)
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    if args.device_id:
        out.setdefault("device", {})["id"] = args.device_id
    if args.data_dir:
        out.setdefault("store", {})["data_dir"] = str(args.data_dir)
    if args.demo and not args.hub:
        out.setdefault("sync", {})["enabled"] = False
    return out


def _refuse(message: str, code: int) -> int:
    """Say why the app cannot start, on stderr and (in a kiosk, where stderr vanishes with
    the terminal) in the journal."""
    from floor_app.logs import journal_send

    print(f"floor-app: {message}", file=sys.stderr)
    journal_send("floor-app", f"floor-app: {message}")
    if logging.getLogger().handlers:  # the log is set up: it says so too
        logging.getLogger("floor.app").error("cannot start: %s", message)
    return code


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``floor-app``."""
    collecting = gc.isenabled()
    gc.disable()  # until the first screen is drawn (see the module docstring)
    try:
        return _main(argv)
    finally:
        if collecting:
            gc.enable()


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "func", None) is not None:
        gc.enable()  # a subcommand draws no screen
        code: int = args.func(args)
        return code
    if args.hub and not args.demo:
        return _refuse("--hub only goes with --demo", 2)
    from floor_app.logs import setup_logging
    from floor_app.settings import ConfigError, load_settings
    from floor_app.store import StoreError

    try:
        settings = load_settings(args.config, **_overrides(args))
    except ConfigError as exc:
        return _refuse(str(exc), 2)
    from floor_app.bootstrap import build_context, with_demo_store

    # The log is written from here on (a store that will not open is in it too), when the
    # data folder exists (a missing one is the store's error to report, not to create).
    # The terminal belongs to Textual: logs go to the journal, or a file beside the store.
    where = with_demo_store(settings, demo=args.demo)

    def start_log() -> None:
        setup_logging(
            "floor-app",
            "info",
            json=True,
            target="journal",
            file=where.db_path.parent / "floor-app.log",
            device=where.device.id,
            site=where.device.site,
        )

    logging_started = where.db_path.parent.is_dir()
    if logging_started:
        start_log()
    try:
        role = Role(args.role) if args.role else None
        ctx = build_context(
            settings, demo=args.demo, reset=args.reset, role=role, demo_hub=args.hub
        )
    except StoreError as exc:
        return _refuse(str(exc), 3)
    if not logging_started:
        start_log()
    from floor_app.ui.app import FloorApp

    try:
        app = FloorApp(ctx, role=role, language=args.lang)
        app.run()
    finally:
        ctx.close()
    # not 0 when the app ended on an error it could not recover from: the kiosk unit
    # (Restart=always) starts it again, and the status says why it ended
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
