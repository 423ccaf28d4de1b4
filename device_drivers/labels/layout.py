"""Where everything sits on a 4x6 in shipping label: one layout, drawn twice.

:func:`lay_out` places, top to bottom: the carrier and service; the sender (and a return
address when it differs) beside the ship date, weight and piece; the ship-to address with
the recipient's phone; the sort code with the country and postcode and the order reference;
the tracking number as Code 128 with its text; the QR code of every field and, when given,
the SSCC as GS1-128 (else the order reference again, large). Positions are printer dots
(812 x 1218 at 203 dpi; other resolutions scale). :mod:`.zpl` turns the layout into ZPL
and :mod:`.preview` into a PNG, so the preview shows what the printer prints; every text
element keeps the text it draws.
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
    """A text bitmap with its top-left corner and the text it shows."""

    x: int
    y: int
    bitmap: Bitmap
    text: str = ""


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
        line = self.text.line(text, size, bold=bold, inverted=inverted)
        element = TextElement(x, y, line, text)
        self.elements.append(element)
        return element

    def rule(self, y: int, width: int, x: int, thickness: int) -> None:
        self.elements.append(RuleElement(x, y, width, thickness))

    def column(self, x: int, y: int, height: int, thickness: int) -> None:
        self.elements.append(RuleElement(x, y, thickness, height))

    def block(
        self,
        lines: list[tuple[str, bool]],
        x: int,
        top: int,
        bottom: int,
        width: int,
        sizes: tuple[int, ...],
    ) -> bool:
        """Place ``lines`` (text, bold) wrapped to ``width`` from ``top``, at the largest of
        ``sizes`` that ends above ``bottom``; False when even the smallest does not."""
        for size in sizes:
            placed: list[tuple[str, Bitmap]] = []
            for text, bold in lines:
                s = self.d(size + 4) if bold else self.d(size)
                placed += [
                    (part, self.text.line(part, s, bold=bold))
                    for part in self.text.wrap(text, s, width)
                ]
            if top + sum(b.shape[0] for _, b in placed) <= bottom:
                y = top
                for text, bitmap in placed:
                    self.elements.append(TextElement(x, y, bitmap, text))
                    y += bitmap.shape[0]
                return True
        return False


def lay_out(label: ShippingLabel, *, dpi: int = BASE_DPI, font: Path | None = None) -> LabelLayout:
    """Place ``label`` on a 4x6 in label at ``dpi`` (raises :class:`LabelError`)."""
    if dpi not in (203, 300, 600):
        raise LabelError(f"labels are made for 203, 300 or 600 dpi printers, not {dpi}")
    p = _Placer(dpi, font or find_cjk_font())
    width, height = p.d(812), p.d(1218)
    margin = p.d(24)
    inner = width - 2 * margin
    _header(p, label, margin, width)
    p.rule(p.d(96), inner, margin, p.d(4))
    _sender(p, label, margin, width)
    p.rule(p.d(296), inner, margin, p.d(4))
    _address(p, label, margin, inner)
    p.rule(p.d(588), inner, margin, p.d(4))
    _sorting(p, label, margin, width)
    p.rule(p.d(684), inner, margin, p.d(2))
    p.put_text("TRACKING", margin, p.d(690), p.d(20))
    tracking = _code128(
        p, Code128Symbol.encode(label.tracking), margin, width - margin, p.d(716), p.d(170), p.d(3)
    )
    hri = p.text.line(label.tracking, p.d(34), bold=True)
    p.elements.append(
        TextElement(
            (width - hri.shape[1]) // 2, tracking.y + tracking.height + p.d(6), hri, label.tracking
        )
    )
    p.rule(p.d(944), inner, margin, p.d(4))
    _bottom(p, label, margin, width)
    return LabelLayout(width, height, dpi, tuple(p.elements), label)


def _header(p: _Placer, label: ShippingLabel, margin: int, width: int) -> None:
    right = width - margin
    if label.service:
        text = f" {label.service.upper()} "
        service = p.text.line(text, p.d(32), bold=True, inverted=True)
        p.elements.append(TextElement(right - service.shape[1], p.d(26), service, text))
        right -= service.shape[1] + p.d(16)
    size = p.text.fit(label.carrier, p.d(56), right - margin)
    p.put_text(label.carrier, margin, p.d(18), size, bold=True)


def _sender(p: _Placer, label: ShippingLabel, margin: int, width: int) -> None:
    """The sender (and a different return address) on the left; date, weight, piece right."""
    split = p.d(512)
    p.column(split, p.d(100), p.d(192), p.d(2))
    returns = label.return_line
    p.put_text("FROM" if returns else "FROM / RETURN TO", margin, p.d(102), p.d(18))
    lines = [(text, False) for text in label.sender_lines]
    if returns:
        lines.append((f"RETURN TO: {returns}", False))
    if not p.block(
        lines, margin, p.d(124), p.d(292), split - margin - p.d(12), (22, 20, 18, 16, 14)
    ):
        raise LabelError(f"the sender address of {label.order_id} is too long for the label")
    x = split + p.d(16)
    for y, caption, value, size in (
        (102, "SHIP DATE", label.ship_date.isoformat(), 30),
        (162, "WEIGHT", label.weight, 30),
        (222, "PIECE", label.piece_text, 36),
    ):
        p.put_text(caption, x, p.d(y), p.d(18))
        p.put_text(
            value, x, p.d(y + 20), p.text.fit(value, p.d(size), width - margin - x), bold=True
        )


def _address(p: _Placer, label: ShippingLabel, margin: int, inner: int) -> None:
    p.put_text("SHIP TO", margin, p.d(304), p.d(20))
    lines = [(text, i == 0) for i, text in enumerate(label.address_lines)]
    if not p.block(lines, margin, p.d(330), p.d(584), inner, (40, 36, 32, 28, 24, 20)):
        raise LabelError(f"the ship-to address of {label.order_id} is too long for the label")


def _sorting(p: _Placer, label: ShippingLabel, margin: int, width: int) -> None:
    """The sort code, white on black; beside it the country and postcode, and the order."""
    text = f" {label.sort} "
    size = p.text.fit(text, p.d(64), p.d(380))
    sort = p.text.line(text, size, bold=True, inverted=True)
    p.elements.append(TextElement(margin, p.d(598), sort, text))
    x = margin + sort.shape[1] + p.d(20)
    zone = width - margin - x
    p.put_text(label.routing, x, p.d(596), p.text.fit(label.routing, p.d(40), zone), bold=True)
    order = f"ORDER {label.order_id}"
    p.put_text(order, x, p.d(644), p.text.fit(order, p.d(28), zone))


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


def _bottom(p: _Placer, label: ShippingLabel, margin: int, width: int) -> None:
    qr_symbol = QrSymbol.encode(label.qr_payload)
    magnification = max(2, min(p.d(6), p.d(252) // qr_symbol.size_modules))
    qr = QrElement(margin + p.d(4), p.d(956), qr_symbol, magnification)
    p.elements.append(qr)
    zone_left = qr.x + qr.size + p.d(28)
    zone_width = width - margin - zone_left
    y = p.d(956)
    if label.sscc is None:
        p.put_text("ORDER", zone_left, y, p.d(20))
        size = p.text.fit(label.order_id, p.d(48), zone_width)
        p.put_text(label.order_id, zone_left, y + p.d(26), size, bold=True)
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
    text = format_sscc(label.sscc)
    bitmap = p.text.line(text, p.d(24))
    p.elements.append(
        TextElement(
            sscc.x + (sscc.width - bitmap.shape[1]) // 2,
            sscc.y + sscc.height + p.d(4),
            bitmap,
            text,
        )
    )
