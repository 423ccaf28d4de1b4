"""Replenishment rules: when a pick face needs stock, how much, and from which reserve.

A pick face has a minimum and a maximum (:class:`PickFace`). It needs a refill when its
*available* units (on hand minus reserved) fall below the minimum: reserved units are
already promised to orders, so a face whose stock is all promised is as good as empty
for the next order. The refill brings the face's *on-hand* up to the maximum (the most
the face physically holds), less what open refills already bring.

The source (:func:`choose_source`) is a reserve location holding free units of the SKU:

* **expired lots are skipped** (an expiry date before today; the expiry day itself is
  still good);
* **lots are not mixed**: a face holding units of a lot takes only that lot (a face
  holding units with no lot recorded takes only stock with no lot recorded); an empty
  face takes any lot;
* among the rest, **earliest expiry first** (FEFO; no expiry date sorts last), then
  **oldest received first** (FIFO; no receipt time sorts last), then location code.

When no source fits, no task is made; the face is looked at again on its next change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import DomainError


@dataclass(frozen=True, slots=True)
class PickFace:
    """A pick face of a SKU and its replenishment levels."""

    location: str
    sku: str
    min_qty: int
    max_qty: int

    def __post_init__(self) -> None:
        if not self.location or not self.sku:
            raise DomainError("a pick face needs a location and a SKU")
        if self.min_qty < 0:
            raise DomainError(
                f"pick face {self.location} {self.sku}: min {self.min_qty} is below zero",
                hint="use 0 or more",
            )
        if self.max_qty <= self.min_qty:
            raise DomainError(
                f"pick face {self.location} {self.sku}: max {self.max_qty} must be more than "
                f"min {self.min_qty}",
                hint="the face is refilled up to max when it falls below min",
            )

    def needs_refill(self, on_hand: int, reserved: int) -> bool:
        """True when the units not yet promised are below the minimum."""
        return on_hand - reserved < self.min_qty

    def refill_qty(self, on_hand: int, incoming: int = 0) -> int:
        """Units that bring on-hand (plus ``incoming`` from open refills) up to the maximum."""
        return max(0, self.max_qty - max(0, on_hand) - incoming)


@dataclass(frozen=True, slots=True)
class StockLot:
    """Units of a SKU at one location, with their lot."""

    location: str
    sku: str
    on_hand: int
    reserved: int = 0
    lot: str = ""
    expiry: str = ""  # ISO date (YYYY-MM-DD) or ""
    received_at: float | None = None

    @property
    def free(self) -> int:
        """Units not promised to an order."""
        return max(0, self.on_hand - self.reserved)

    def expired(self, today: str) -> bool:
        """True when the lot's expiry date is before ``today`` (ISO date)."""
        return bool(self.expiry) and self.expiry < today


@dataclass(frozen=True, slots=True)
class Source:
    """Where a refill comes from and how many units."""

    stock: StockLot
    qty: int


def _order(s: StockLot) -> tuple[int, str, int, float, str]:
    return (
        0 if s.expiry else 1,
        s.expiry,
        0 if s.received_at is not None else 1,
        s.received_at or 0.0,
        s.location,
    )


def eligible(candidates: Iterable[StockLot], *, face_lot: str | None, today: str) -> list[StockLot]:
    """The reserve stock a refill may take, best first (see the module docstring).

    ``face_lot`` is the lot the face holds now, or None when the face is empty.
    """
    out = [
        s
        for s in candidates
        if s.free > 0 and not s.expired(today) and (face_lot is None or s.lot == face_lot)
    ]
    return sorted(out, key=_order)


def choose_source(
    face: PickFace,
    face_stock: StockLot,
    candidates: Iterable[StockLot],
    *,
    today: str,
    incoming: int = 0,
) -> Source | None:
    """The reserve stock to refill ``face`` from, or None when it needs none or none fits.

    ``face_stock`` is what the face holds now; ``candidates`` the SKU's stock elsewhere
    (the face itself and locations that are not reserve must be left out by the caller);
    ``incoming`` the units open refills of this face still bring.
    """
    if not face.needs_refill(face_stock.on_hand, face_stock.reserved):
        return None
    want = face.refill_qty(face_stock.on_hand, incoming)
    if want <= 0:
        return None
    face_lot = face_stock.lot if face_stock.on_hand > 0 else None
    for s in eligible(candidates, face_lot=face_lot, today=today):
        return Source(s, min(want, s.free))
    return None
