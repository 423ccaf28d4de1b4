"""Labels: ``label.printed`` and ``label.confirmed`` (facts), keyed by the label job's id.

A second ``label.printed`` of the same job is recorded in the inbox but never applied again;
a reprint voids the job it replaces. A confirmed label makes the order ``labelled``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select, update

from floor_app.domain.events import LabelConfirmed, LabelPrinted
from floor_app.domain.order import OrderState

from ..bulk import insert_rows
from ..tables import LabelJobRow, table_of
from .batch import Batch, Handlers, Outcome

LABELS = table_of(LabelJobRow)

_LABELS_BY_JOB = select(LABELS.c.job_id, LABELS.c.state, LABELS.c.order_id).where(
    LABELS.c.job_id.in_(bindparam("jobs", expanding=True))
)


class Labels(Handlers):
    """The label jobs one batch names: loaded up front, new and changed ones written in
    :meth:`flush`."""

    def __init__(self, batch: Batch) -> None:
        super().__init__(batch)
        self.jobs: dict[str, dict[str, Any]] = {}
        self.inserts: dict[str, dict[str, Any]] = {}
        self.updates: dict[str, dict[str, Any]] = {}

    def load(self, jobs: Iterable[str]) -> None:
        """Read the stored state of the label jobs ``jobs``."""
        for row in self.batch.conn.execute(_LABELS_BY_JOB, {"jobs": sorted(jobs)}):
            self.jobs[row.job_id] = {"state": row.state, "order_id": row.order_id}

    def printed(self, ev: LabelPrinted) -> Outcome:
        b = self.batch
        if ev.job in self.jobs:
            return Outcome.applied(f"label job {ev.job} is already recorded; not applied again")
        row = {
            "job_id": ev.job,
            "order_id": ev.order,
            "tracking": ev.tracking,
            "carrier": ev.carrier,
            "state": "printed",
            "user": ev.user,
            "device_id": b.device_id,
            "seq": b.seq,
            "reprint_of": ev.reprint_of,
            "reprint_reason": ev.reprint_reason,
            "printed_at": b.now,
            "confirmed_at": None,
        }
        self.jobs[ev.job] = {"state": "printed", "order_id": ev.order}
        self.inserts[ev.job] = row
        if ev.reprint_of and ev.reprint_of in self.jobs:
            self._set_state(ev.reprint_of, "voided")
        rec = b.orders.get(ev.order)
        if rec is None:
            return Outcome.applied(f"order {ev.order} is not known to the hub")
        rec.tracking = ev.tracking
        if rec.order.state is OrderState.CANCELLED:
            return Outcome.applied("order is cancelled: void this label")
        return Outcome.applied()

    def _set_state(self, job: str, state: str, **extra: Any) -> None:
        self.jobs[job]["state"] = state
        if job in self.inserts:
            self.inserts[job].update(state=state, **extra)
        else:
            self.updates.setdefault(job, {}).update(state=state, **extra)

    def confirmed(self, ev: LabelConfirmed) -> Outcome:
        b = self.batch
        note = ""
        if ev.job in self.jobs:
            if self.jobs[ev.job]["state"] != "confirmed":
                self._set_state(ev.job, "confirmed", confirmed_at=b.now)
        else:
            note = f"label job {ev.job} was confirmed before its print was recorded"
            self.jobs[ev.job] = {"state": "confirmed", "order_id": ev.order}
            self.inserts[ev.job] = {
                "job_id": ev.job,
                "order_id": ev.order,
                "tracking": ev.tracking,
                "carrier": "",
                "state": "confirmed",
                "user": ev.user,
                "device_id": b.device_id,
                "seq": b.seq,
                "reprint_of": "",
                "reprint_reason": "",
                "printed_at": b.now,
                "confirmed_at": b.now,
            }
        rec = b.orders.get(ev.order)
        if rec is None:
            return Outcome.applied(note or f"order {ev.order} is not known to the hub")
        rec.tracking = ev.tracking
        if rec.order.state is OrderState.CANCELLED:
            return Outcome.applied("order is cancelled: take the parcel off the outbound flow")
        b.move_order(rec, OrderState.LABELLED, f"label {ev.tracking} scanned back")
        return Outcome.applied(note)

    def flush(self) -> None:
        conn = self.batch.conn
        insert_rows(conn, LABELS, list(self.inserts.values()))
        for job, values in self.updates.items():
            conn.execute(update(LABELS).where(LABELS.c.job_id == job).values(**values))
