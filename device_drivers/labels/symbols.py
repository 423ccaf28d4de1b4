"""The label's barcodes, encoded once for both renderings.

A Code 128 is encoded by python-barcode (which picks the subsets A/B/C); the PNG preview
draws its modules, and the ZPL sends the very same code values with Zebra's invocation codes
(``>:`` start B, ``>5`` code C, ``>8`` FNC1 ...) in ``^BC`` mode N, so printer and preview
draw identical bars. A QR code is made by segno for the preview and by the printer from the
same text at the same error-correction level (Q) for the ZPL.
"""

from __future__ import annotations

from dataclasses import dataclass

import barcode
import segno

from .errors import LabelError

_START = {103: ">9", 104: ">:", 105: ">;"}
_SWITCH = {
    # (current subset, value) -> (ZPL invocation, new subset)
    ("A", 99): (">5", "C"),
    ("B", 99): (">5", "C"),
    ("A", 100): (">6", "B"),
    ("C", 100): (">6", "B"),
    ("B", 101): (">7", "A"),
    ("C", 101): (">7", "A"),
}
_FNC1 = 102
_ZPL_UNSAFE = set("^~>_")


@dataclass(frozen=True, slots=True)
class Code128Symbol:
    """A Code 128 (``gs1``: GS1-128, FNC1 first) with its code values and modules."""

    data: str
    gs1: bool
    codes: tuple[int, ...]
    modules: str

    @classmethod
    def encode(cls, data: str, *, gs1: bool = False) -> Code128Symbol:
        """Encode ``data`` (for GS1-128: the element string, e.g. ``00`` + an SSCC)."""
        if not data or not data.isascii() or not data.isprintable():
            raise LabelError(f"{data!r} cannot be printed as Code 128: printable ASCII only")
        if _ZPL_UNSAFE & set(data):
            raise LabelError(f"{data!r} cannot be printed as Code 128: no ^ ~ > or _")
        symbol = barcode.get("gs1_128" if gs1 else "code128", data)
        codes = tuple(int(c) for c in symbol._build())
        modules = "".join(symbol.build())
        return cls(data=data, gs1=gs1, codes=codes, modules=modules)

    @property
    def width_modules(self) -> int:
        """Modules from the first bar to the last (without quiet zones)."""
        return len(self.modules)

    def zpl_data(self) -> str:
        """The ``^FD`` content for ``^BC`` mode N that yields exactly these code values."""
        if not self.codes or self.codes[0] not in _START:
            raise LabelError("Code 128 without a start code")
        subset = {103: "A", 104: "B", 105: "C"}[self.codes[0]]
        out = [_START[self.codes[0]]]
        for value in self.codes[1:]:
            if value == _FNC1:
                out.append(">8")
            elif (subset, value) in _SWITCH:
                invocation, subset = _SWITCH[(subset, value)]
                out.append(invocation)
            elif subset == "C" and value < 100:
                out.append(f"{value:02d}")
            elif (subset in ("A", "B") and value < 64) or (subset == "B" and value < 96):
                out.append(chr(value + 32))
            else:
                raise LabelError(f"Code 128 value {value} in subset {subset} has no ZPL form")
        return "".join(out)


_INVOKE = {">9": "A", ">:": "B", ">;": "C", ">5": "C", ">6": "B", ">7": "A"}
GS = "\x1d"


def code128_text(zpl_data: str) -> str:
    """The text a scanner reads from a ``^BC`` mode N field: :meth:`Code128Symbol.zpl_data`
    backwards. Without invocation codes the field is the text itself (the printer picks the
    subsets); FNC1 after the first position reads as GS, a leading FNC1 (GS1-128) as nothing.

    Raises :class:`LabelError` for invocation codes or digits subset C cannot hold.
    """
    if not zpl_data.startswith(">"):
        return zpl_data
    out: list[str] = []
    subset = ""
    i = 0
    while i < len(zpl_data):
        pair = zpl_data[i : i + 2]
        if pair in _INVOKE:
            subset = _INVOKE[pair]
            i += 2
        elif pair == ">8":
            if out:
                out.append(GS)
            i += 2
        elif not subset:
            raise LabelError(f"Code 128 field {zpl_data!r} has no start code")
        elif subset == "C":
            if len(pair) != 2 or not pair.isdigit():
                raise LabelError(f"Code 128 field {zpl_data!r}: {pair!r} is not a digit pair")
            out.append(pair)
            i += 2
        else:
            out.append(zpl_data[i])
            i += 1
    return "".join(out)


@dataclass(frozen=True, slots=True)
class QrSymbol:
    """A QR code at error-correction level Q; :meth:`matrix` gives segno's modules."""

    data: str
    size_modules: int
    """Modules per side (without the quiet zone)."""

    @classmethod
    def encode(cls, data: str) -> QrSymbol:
        """Size up ``data`` (UTF-8 in byte mode where it is not plain)."""
        if not data:
            raise LabelError("a QR code needs some text")
        # The size does not depend on the mask: skip segno's (slow) search for the best one.
        qr = segno.make_qr(data, error="q", boost_error=False, mask=0)
        return cls(data=data, size_modules=int(qr.symbol_size(border=0)[0]))

    def matrix(self) -> tuple[tuple[bool, ...], ...]:
        """The modules, with the mask segno finds best (for the preview)."""
        qr = segno.make_qr(self.data, error="q", boost_error=False)
        return tuple(tuple(bool(v) for v in row) for row in qr.matrix)
