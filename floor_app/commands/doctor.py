"""``floor-app doctor``: check every configured device and say what is wrong.

Loads the settings (``--config`` or ``$FLOOR_CONFIG``), builds the devices of ``[devices]``
with the same factory the app uses, starts them, waits up to ``--wait`` seconds until each
is ready or has failed with a reason, then lists each one with its kind, driver, state and
last error, and stops them. It also opens the local store read-only and runs SQLite's
integrity check (a store that does not exist yet is fine). Exit status: 0 when every
required device is ready and the store is sound, 1 when a device is missing or not ready or
the store is damaged, 2 when the configuration cannot be used. ``--json`` prints one JSON
object instead of the table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from device_drivers.base import Device, Devices, PrinterState
from device_drivers.factory import build_devices
from floor_app.bootstrap import with_demo_store
from floor_app.settings import ConfigError, load_settings
from floor_app.store.check import StoreCheck, check_store

READY_STATES = frozenset({"ready", PrinterState.PRINTING.value})
"""States in which a device can do its work now."""


def register(subparsers: Any) -> None:
    """Add the ``doctor`` subcommand."""
    parser = subparsers.add_parser(
        "doctor",
        help="check the configured devices (scanners, camera, printer, scale)",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of a table"
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=3.0,
        metavar="SECONDS",
        help="longest wait for devices to become ready or fail (default 3)",
    )
    parser.add_argument(
        "--config",
        dest="doctor_config",
        type=Path,
        metavar="FILE",
        help="TOML settings file (also accepted before the subcommand)",
    )
    parser.set_defaults(func=run)


def _is_ready(device: Device[Any]) -> bool:
    return device.state.value in READY_STATES


def _settled(device: Device[Any]) -> bool:
    """Ready, or failed with a reason; not still connecting."""
    state = device.state.value
    if state in READY_STATES:
        return True
    return state not in ("connecting", "disconnected") or bool(device.last_error)


def examine(devices: Devices, *, wait_s: float) -> list[dict[str, Any]]:
    """Start ``devices``, wait for them (up to ``wait_s``), describe each, stop them."""
    listed = devices.all()
    start_errors: dict[int, str] = {}
    try:
        for device in listed:
            try:
                device.start()
            except Exception as exc:  # a driver that cannot start is a finding, not a crash
                start_errors[id(device)] = f"cannot start: {exc}"
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and not all(_settled(d) for d in listed):
            time.sleep(0.05)
        return [
            {
                "name": device.name,
                "kind": device.kind,
                "driver": type(device).__name__,
                "required": device.required,
                "state": device.state.value,
                "ready": _is_ready(device),
                "last_error": start_errors.get(id(device), device.last_error),
                "details": device.details(),
            }
            for device in listed
        ]
    finally:
        devices.stop()


def _store_lines(store: StoreCheck) -> list[str]:
    if not store.exists:
        return [f"  ok  store    {store.path}  (not made yet: made on first start)"]
    mark = "ok " if store.ok else "!! "
    head = f"  {mark}store    {store.path}"
    if store.revision is not None:
        head += f"  schema {store.revision}, {store.unsent} event(s) unsent"
        if store.oldest_unsent_s is not None:
            head += f", oldest {store.oldest_unsent_s:.0f} s"
        if store.site_version:
            head += f", site data v{store.site_version}"
    lines = [head]
    lines.extend(f"       {problem}" for problem in store.problems)
    if store.stale:
        lines.append(
            f"       the hub found this store stale: {store.stale}; nothing is sent until a "
            "supervisor scans their badge on the device to recover it (docs/operations.md)"
        )
    if not store.ok:
        lines.append(
            "       move the file aside and restore it from backup; do not delete it "
            "(unsent work may be in it)"
        )
    return lines


def _table(rows: list[dict[str, Any]], store: StoreCheck, config: str | None, ok: bool) -> str:
    lines = [f"floor-app doctor: {len(rows)} device(s), config {config or '(defaults)'}"]
    if not rows:
        lines.append("  no devices configured")
    width = max((len(r["name"]) for r in rows), default=4)
    for row in rows:
        mark = "ok " if row["ready"] else ("!! " if row["required"] else "-- ")
        need = "required" if row["required"] else "optional"
        line = (
            f"  {mark}{row['kind']:<8} {row['name']:<{width}}  {row['driver']:<20} "
            f"{row['state']:<13} {need}"
        )
        lines.append(line.rstrip())
        if row["last_error"]:
            lines.append(f"       last error: {row['last_error']}")
    lines.extend(_store_lines(store))
    missing = [r["name"] for r in rows if r["required"] and not r["ready"]]
    if ok:
        lines.append("result: every required device is ready, the store is sound")
    elif missing:
        lines.append(f"result: required device(s) not ready: {', '.join(missing)}")
    else:
        lines.append("result: the local store is damaged")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the check; see the module docstring for the exit status."""
    path: Path | None = getattr(args, "doctor_config", None) or getattr(args, "config", None)
    demo = bool(getattr(args, "demo", False))
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        if args.json:
            print(json.dumps({"ok": False, "config_error": str(exc), "devices": []}))
        else:
            print(f"floor-app doctor: {exc}", file=sys.stderr)
        return 2
    store = check_store(with_demo_store(settings, demo=demo).db_path)
    rows = examine(build_devices(settings.devices, demo=demo), wait_s=max(0.0, args.wait))
    ok = store.ok and all(row["ready"] for row in rows if row["required"])
    shown = str(path) if path is not None else None
    if args.json:
        report = {"ok": ok, "config": shown, "demo": demo, "devices": rows}
        print(json.dumps({**report, "store": store.as_dict()}))
    else:
        print(_table(rows, store, shown, ok))
    return 0 if ok else 1
