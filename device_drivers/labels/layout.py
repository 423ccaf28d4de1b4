"""Where everything sits on a 4x6 in shipping label: one layout, drawn twice.

:func:`lay_out` places the carrier, service, ship-to address, order id, the tracking number
as Code 128 with its text, a QR code, the country and postcode for sorting and, when given,
the SSCC as GS1-128, in printer dots (812 x 1218 at 203 dpi; other resolutions scale).
:mod:`.zpl` turns the layout into ZPL and :mod:`.preview` into a PNG, so the preview shows
what the printer prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .content import ShippingLabel, format_sscc
from .errors import LabelError
from .fonts import find_cjk_font
from .symbols import Code128Symbol, QrSymbol
from .text import Bitmap, renderer_for

BASE_DPI = 203
QUIET_ZONE_MODULES = 10


@dataclass(frozen=True, slots=True)
class TextElement:
    """A text bitmap with its top-left corner."""

    x: int
    y: int
    bitmap: Bitmap


@dataclass(frozen=True, slots=True)
class RuleElement:
    """A filled black rectangle (a rule between sections)."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Code128Element:
    """A Code 128 or GS1-128: ``module`` dots per module, ``height`` dots tall."""

    x: int
    y: int
    symbol: Code128Symbol
    module: int
    height: int

    @property
    def width(self) -> int:
        """Width in dots."""
        return self.symbol.width_modules * self.module


@dataclass(frozen=True, slots=True)
class QrElement:
    """A QR code, ``magnification`` dots per module."""

    x: int
    y: int
    symbol: QrSymbol
    magnification: int

    @property
    def size(self) -> int:
        """Side in dots."""
        return self.symbol.size_modules * self.magnification


Element = TextElement | RuleElement | Code128Element | QrElement


@dataclass(frozen=True, slots=True)
class LabelLayout:
    """A placed label: its size in dots, resolution and elements."""

    width: int
    height: int
    dpi: int
    elements: tuple[Element, ...]
    label: ShippingLabel


class _Placer:
    """Scales base (203 dpi) coordinates and renders text."""

    def __init__(self, dpi: int, font: Path) -> None:
        self.scale = dpi / BASE_DPI
        self.text = renderer_for(font)
        self.elements: list[Element] = []

    def d(self, value: float) -> int:
        return round(value * self.scale)

    def put_text(
        self, text: str, x: int, y: int, size: int, *, bold: bool = False, inverted: bool = False
    ) -> TextElement:
        element = TextElement(x, y, self.text.line(text, size, bold=bold, inverted=inverted))
        self.elements.append(element)
        return element

    def rule(self, y: int, width: int, x: int, thickness: int) -> None:
        self.elements.append(RuleElement(x, y, width, thickness))


def lay_out(label: ShippingLabel, *, dpi: int = BASE_DPI, font: Path | None = None) -> LabelLayout:
    """Place ``label`` on a 4x6 in label at ``dpi`` (raises :class:`LabelError`)."""
    if dpi not in (203, 300, 600):
        raise LabelError(f"labels are made for 203, 300 or 600 dpi printers, not {dpi}")
    p = _Placer(dpi, font or find_cjk_font())
    width, height = p.d(812), p.d(1218)
    margin = p.d(24)
    inner = width - 2 * margin
    _header(p, label, margin, inner, width)
    p.rule(p.d(96), inner, margin, p.d(4))
    _address(p, label, margin, inner)
    p.rule(p.d(470), inner, margin, p.d(4))
    p.put_text(f"ORDER  {label.order_id}", margin, p.d(480), p.d(32), bold=True)
    p.rule(p.d(528), inner, margin, p.d(2))
    p.put_text("TRACKING", margin, p.d(534), p.d(20))
    tracking = _code128(
        p, Code128Symbol.encode(label.tracking), margin, width - margin, p.d(562), p.d(190), p.d(3)
    )
    hri = p.text.line(label.tracking, p.d(34), bold=True)
    p.elements.append(
        TextElement((width - hri.shape[1]) // 2, tracking.y + tracking.height + p.d(6), hri)
    )
    p.rule(p.d(816), inner, margin, p.d(4))
    _bottom(p, label, margin, width, height)
    return LabelLayout(width, height, dpi, tuple(p.elements), label)


def _header(p: _Placer, label: ShippingLabel, margin: int, inner: int, width: int) -> None:
    right = width - margin
    if label.service:
        service = p.text.line(f" {label.service.upper()} ", p.d(32), bold=True, inverted=True)
        p.elements.append(TextElement(right - service.shape[1], p.d(26), service))
        right -= service.shape[1] + p.d(16)
    size = p.text.fit(label.carrier, p.d(56), right - margin)
    p.put_text(label.carrier, margin, p.d(18), size, bold=True)


def _address(p: _Placer, label: ShippingLabel, margin: int, inner: int) -> None:
    p.put_text("SHIP TO", margin, p.d(104), p.d(20))
    top, bottom = p.d(130), p.d(466)
    for size in (40, 36, 32, 28, 24, 20):
        name_size, line_size = p.d(size + 4), p.d(size)
        lines: list[tuple[str, int, bool]] = []
        for i, line in enumerate(label.address_lines):
            s = name_size if i == 0 else line_size
            lines += [(part, s, i == 0) for part in p.text.wrap(line, s, inner)]
        bitmaps = [p.text.line(text, s, bold=bold) for text, s, bold in lines]
        if top + sum(b.shape[0] for b in bitmaps) <= bottom:
            break
    else:
        raise LabelError(f"the ship-to address of {label.order_id} is too long for the label")
    y = top
    for bitmap in bitmaps:
        p.elements.append(TextElement(margin, y, bitmap))
        y += bitmap.shape[0]


def _code128(
    p: _Placer, symbol: Code128Symbol, left: int, right: int, y: int, height: int, module: int
) -> Code128Element:
    """Centre ``symbol`` between ``left`` and ``right``, thinner modules if it must."""
    for m in range(module, 0, -1):
        needed = (symbol.width_modules + 2 * QUIET_ZONE_MODULES) * m
        if needed <= right - left or m == 1:
            if needed > right - left:
                raise LabelError(f"{symbol.data!r} is too long for a Code 128 on this label")
            x = left + (right - left - symbol.width_modules * m) // 2
            element = Code128Element(x, y, symbol, m, height)
            p.elements.append(element)
            return element
    raise LabelError(f"{symbol.data!r} does not fit")  # pragma: no cover - loop returns


def _bottom(p: _Placer, label: ShippingLabel, margin: int, width: int, height: int) -> None:
    qr_symbol = QrSymbol.encode(label.qr_payload)
    magnification = max(2, min(p.d(6), p.d(236) // qr_symbol.size_modules))
    qr = QrElement(margin + p.d(4), p.d(840), qr_symbol, magnification)
    p.elements.append(qr)
    zone_left = qr.x + qr.size + p.d(28)
    zone_width = width - margin - zone_left
    size = p.text.fit(label.routing, p.d(60), zone_width)
    routing = p.put_text(label.routing, zone_left, p.d(836), size, bold=True)
    y = routing.y + routing.bitmap.shape[0] + p.d(6)
    if label.sscc is None:
        size = p.text.fit(label.order_id, p.d(40), zone_width)
        p.put_text(label.order_id, zone_left, y, size)
        return
    p.put_text("SSCC", zone_left, y, p.d(20))
    sscc = _code128(
        p,
        Code128Symbol.encode("00" + label.sscc, gs1=True),
        zone_left - p.d(20),
        width,
        y + p.d(26),
        p.d(140),
        p.d(3),
    )
    text = p.text.line(format_sscc(label.sscc), p.d(24))
    p.elements.append(
        TextElement(sscc.x + (sscc.width - text.shape[1]) // 2, sscc.y + sscc.height + p.d(4), text)
    )
