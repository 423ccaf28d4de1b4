"""The hub tables a site's files fill, as SQLAlchemy ``Table`` objects (those the hub's
site data already names, and the rest)."""

from __future__ import annotations

from ..site_data import BARCODES, CARTONS, LEDGER, LOCATIONS, SKUS, STOCK, USERS
from ..site_data import ORDERS_TABLE as ORDERS
from ..tables import OrderLineRow, PickFaceRow, SerialRow, table_of

FACES = table_of(PickFaceRow)
SERIALS = table_of(SerialRow)
ORDER_LINES = table_of(OrderLineRow)

__all__ = [
    "BARCODES",
    "CARTONS",
    "FACES",
    "LEDGER",
    "LOCATIONS",
    "ORDERS",
    "ORDER_LINES",
    "SERIALS",
    "SKUS",
    "STOCK",
    "USERS",
]
