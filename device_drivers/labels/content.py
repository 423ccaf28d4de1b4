"""What a shipping label says: :class:`ShippingLabel`, made from a domain order and the
parcel's facts (:class:`~floor_app.domain.labelling.ParcelFacts`).

A carrier-grade 4x6 label carries the sender and the return address, the recipient with
phone, the weight, the ship date, the piece ("1/1"), the carrier and service, the sort code
of the carrier rules (the destination zone's), the tracking number as Code 128, the order
reference and, when given, the SSCC as GS1-128. The QR code carries every one of these
fields (:data:`QR_FIELDS`, ``|`` between them, the tracking number first), so a scanner or a
test reads the whole label back.

The texts are checked here, once, so both renderings (ZPL and PNG) can trust them: the
tracking number must be printable ASCII a Code 128 carries without escapes, an SSCC must be
18 digits with a valid GS1 check digit, and sender and recipient must be whole addresses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from floor_app.domain.gtin import gs1_check_digit
from floor_app.domain.labelling import ParcelFacts
from floor_app.domain.order import Address, Order
from floor_app.domain.packing import tracking_number

from .errors import LabelError

_TRACKING_RE = re.compile(r"^[A-Za-z0-9 \-./+]{4,40}$")

#: The fields of the QR code's record, in order.
QR_FIELDS = (
    "tracking",
    "order",
    "carrier",
    "service",
    "sort",
    "postcode",
    "country",
    "weight_g",
    "ship_date",
    "piece",
    "to_name",
    "to_phone",
    "to_lines",
    "to_city",
    "from_name",
    "from_phone",
    "from_lines",
    "from_city",
    "from_postcode",
    "from_country",
    "return_to",
)


@dataclass(frozen=True, slots=True)
class ShippingLabel:
    """Everything printed on one shipping label.

    ``sscc`` is the 18-digit Serial Shipping Container Code of the parcel, printed as a
    GS1-128 with application identifier (00) when given. ``return_to`` None: parcels go
    back to the sender.
    """

    order_id: str
    ship_to: Address
    carrier: str
    tracking: str
    sender: Address
    weight_g: int
    ship_date: date
    service: str = ""
    sort_code: str = ""
    return_to: Address | None = None
    piece: int = 1
    pieces: int = 1
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
        for what, address in (
            ("ship-to address", self.ship_to),
            ("sender address", self.sender),
            ("return address", self.return_to),
        ):
            missing = address.missing_fields() if address is not None else []
            if missing:
                raise LabelError(f"the {what} of {self.order_id} lacks {', '.join(missing)}")
        if self.weight_g <= 0:
            raise LabelError(f"the parcel of {self.order_id} has no weight to print")
        if not 1 <= self.piece <= self.pieces:
            raise LabelError(f"piece {self.piece}/{self.pieces} does not exist")
        if self.sscc is not None:
            check_sscc(self.sscc)

    @classmethod
    def for_order(
        cls,
        order: Order,
        parcel: ParcelFacts,
        *,
        carrier: str | None = None,
        tracking: str | None = None,
        sscc: str | None = None,
    ) -> ShippingLabel:
        """The label of ``order``'s parcel (carrier and tracking number default to the
        order's own carrier and :func:`~floor_app.domain.packing.tracking_number`; the sort
        code is the one of the order's carrier choice)."""
        choice = order.carrier_choice
        return cls(
            order_id=order.order_id,
            ship_to=order.ship_to,
            carrier=(carrier or order.carrier or "").strip(),
            tracking=tracking or tracking_number(order.order_id),
            sender=parcel.sender,
            weight_g=parcel.weight_g,
            ship_date=parcel.ship_date,
            service=order.service,
            sort_code=choice.sort_code if choice is not None else "",
            return_to=parcel.return_to,
            piece=parcel.piece,
            pieces=parcel.pieces,
            sscc=sscc,
        )

    @property
    def address_lines(self) -> list[str]:
        """The ship-to address as printed, top to bottom, its phone last."""
        lines = self.ship_to.as_label_lines()
        return [*lines, f"Tel {self.ship_to.phone}"] if self.ship_to.phone else lines

    @property
    def sender_lines(self) -> list[str]:
        """The sender as printed: name, street lines, postcode and city, country, phone."""
        lines = self.sender.as_label_lines()
        return [*lines, f"Tel {self.sender.phone}"] if self.sender.phone else lines

    @property
    def return_line(self) -> str:
        """The return address on one line ("" when parcels go back to the sender)."""
        if self.return_to is None or self.return_to == self.sender:
            return ""
        return ", ".join(p for p in self.return_to.as_label_lines() if p)

    @property
    def routing(self) -> str:
        """Country and postcode, printed large for sorting."""
        return f"{self.ship_to.country} {self.ship_to.postcode}".strip()

    @property
    def sort(self) -> str:
        """The sort code printed (the destination's country when the rules gave none)."""
        return self.sort_code or self.ship_to.country

    @property
    def weight(self) -> str:
        """The weight as printed: ``2.45 kg``."""
        return f"{self.weight_g / 1000:.2f} kg"

    @property
    def piece_text(self) -> str:
        """``1/1``."""
        return f"{self.piece}/{self.pieces}"

    @property
    def qr_record(self) -> dict[str, str]:
        """Every field of the label by its :data:`QR_FIELDS` name."""
        to, sender = self.ship_to, self.sender
        return {
            "tracking": self.tracking,
            "order": self.order_id,
            "carrier": self.carrier,
            "service": self.service,
            "sort": self.sort,
            "postcode": to.postcode,
            "country": to.country,
            "weight_g": str(self.weight_g),
            "ship_date": self.ship_date.isoformat(),
            "piece": self.piece_text,
            "to_name": to.name,
            "to_phone": to.phone,
            "to_lines": "; ".join(ln for ln in to.lines if ln),
            "to_city": " ".join(p for p in (to.city, to.region) if p),
            "from_name": sender.name,
            "from_phone": sender.phone,
            "from_lines": "; ".join(ln for ln in sender.lines if ln),
            "from_city": sender.city,
            "from_postcode": sender.postcode,
            "from_country": sender.country,
            "return_to": self.return_line,
        }

    @property
    def qr_payload(self) -> str:
        """The QR code's text: the :data:`QR_FIELDS` in order, ``|`` between them.

        The tracking number comes first so anything that reads the QR code finds it at once.
        """
        record = self.qr_record
        return "|".join(record[name].replace("|", "/") for name in QR_FIELDS)


def read_qr_payload(payload: str) -> dict[str, str]:
    """The fields of a label's QR code by name (:data:`QR_FIELDS`); :class:`LabelError` when
    the text is not such a record."""
    values = payload.split("|")
    if len(values) != len(QR_FIELDS):
        raise LabelError(f"a label's QR record has {len(QR_FIELDS)} fields, not {len(values)}")
    return dict(zip(QR_FIELDS, values, strict=True))


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
