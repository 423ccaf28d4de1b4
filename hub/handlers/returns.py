"""Returns: ``return.received`` (a fact checked against its order, :mod:`hub.returns`).

The event names its order by id or by the parcel's tracking number: the batch looks the
tracking numbers up before it locks its orders (:meth:`Returns.find_orders`).
"""

from __future__ import annotations

from collections.abc import Iterable

from floor_app.domain.events import ReturnReceived

from .. import returns
from .batch import Batch, Handlers, Outcome


class Returns(Handlers):
    """Returns received in one batch."""

    def __init__(self, batch: Batch) -> None:
        super().__init__(batch)
        #: tracking number -> order id, for the parcels named by their tracking number
        self.tracked: dict[str, str] = {}

    def find_orders(self, refs: Iterable[str]) -> set[str]:
        """The orders of the parcels ``refs`` names by tracking number."""
        self.tracked = returns.orders_by_tracking(self.batch.conn, refs)
        return set(self.tracked.values())

    def received(self, ev: ReturnReceived) -> Outcome:
        b = self.batch
        rec = b.orders.get(ev.order) or b.orders.get(self.tracked.get(ev.order, ""))
        try:
            note = returns.receive(
                b.conn, b.out, b.stock, rec, ev, device_id=b.device_id, seq=b.seq, now=b.now
            )
        except returns.ReturnRefused as exc:
            return Outcome.rejected(exc.why)
        return Outcome.applied(note)
