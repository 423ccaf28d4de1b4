"""Counting use cases on the device: open a count task, record what was counted, finish a
location.

Counts are blind: the task carries no expected quantity. Each counted SKU is one
:class:`floor_app.domain.events.StockCounted` recorded in the same unit of work as the
task's local change, so a count made offline reaches the hub exactly once. A count of a
whole location ends with :meth:`CountingService.finish_location`: one ``stock.counted``
with ``sku=""`` and ``counted=0`` that tells the hub every SKU not counted in the task was
not found. A recount (attempt 2) refuses the user who counted first (``not_user``).
"""

from __future__ import annotations

import json

from sqlalchemy import select

from floor_app.domain.errors import DomainError, QuantityError
from floor_app.domain.events import StockCounted
from floor_app.domain.stockwork import StockTask, StockTaskKind, StockTaskState
from floor_app.store import Store, UnitOfWork
from floor_app.store.outbox import OutboxRecord
from floor_app.store.tables import OutboxRow

from .errors import reports_store_failures


@reports_store_failures
class CountingService:
    """The counter's use cases."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def open_counts(self) -> list[StockTask]:
        """Count tasks on this device that are not done (urgent first)."""
        with self.store.unit_of_work() as uow:
            return uow.stock_tasks.open(StockTaskKind.COUNT)

    def task(self, task_id: str) -> StockTask:
        """Load a count task (read only)."""
        with self.store.unit_of_work() as uow:
            return _count_task(uow, task_id)

    def start(self, task_id: str, user: str) -> StockTask:
        """Start (or resume) counting ``task_id`` as ``user``; a recount refuses its first
        counter."""
        with self.store.unit_of_work() as uow:
            task = _open(uow, task_id, user)
            if task.state is StockTaskState.ASSIGNED:
                task.move_to(StockTaskState.IN_PROGRESS)
            task.assigned_to = user
            uow.stock_tasks.save(task)
            uow.commit()
        return task

    def counted_skus(self, task_id: str) -> dict[str, int]:
        """SKUs already counted in this task on this device, with what was counted."""
        out: dict[str, int] = {}
        with self.store.read() as session:
            rows = session.execute(
                select(OutboxRow.payload)
                .where(OutboxRow.type == StockCounted.TYPE)
                .order_by(OutboxRow.seq)
            )
            for (payload,) in rows:
                data = json.loads(payload)
                if data.get("task") == task_id and data.get("sku"):
                    out[str(data["sku"])] = int(data["counted"])
        return out

    def record(self, task_id: str, sku: str, counted: int, user: str) -> OutboxRecord:
        """Record ``counted`` units of ``sku`` at the task's location (one event). A count of
        one SKU is then done; a count of a location goes on until :meth:`finish_location`."""
        if counted < 0:
            raise QuantityError(
                f"a count cannot be negative ({counted})",
                hint="type the units you found, 0 or more",
                code="count.negative_typed",
                params={"counted": counted},
            )
        if not sku:
            raise DomainError(
                "no item was scanned", hint="scan the item you counted", code="count.no_item"
            )
        with self.store.unit_of_work() as uow:
            task = _open(uow, task_id, user)
            if task.sku and sku != task.sku:
                raise DomainError(
                    f"this count is for {task.sku}, not {sku}",
                    code="count.other_sku",
                    params={"sku": task.sku, "scanned": sku},
                )
            event = uow.emit(
                StockCounted(task_id, task.from_location, sku, counted, user, task.attempt)
            )
            if task.sku:
                task.finish(user)
            uow.stock_tasks.save(task)
            uow.commit()
        return event

    def finish_location(self, task_id: str, user: str) -> OutboxRecord:
        """The user confirms the whole location is counted: whatever was not counted in the
        task is not there (one event, ``sku=""``)."""
        with self.store.unit_of_work() as uow:
            task = _open(uow, task_id, user)
            if task.sku:
                raise DomainError(
                    f"this count is only of {task.sku}: count it and confirm",
                    code="count.only_sku",
                    params={"sku": task.sku},
                )
            event = uow.emit(StockCounted(task_id, task.from_location, "", 0, user, task.attempt))
            task.finish(user)
            uow.stock_tasks.save(task)
            uow.commit()
        return event


def _count_task(uow: UnitOfWork, task_id: str) -> StockTask:
    task = uow.stock_tasks.get(task_id)
    if task.kind is not StockTaskKind.COUNT:
        raise DomainError(
            f"{task_id} is a {task.kind.value} task, not a count",
            code="count.not_count",
            params={"task": task_id},
        )
    return task


def _open(uow: UnitOfWork, task_id: str, user: str) -> StockTask:
    task = _count_task(uow, task_id)
    if task.state is StockTaskState.CANCELLED:
        raise DomainError(
            f"count {task_id} was cancelled",
            hint=task.reason or "take another task",
            code="count.cancelled",
            params={"task": task_id},
        )
    if task.state is StockTaskState.DONE:
        raise DomainError(
            f"count {task_id} is already done", code="count.done", params={"task": task_id}
        )
    if task.not_user and user == task.not_user:
        raise DomainError(
            f"you counted {task.from_location} first: this recount must be done by someone else",
            hint="leave it for another picker",
            code="count.recount_other",
            params={"location": task.from_location},
        )
    return task
