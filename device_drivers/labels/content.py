"""What a shipping label says: :class:`ShippingLabel`, made from a domain order.

The texts are checked here, once, so both renderings (ZPL and PNG) can trust them: the
tracking number must be printable ASCII a Code 128 carries without escapes, an SSCC must be
18 digits with a valid GS1 check digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from floor_app.domain.gtin import gs1_check_digit
from floor_app.domain.order import Address, Order
from floor_app.domain.packing import tracking_number

from .errors import LabelError

_TRACKING_RE = re.compile(r"^[A-Za-z0-9 \-./+]{4,40}$")


@dataclass(frozen=True, slots=True)
class ShippingLabel:
    """Everything printed on one shipping label.

    ``sscc`` is the 18-digit Serial Shipping Container Code of the parcel, printed as a
    GS1-128 with application identifier (00) when given.
    """

    order_id: str
    ship_to: Address
    carrier: str
    tracking: str
    service: str = ""
    sscc: str | None = None

    def __post_init__(self) -> None:
        if not _TRACKING_RE.match(self.tracking):
            raise LabelError(
                f"tracking number {self.tracking!r} cannot be printed as Code 128: use 4 to "
                "40 letters, digits, spaces or - . / +"
            )
        if not self.order_id.strip():
            raise LabelError("a label needs an order id")
        if not self.carrier.strip():
            raise LabelError(f"order {self.order_id} has no carrier for its label")
        missing = self.ship_to.missing_fields()
        if missing:
            raise LabelError(f"the ship-to address of {self.order_id} lacks {', '.join(missing)}")
        if self.sscc is not None:
            check_sscc(self.sscc)

    @classmethod
    def for_order(
        cls,
        order: Order,
        *,
        carrier: str | None = None,
        tracking: str | None = None,
        sscc: str | None = None,
    ) -> ShippingLabel:
        """The label of ``order`` (carrier and tracking number default to the order's own
        carrier and :func:`~floor_app.domain.packing.tracking_number`)."""
        return cls(
            order_id=order.order_id,
            ship_to=order.ship_to,
            carrier=(carrier or order.carrier or "").strip(),
            tracking=tracking or tracking_number(order.order_id),
            service=order.service,
            sscc=sscc,
        )

    @property
    def address_lines(self) -> list[str]:
        """The ship-to address as printed, top to bottom."""
        return self.ship_to.as_label_lines()

    @property
    def routing(self) -> str:
        """Country and postcode, printed large for sorting."""
        return f"{self.ship_to.country} {self.ship_to.postcode}".strip()

    @property
    def qr_payload(self) -> str:
        """The QR code's text: ``tracking|order|carrier|postcode|country|service``.

        The tracking number comes first so anything that reads the QR code finds it at once.
        """
        fields = (
            self.tracking,
            self.order_id,
            self.carrier,
            self.ship_to.postcode,
            self.ship_to.country,
            self.service,
        )
        return "|".join(f.replace("|", "/") for f in fields)


def check_sscc(sscc: str) -> str:
    """``sscc`` when it is 18 digits with a valid check digit; else :class:`LabelError`."""
    if len(sscc) != 18 or not sscc.isascii() or not sscc.isdigit():
        raise LabelError(f"SSCC {sscc!r} must be 18 digits")
    if gs1_check_digit(sscc[:17]) != int(sscc[17]):
        raise LabelError(f"SSCC {sscc} has a wrong check digit")
    return sscc


def format_sscc(sscc: str) -> str:
    """The SSCC as printed under its bars: ``(00) 3 0614141 123456789 0``."""
    return f"(00) {sscc[0]} {sscc[1:8]} {sscc[8:17]} {sscc[17]}"
