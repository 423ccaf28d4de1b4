"""``floor-app label``: write the shipping label of a demo order as ZPL or PNG.

Anyone can check a label without a printer::

    floor-app label --demo-order SO-100001 --format png --out label.png
    floor-app label --demo-order SO-100001 --format zpl --out - | nc printer 9100

The order comes from the demo site (``floor_app.demo``), the tracking number from
:func:`floor_app.domain.packing.tracking_number`; ``--sscc`` adds a GS1-128 SSCC. The file
is written whole or not at all (a temporary file, then renamed). Exit status: 0 written,
2 bad input (unknown order, bad SSCC, a label that cannot be made), 1 when the label cannot
be written or no CJK font is installed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

FORMATS = ("zpl", "png")


def register(subparsers: Any) -> None:
    """Add the ``label`` subcommand."""
    parser = subparsers.add_parser(
        "label",
        help="write a demo order's shipping label as ZPL or PNG",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument(
        "--demo-order", required=True, metavar="ORDER_ID", help="demo order, e.g. SO-100001"
    )
    parser.add_argument(
        "--format",
        dest="label_format",
        choices=FORMATS,
        help="zpl or png (default: from the --out suffix, else zpl)",
    )
    parser.add_argument(
        "--out", required=True, metavar="FILE", help="file to write, or - for standard output"
    )
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
    suffix = Path(args.out).suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else "zpl"


def run(args: argparse.Namespace) -> int:
    """Render and write the label; see the module docstring for exit codes."""
    from device_drivers.labels import LabelError, LabelFontMissing, ShippingLabel, render
    from floor_app.demo import build_demo_site
    from floor_app.domain.errors import NotFound

    fmt = _format(args)
    try:
        order = build_demo_site().order(args.demo_order)
    except NotFound as exc:
        return _fail(str(exc), 2)
    try:
        label = ShippingLabel.for_order(order, sscc=args.sscc)
        rendered = render(label, dpi=args.dpi, png=fmt == "png")
    except LabelFontMissing as exc:
        return _fail(str(exc), 1)
    except LabelError as exc:
        return _fail(str(exc), 2)
    data = rendered.png if fmt == "png" else rendered.zpl
    assert data is not None
    if args.out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return 0
    try:
        write_atomically(Path(args.out), data)
    except OSError as exc:
        return _fail(f"cannot write {args.out}: {exc.strerror or exc}", 1)
    print(f"{args.out}: {fmt} label of {order.order_id}, tracking {label.tracking}")
    return 0


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
