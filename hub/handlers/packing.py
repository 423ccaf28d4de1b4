"""Packing: ``pack.completed`` (a fact): a pack record, the lines' packed counts, and the
order ``packed``. A cancelled order's parcel is given put-away work instead
(:func:`hub.compensation.parcel_packed`).
"""

from __future__ import annotations

from typing import Any

from floor_app.domain.events import PackCompleted
from floor_app.domain.order import OrderState

from ..bulk import insert_rows
from ..compensation import parcel_packed
from ..tables import PackRecordRow, table_of
from .batch import Batch, Handlers, Outcome

PACKS = table_of(PackRecordRow)

#: Where a cancelled order's packed units go when the hub does not know where they were
#: picked from.
RETURNS_LOCATION = "RET-01"


class Packing(Handlers):
    """Parcels packed in one batch; the pack records are written in :meth:`flush`."""

    def __init__(self, batch: Batch) -> None:
        super().__init__(batch)
        self.packs: list[dict[str, Any]] = []

    def completed(self, ev: PackCompleted) -> Outcome:
        b = self.batch
        self.packs.append(
            {
                "order_id": ev.order,
                "station": ev.station,
                "carton": ev.carton,
                "weight_g": ev.weight_g,
                "user": ev.user,
                "weight_override_by": ev.weight_override_by,
                "device_id": b.device_id,
                "seq": b.seq,
                "at": b.now,
            }
        )
        rec = b.orders.get(ev.order)
        if rec is None:
            return Outcome.applied(f"order {ev.order} is not known to the hub")
        for ln in rec.order.lines:
            ln.packed = max(ln.packed, ln.picked)
        if rec.order.state is OrderState.CANCELLED:
            changed, new = parcel_packed(
                b.conn, b.out, b.put_aways(), rec, ev.station, RETURNS_LOCATION
            )
            for task in changed:
                b.stock_tasks.setdefault(task.task_id, task)
            b.new_stock_tasks.extend(new)
            return Outcome.applied("order is cancelled: unpack and return the units to stock")
        b.move_order(rec, OrderState.PACKED, f"packed at {ev.station} by {ev.user}")
        return Outcome.applied()

    def flush(self) -> None:
        insert_rows(self.batch.conn, PACKS, self.packs)
