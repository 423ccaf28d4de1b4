"""Looking items up in this device's catalogue: by SKU, or by any of their barcodes."""

from __future__ import annotations

from floor_app.domain.sku import Sku
from floor_app.store import Store
from floor_app.store.repositories import CatalogueRepository

from .errors import reports_store_failures


@reports_store_failures
class CatalogueService:
    """The items this device knows (read only)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def sku(self, code: str) -> Sku:
        """The item ``code``; :class:`~floor_app.domain.errors.NotFound` when unknown."""
        with self.store.unit_of_work() as uow:
            return uow.catalogue.sku(code)

    def pack_qty(self, gtin14: str) -> int:
        """The units the barcode ``gtin14`` stands for: 1 for the unit, more for an inner
        pack or a case (1 for a code the device does not know)."""
        with self.store.read() as session:
            return CatalogueRepository(session).pack_qty(gtin14)

    def sku_by_gtin(self, gtin14: str) -> Sku:
        """The item with barcode ``gtin14`` (GTIN-14); :class:`NotFound` when none has it."""
        with self.store.unit_of_work() as uow:
            return uow.catalogue.sku_by_gtin(gtin14)
