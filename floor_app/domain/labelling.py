"""What a parcel's shipping label says beyond its label job and its order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .errors import DomainError
from .order import Address


@dataclass(frozen=True, slots=True)
class ParcelFacts:
    """Who sends the parcel and where it goes back to (``return_to`` None: the sender), what
    it weighs, the day it ships and which piece of the shipment it is (``piece`` of
    ``pieces``)."""

    sender: Address
    weight_g: int
    ship_date: date
    return_to: Address | None = None
    piece: int = 1
    pieces: int = 1

    def __post_init__(self) -> None:
        if self.weight_g <= 0:
            raise DomainError(f"a parcel's weight must be positive, got {self.weight_g} g")
        if not 1 <= self.piece <= self.pieces:
            raise DomainError(f"piece {self.piece} of {self.pieces} does not exist")

    @property
    def returns_to(self) -> Address:
        """Where the parcel goes back to."""
        return self.return_to or self.sender
