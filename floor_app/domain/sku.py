"""Stock-keeping units: what an item is, how big, how heavy, and which barcodes it carries."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import DomainError
from .gtin import normalise_gtin


@dataclass(frozen=True, slots=True)
class Dimensions:
    """Outer dimensions in millimetres (length >= width >= height is not required)."""

    length_mm: int
    width_mm: int
    height_mm: int

    def __post_init__(self) -> None:
        for name in ("length_mm", "width_mm", "height_mm"):
            if getattr(self, name) <= 0:
                raise DomainError(f"dimension {name} must be positive, got {getattr(self, name)}")

    @property
    def volume_mm3(self) -> int:
        """Volume in cubic millimetres."""
        return self.length_mm * self.width_mm * self.height_mm

    def sorted(self) -> tuple[int, int, int]:
        """Dimensions from largest to smallest (for fit checks with rotation)."""
        a, b, c = sorted((self.length_mm, self.width_mm, self.height_mm), reverse=True)
        return a, b, c


@dataclass(frozen=True, slots=True)
class Sku:
    """An item the warehouse stocks. ``gtin`` is stored as GTIN-14."""

    sku: str
    gtin: str
    description: str
    dimensions: Dimensions | None
    weight_g: int
    description_zh: str = ""
    extra_gtins: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.sku:
            raise DomainError("SKU code must not be empty")
        object.__setattr__(self, "gtin", normalise_gtin(self.gtin))
        object.__setattr__(self, "extra_gtins", tuple(normalise_gtin(g) for g in self.extra_gtins))
        if self.weight_g < 0:
            raise DomainError(f"SKU {self.sku}: weight must not be negative, got {self.weight_g}")

    def matches(self, gtin14: str) -> bool:
        """True when ``gtin14`` (GTIN-14 form) is one of this item's barcodes."""
        return gtin14 == self.gtin or gtin14 in self.extra_gtins

    def label(self, language: str = "en") -> str:
        """The description in ``language`` ("en" or "zh"), falling back to English."""
        if language == "zh" and self.description_zh:
            return self.description_zh
        return self.description
