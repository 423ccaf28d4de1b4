"""Shipping labels: a 4x6 in, 203 dpi label in ZPL and a PNG preview of the same label.

``render_shipping_label(job=..., order=..., parcel=...)`` is what the label service's
renderer calls (:class:`device_drivers.label_renderer.ShippingLabelRenderer`);
:class:`ShippingLabel` with :func:`render` makes a label from any carrier, tracking number
and optional SSCC.
The text is drawn in a CJK font (Debian package ``fonts-wqy-zenhei``) and sent as
graphics, so Chinese addresses print on any ZPL printer.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from device_drivers.base import RenderedLabel

from .content import QR_FIELDS, ShippingLabel, check_sscc, read_qr_payload
from .errors import LabelError, LabelFontMissing
from .fonts import find_cjk_font
from .layout import LabelLayout, lay_out
from .preview import to_png
from .zpl import to_zpl

if TYPE_CHECKING:
    from floor_app.domain.labelling import ParcelFacts
    from floor_app.domain.order import Order
    from floor_app.domain.packing import LabelJob

__all__ = [
    "QR_FIELDS",
    "LabelError",
    "LabelFontMissing",
    "LabelLayout",
    "RenderedLabel",
    "ShippingLabel",
    "check_sscc",
    "find_cjk_font",
    "lay_out",
    "read_qr_payload",
    "render",
    "render_shipping_label",
]


def render(
    label: ShippingLabel, *, dpi: int = 203, png: bool = True, font: Path | None = None
) -> RenderedLabel:
    """ZPL (and a PNG preview unless ``png=False``) of ``label``; raises
    :class:`LabelError` (:class:`LabelFontMissing` when no CJK font is installed)."""
    layout = lay_out(label, dpi=dpi, font=font)
    return RenderedLabel(to_zpl(layout), to_png(layout) if png else None)


def render_shipping_label(
    *,
    job: LabelJob,
    order: Order,
    parcel: ParcelFacts,
    sscc: str | None = None,
    dpi: int = 203,
) -> RenderedLabel:
    """The label of a label job: the job's carrier and tracking number, the order's address
    and sort code, the parcel's sender, weight, ship date and piece."""
    label = ShippingLabel.for_order(
        order, parcel, carrier=job.carrier, tracking=job.tracking, sscc=sscc
    )
    return render(label, dpi=dpi)
