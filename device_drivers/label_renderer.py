"""The label renderer bootstrap hands the label service: shipping labels of
:mod:`device_drivers.labels` (text drawn in a CJK font, barcodes as the printer's own).

Importing this module costs nothing: :mod:`device_drivers.labels` (numpy, Pillow, the font)
is loaded when the first label is made, not while the app starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from device_drivers.base import LabelRenderer, RenderedLabel

if TYPE_CHECKING:
    from floor_app.domain.labelling import ParcelFacts
    from floor_app.domain.order import Order
    from floor_app.domain.packing import LabelJob


class ShippingLabelRenderer(LabelRenderer):
    """4x6 in shipping labels at ``dpi`` dots per inch, with a PNG preview."""

    def __init__(self, dpi: int = 203) -> None:
        self.dpi = dpi

    def render(self, job: LabelJob, order: Order, parcel: ParcelFacts) -> RenderedLabel:
        """The label of ``job`` for ``order``'s ``parcel`` (raises
        :class:`~device_drivers.base.LabelError`)."""
        from device_drivers.labels import render_shipping_label  # numpy, Pillow: first label

        return render_shipping_label(job=job, order=order, parcel=parcel, dpi=self.dpi)
