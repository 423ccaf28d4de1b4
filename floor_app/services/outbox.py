"""What this device recorded and has not yet delivered to the hub: the header's figures."""

from __future__ import annotations

from dataclasses import dataclass

from floor_app.store import Store

from .errors import reports_store_failures


@dataclass(frozen=True, slots=True)
class Backlog:
    """Events waiting in the outbox: how many, and when the oldest was recorded."""

    depth: int
    oldest_at: float | None


@reports_store_failures
class OutboxService:
    """Reads the outbox's backlog (the sync agent delivers it)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def backlog(self) -> Backlog:
        """The unsent events now."""
        depth, oldest, _ = self.store.outbox_stats()
        return Backlog(depth, oldest)
