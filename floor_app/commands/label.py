"""``floor-app label``: an order's shipping label as it now stands, as text, ZPL or PNG.

Anyone can check a label without a printer::

    floor-app label --order SO-100001                       # what the label says
    floor-app --demo label --demo-order SO-100001 --out label.png
    floor-app label --order SO-100001 --format zpl --out - | nc printer 9100

``--order`` reads the device's store (``--config``; with ``--demo`` the demo store): the
order's newest label job that is not voided, so after a reprint the label with the new
tracking number, with the weight its parcel was packed at and the day the job was made.
``--demo-order`` does the same in the demo store and, for an order with no label there
yet, shows the label a demo order would get today (the seeded demo site's order, its
parcel estimated from its items and carton). ``--sscc`` adds a GS1-128 SSCC. Without
``--out`` the label's lines are printed; a file is written whole or not at all (a
temporary file, then renamed). Exit status: 0 shown or written, 2 bad input (unknown
order, no label yet, bad SSCC, a label that cannot be made), 1 when the label cannot be
written or no CJK font is installed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from floor_app.domain.labelling import ParcelFacts
    from floor_app.domain.order import Address, Order
    from floor_app.domain.packing import LabelJob

FORMATS = ("text", "zpl", "png")


class LabelRefused(Exception):
    """The label cannot be shown; ``code`` is the exit status."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def register(subparsers: Any) -> None:
    """Add the ``label`` subcommand."""
    parser = subparsers.add_parser(
        "label",
        help="show an order's shipping label as it now stands (text, ZPL or PNG)",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--order", metavar="ORDER_ID", help="an order of this device's store")
    which.add_argument(
        "--demo-order", metavar="ORDER_ID", help="a demo order, e.g. SO-100001 (the demo store)"
    )
    parser.add_argument(
        "--format",
        dest="label_format",
        choices=FORMATS,
        help="text, zpl or png (default: from the --out suffix, else zpl; no --out: text)",
    )
    parser.add_argument("--out", metavar="FILE", help="file to write, or - for standard output")
    parser.add_argument("--sscc", help="18-digit SSCC to print as GS1-128")
    parser.add_argument(
        "--dpi", type=int, choices=(203, 300, 600), default=203, help="printer resolution"
    )
    parser.set_defaults(func=run)


def _fail(message: str, code: int) -> int:
    print(f"floor-app label: {message}", file=sys.stderr)
    return code


def _format(args: argparse.Namespace) -> str:
    if args.label_format:
        return str(args.label_format)
    if not args.out:
        return "text"
    suffix = Path(args.out).suffix.lower().lstrip(".")
    return suffix if suffix in ("zpl", "png") else "zpl"


def run(args: argparse.Namespace) -> int:
    """Find, render and show or write the label; see the module docstring for exit codes."""
    from device_drivers.labels import LabelError, LabelFontMissing, render_shipping_label
    from floor_app.services.labels import label_lines

    fmt = _format(args)
    if fmt != "text" and not args.out:
        return _fail(f"--format {fmt} needs --out FILE (or - for standard output)", 2)
    try:
        job, order, parcel, note = _label(args)
    except LabelRefused as exc:
        return _fail(str(exc), exc.code)
    if fmt == "text":
        sender = ", ".join(parcel.sender.as_label_lines())
        lines = [note, f"from {sender}", *label_lines(job, order, parcel)]
        if parcel.return_to is not None and parcel.return_to != parcel.sender:
            lines.insert(2, f"return to {', '.join(parcel.return_to.as_label_lines())}")
        text = "\n".join(lines) + "\n"
        if not args.out or args.out == "-":
            sys.stdout.write(text)
            return 0
        data = text.encode("utf-8")
    else:
        try:
            rendered = render_shipping_label(
                job=job, order=order, parcel=parcel, sscc=args.sscc, dpi=args.dpi
            )
        except LabelFontMissing as exc:
            return _fail(str(exc), 1)
        except LabelError as exc:
            return _fail(str(exc), 2)
        data = rendered.zpl
        if fmt == "png":
            assert rendered.png is not None
            data = rendered.png
    if args.out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return 0
    try:
        write_atomically(Path(args.out), data)
    except OSError as exc:
        return _fail(f"cannot write {args.out}: {exc.strerror or exc}", 1)
    print(f"{args.out}: {fmt} label of {order.order_id}, tracking {job.tracking}")
    return 0


def _label(args: argparse.Namespace) -> tuple[LabelJob, Order, ParcelFacts, str]:
    """The label job, order and parcel of the order asked for, and a line saying whose."""
    from floor_app.bootstrap import label_addresses, with_demo_store
    from floor_app.settings import ConfigError, load_settings

    order_id: str = args.order or args.demo_order
    demo = bool(args.demo_order) or bool(getattr(args, "demo", False))
    overrides: dict[str, dict[str, object]] = {}
    if getattr(args, "device_id", None):
        overrides["device"] = {"id": args.device_id}
    if getattr(args, "data_dir", None):
        overrides["store"] = {"data_dir": str(args.data_dir)}
    try:
        settings = with_demo_store(
            load_settings(getattr(args, "config", None), **overrides), demo=demo
        )
    except ConfigError as exc:
        raise LabelRefused(str(exc), 2) from None
    sender, return_to = label_addresses(settings, demo=demo)
    found = _from_store(settings.db_path, settings.device.id, order_id, sender, return_to)
    if found is not None:
        return found
    if args.demo_order:
        return _demo_preview(order_id, sender, return_to)
    raise LabelRefused(f"order {order_id} has no label on this device ({settings.db_path})", 2)


def _from_store(
    path: Path, device_id: str, order_id: str, sender: Address | None, return_to: Address | None
) -> tuple[LabelJob, Order, ParcelFacts, str] | None:
    """The order's current label in the store at ``path`` (None: no store, or no label)."""
    if not path.exists():
        return None
    from device_drivers.label_renderer import ShippingLabelRenderer
    from floor_app.services.errors import ServiceError
    from floor_app.services.labels import LabelService
    from floor_app.store import Store, StoreError

    try:
        store = Store.open(path, device_id=device_id)
    except StoreError as exc:
        raise LabelRefused(str(exc), 1) from None
    try:
        labels = LabelService(
            store,
            None,
            path.parent / "spool" / "labels",
            ShippingLabelRenderer(),
            sender=sender,
            return_to=return_to,
        )
        job = labels.current(order_id)
        if job is None:
            return None
        try:
            order, parcel = labels.facts(job)
        except ServiceError as exc:
            raise LabelRefused(str(exc), 2) from None
    finally:
        store.close()
    reprint = f", reprint of {job.reprint_of} ({job.reprint_reason})" if job.reprint_of else ""
    return job, order, parcel, f"label {job.job_id}: {job.state.value}{reprint}"


def _demo_preview(
    order_id: str, sender: Address | None, return_to: Address | None
) -> tuple[LabelJob, Order, ParcelFacts, str]:
    """The label a seeded demo order would get today (no label job made yet)."""
    from floor_app.demo import DEMO_SENDER, build_demo_site
    from floor_app.domain.carriers import estimate_parcel
    from floor_app.domain.errors import NotFound
    from floor_app.domain.labelling import ParcelFacts
    from floor_app.domain.packing import LabelJob, tracking_number

    site = build_demo_site()
    try:
        order = site.order(order_id)
    except NotFound as exc:
        raise LabelRefused(str(exc), 2) from None
    skus = {s.sku: s for s in site.skus}
    weight, _ = estimate_parcel([(skus[ln.sku], ln.qty) for ln in order.lines], site.cartons)
    parcel = ParcelFacts(
        sender=sender or DEMO_SENDER, weight_g=weight, ship_date=date.today(), return_to=return_to
    )
    job = LabelJob("preview", order_id, tracking_number(order_id), order.carrier or "DHL")
    return job, order, parcel, f"label preview of demo order {order_id} (not printed yet)"


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename."""
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
