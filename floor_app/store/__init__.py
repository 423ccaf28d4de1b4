"""The device's local store: SQLite (WAL, synchronous=FULL, BEGIN IMMEDIATE), Alembic
migrations applied on open, and a unit of work that commits a state change together with
its outbox event."""

from .errors import (
    ConcurrencyError,
    StoreBusy,
    StoreError,
    StoreFull,
    StoreTooNew,
    StoreUnavailable,
)
from .outbox import OutboxRecord
from .store import Store
from .unit_of_work import UnitOfWork

__all__ = [
    "ConcurrencyError",
    "OutboxRecord",
    "Store",
    "StoreBusy",
    "StoreError",
    "StoreFull",
    "StoreTooNew",
    "StoreUnavailable",
    "UnitOfWork",
]
