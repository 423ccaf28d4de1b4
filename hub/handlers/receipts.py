"""Receiving: ``receipt.counted``, ``receipt.variance`` and ``receipt.closed``
(:mod:`hub.receiving.receipts`), applied in the batch's transaction."""

from __future__ import annotations

from floor_app.domain.events import ReceiptClosed, ReceiptCounted, ReceiptVarianceExplained

from ..receiving import receipts
from .batch import Handlers, Outcome


class Receipts(Handlers):
    """Deliveries counted and closed in one batch."""

    def counted(self, ev: ReceiptCounted) -> Outcome:
        b = self.batch
        return Outcome.applied(
            receipts.count(b.conn, b.out, b.stock, ev, device_id=b.device_id, seq=b.seq, now=b.now)
        )

    def explained(self, ev: ReceiptVarianceExplained) -> Outcome:
        return Outcome.applied(receipts.explain(self.batch.conn, ev))

    def closed(self, ev: ReceiptClosed) -> Outcome:
        b = self.batch
        _stored, note = receipts.close(b.conn, b.out, ev, rule=b.settings.putaway, now=b.now)
        return Outcome.applied(note)
