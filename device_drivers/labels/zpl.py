"""ZPL II for a laid-out label: text as ``^GF`` graphics, barcodes as the printer's own.

* Text (any script, Chinese included) is sent as ``^GFA`` bitmaps drawn in a CJK font
  (:mod:`.text`), compressed with ZPL's run-length scheme (``G``-``z`` repeat counts, ``,``
  and ``!`` for the rest of a row, ``:`` for a repeated row). It prints the same on any
  ZPL printer, whatever fonts it has, and looks exactly like the preview.
* Code 128 and GS1-128 are ``^BC`` in mode N with explicit subset and FNC1 invocation
  codes (see :mod:`.symbols`), so the printer draws exactly the bars of the preview.
* The QR code is ``^BQN,2,m`` with ``^FDQA,...``: the two characters before the comma are
  the error-correction level (Q) and automatic input mode; without them the printer eats
  the first characters of the data. A ``^BY`` with bar height 1 goes before it, because a
  Zebra printer moves a QR code down by the current ``^BY`` height minus one dot.
* ``^CI28`` (UTF-8) for the QR data, ``^PW``/``^LL`` for the 4x6 in size.
"""

from __future__ import annotations

import re

import numpy as np

from .layout import Code128Element, LabelLayout, QrElement, RuleElement, TextElement
from .symbols import code128_text
from .text import Bitmap

_RUN = re.compile(r"(.)\1+")


def to_zpl(layout: LabelLayout) -> bytes:
    """The ZPL of ``layout`` (UTF-8 bytes, one command per line)."""
    out = [
        "^XA",
        "^CI28",
        f"^PW{layout.width}",
        f"^LL{layout.height}",
        "^LH0,0",
        "^LS0",
        "^PON",
        f"^FX floor shipping label {layout.label.order_id} {layout.label.tracking}",
    ]
    for element in layout.elements:
        if isinstance(element, TextElement):
            out.append(f"^FO{element.x},{element.y}{graphic_field(element.bitmap)}^FS")
        elif isinstance(element, RuleElement):
            thickness = min(element.width, element.height)
            out.append(
                f"^FO{element.x},{element.y}^GB{element.width},{element.height},{thickness}^FS"
            )
        elif isinstance(element, Code128Element):
            out.append(
                f"^FO{element.x},{element.y}^BY{element.module},3,{element.height}"
                f"^BCN,{element.height},N,N,N,N^FD{element.symbol.zpl_data()}^FS"
            )
        elif isinstance(element, QrElement):
            out.append(
                f"^BY2,3,1^FO{element.x},{element.y}^BQN,2,{element.magnification}"
                f"^FH^FDQA,{field_hex_escaped(element.symbol.data)}^FS"
            )
    out += ["^XZ", ""]
    return "\n".join(out).encode("utf-8")


_CODE128_FIELD = re.compile(rb"\^BC[^\^]*(?:\^(?!FD)[^\^]*)*\^FD([^\^]*)\^FS")


def code128_fields(zpl: bytes) -> list[str]:
    """The texts of every Code 128 (``^BC``) on a ZPL label, top to bottom as sent: what a
    scanner reads back from the printed label."""
    return [code128_text(m.group(1).decode("ascii")) for m in _CODE128_FIELD.finditer(zpl)]


def field_hex_escaped(text: str) -> str:
    """``text`` for a ``^FH`` field: ``^``, ``~``, ``_`` and control characters as ``_XX``."""
    out = []
    for ch in text:
        if ch in "^~_" or ord(ch) < 32 or ord(ch) == 127:
            out.append("".join(f"_{b:02X}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)


def graphic_field(bitmap: Bitmap) -> str:
    """``^GFA`` for ``bitmap`` (True is a black dot), compressed."""
    height, width = bitmap.shape
    per_row = (width + 7) // 8
    packed = np.packbits(bitmap.astype(np.uint8), axis=1)
    if packed.shape[1] < per_row:  # pragma: no cover - packbits pads rows itself
        packed = np.pad(packed, ((0, 0), (0, per_row - packed.shape[1])))
    total = per_row * height
    return f"^GFA,{total},{total},{per_row},{compress_rows(packed)}"


def compress_rows(rows: np.ndarray) -> str:
    """ZPL ASCII compression of packed rows (bytes per row x rows)."""
    out: list[str] = []
    previous = None
    for row in rows:
        hex_row = row.tobytes().hex().upper()
        if hex_row == previous:
            out.append(":")
            continue
        previous = hex_row
        out.append(_compress_row(hex_row))
    return "".join(out)


def _compress_row(hex_row: str) -> str:
    stripped = hex_row.rstrip("0")
    tail = ""
    if len(stripped) < len(hex_row):
        tail = ","
    else:
        ones = hex_row.rstrip("F")
        if len(ones) < len(hex_row) and len(hex_row) - len(ones) > 2:
            stripped, tail = ones, "!"
    if not stripped and tail == ",":
        return ","
    runs = _RUN.sub(lambda m: repeat_count(len(m.group(0))) + m.group(1), stripped)
    return runs + tail


def repeat_count(n: int) -> str:
    """ZPL's repeat prefix for ``n`` (1-400 per letter group): G=1 ... Y=19, g=20 ... z=400."""
    out = []
    while n >= 20:
        k = min(n // 20, 20)
        out.append(chr(ord("g") + k - 1))
        n -= k * 20
    if n:
        out.append(chr(ord("G") + n - 1))
    return "".join(out)
