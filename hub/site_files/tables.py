"""The hub tables a site's files fill, as SQLAlchemy ``Table`` objects."""

from __future__ import annotations

from ..tables import (
    BarcodeRow,
    CartonRow,
    LocationRow,
    OrderLineRow,
    OrderRow,
    PickFaceRow,
    SerialRow,
    SkuRow,
    StockLedgerRow,
    StockRow,
    UserRow,
    table_of,
)

SKUS = table_of(SkuRow)
BARCODES = table_of(BarcodeRow)
LOCATIONS = table_of(LocationRow)
USERS = table_of(UserRow)
CARTONS = table_of(CartonRow)
FACES = table_of(PickFaceRow)
STOCK = table_of(StockRow)
LEDGER = table_of(StockLedgerRow)
SERIALS = table_of(SerialRow)
ORDERS = table_of(OrderRow)
ORDER_LINES = table_of(OrderLineRow)
