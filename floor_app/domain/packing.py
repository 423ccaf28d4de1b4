"""Cartons, pack sessions and label jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .errors import DomainError, QuantityError
from .gtin import gs1_check_digit
from .sku import Dimensions


@dataclass(frozen=True, slots=True)
class Carton:
    """A carton type: inner dimensions, tare weight, cost and the most it may carry."""

    code: str
    inner: Dimensions
    tare_g: int
    max_weight_g: int
    cost: float = 0.0

    @property
    def volume_mm3(self) -> int:
        """Inner volume in cubic millimetres."""
        return self.inner.volume_mm3


class PackState(StrEnum):
    """Where a pack session is."""

    VERIFYING = "verifying"
    WEIGHING = "weighing"
    LABELLING = "labelling"
    CONFIRMING = "confirming"
    PACKED = "packed"
    HELD = "held"


@dataclass(slots=True)
class PackSession:
    """A packer verifying one order at a station: counts per SKU against what was ordered."""

    session_id: str
    order_id: str
    station: str
    expected: dict[str, int]
    verified: dict[str, int] = field(default_factory=dict)
    carton: str | None = None
    weight_g: int | None = None
    state: PackState = PackState.VERIFYING

    def verify(self, sku: str, qty: int = 1) -> int:
        """Count ``qty`` of ``sku`` as verified; returns what is still open for it."""
        if sku not in self.expected:
            raise DomainError(
                f"{sku} is not in order {self.order_id}",
                hint="set it aside",
                code="pack.not_in_order",
                params={"sku": sku, "order": self.order_id},
            )
        if qty <= 0:
            raise QuantityError(
                f"quantity must be positive, got {qty}",
                code="qty.not_positive",
                params={"qty": qty},
            )
        have = self.verified.get(sku, 0)
        if have + qty > self.expected[sku]:
            raise QuantityError(
                f"{sku}: {have + qty} scanned but only {self.expected[sku]} ordered",
                hint="set the extra item aside",
                code="pack.too_many",
                params={"sku": sku, "scanned": have + qty, "ordered": self.expected[sku]},
            )
        self.verified[sku] = have + qty
        return self.expected[sku] - self.verified[sku]

    @property
    def missing(self) -> dict[str, int]:
        """SKU -> units still not verified."""
        return {
            s: q - self.verified.get(s, 0)
            for s, q in self.expected.items()
            if q > self.verified.get(s, 0)
        }

    @property
    def is_complete(self) -> bool:
        """True when every ordered unit has been verified."""
        return not self.missing


class LabelState(StrEnum):
    """Where a label job is."""

    QUEUED = "queued"
    PRINTING = "printing"
    PRINTED = "printed"
    FAILED = "failed"
    CONFIRMED = "confirmed"  # the printed label was scanned back
    VOIDED = "voided"


@dataclass(slots=True)
class LabelJob:
    """One label to print. ``job_id`` is the event id that asked for it: never printed twice."""

    job_id: str
    order_id: str
    tracking: str
    carrier: str
    state: LabelState = LabelState.QUEUED
    attempts: int = 0
    last_error: str = ""
    reprint_of: str | None = None
    reprint_reason: str = ""
    #: when the job was made (Unix seconds; None before it is stored)
    created_at: float | None = None

    def __post_init__(self) -> None:
        if self.reprint_of and not self.reprint_reason:
            raise DomainError("a reprint needs a reason", code="label.reprint_reason")

    def confirm_scan(self, scanned: str) -> None:
        """The packer scanned the printed label: it must carry this job's tracking number."""
        if scanned != self.tracking:
            raise DomainError(
                f"label scanned shows {scanned}, expected {self.tracking}",
                hint="this is the wrong label; take it off and scan the right one",
                code="label.wrong_label",
                params={"scanned": scanned, "tracking": self.tracking},
            )
        self.state = LabelState.CONFIRMED


def tracking_number(order_id: str, attempt: int = 0) -> str:
    """A deterministic tracking number for ``order_id``: ``TRK`` + 12 digits + a check digit.

    Real carriers hand out numbers through their own systems; the floor uses this format
    when the carrier's number is not known yet, and it is what demo labels carry.
    """
    digits = "".join(ch for ch in order_id if ch.isdigit()) or "0"
    body = f"{int(digits) % 10**9:09d}{attempt % 1000:03d}"
    return f"TRK{body}{gs1_check_digit(body)}"
