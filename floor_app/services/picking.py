"""Picking use cases: start a task, confirm picks, undo, report shorts, skip, complete.

Each call is one unit of work: the task, the order's local copy and the outbox event are
committed together, or nothing is.
"""

from __future__ import annotations

from dataclasses import dataclass

from floor_app.domain.errors import DomainError
from floor_app.domain.events import (
    PickConfirmed,
    PickUndone,
    ShortReported,
    TaskCompleted,
    TaskStarted,
)
from floor_app.domain.order import OrderState
from floor_app.domain.picking import PickLine, PickTask, Shortage, ShortReason, TaskState
from floor_app.store import Store, UnitOfWork
from floor_app.store.outbox import OutboxRecord

from .pick_writes import PickWrites, StaleTask


@dataclass(frozen=True, slots=True)
class PickResult:
    """What a confirmed action left behind: the task as it is now and the event recorded."""

    task: PickTask
    event: OutboxRecord


class PickingService:
    """The picker's use cases."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def task(self, task_id: str) -> PickTask:
        """Load a task (read only)."""
        with self.store.unit_of_work() as uow:
            return uow.tasks.get(task_id)

    def open_tasks(self, user: str | None = None) -> list[PickTask]:
        """Tasks assigned to this device (or ``user``) that are not done, in id order."""
        with self.store.unit_of_work() as uow:
            ids = uow.tasks.ids(TaskState.ASSIGNED, TaskState.IN_PROGRESS)
            tasks = [uow.tasks.get(i) for i in ids]
        return [t for t in tasks if user is None or t.assigned_to in (None, user)]

    def start(self, task_id: str, user: str) -> PickResult:
        """Start (or resume) a task as ``user``."""
        with self.store.unit_of_work() as uow:
            task = uow.tasks.get(task_id)
            if task.state is TaskState.CANCELLED:
                raise DomainError(f"task {task_id} was cancelled", hint="pick another task")
            if task.state is TaskState.DONE:
                raise DomainError(f"task {task_id} is already done")
            if task.state is TaskState.ASSIGNED:
                task.move_to(TaskState.IN_PROGRESS)
            task.assigned_to = user
            uow.tasks.save(task)
            event = uow.emit(TaskStarted(task=task_id, user=user, task_version=task.version))
            uow.commit()
        return PickResult(task, event)

    def confirm(
        self, task_id: str, line_id: str, qty: int, user: str, *, task: PickTask | None = None
    ) -> PickResult:
        """Confirm ``qty`` units of a line picked into its tote.

        ``task`` is the caller's copy of the task (a screen keeps it between scans): the
        hot path then reads only the task's state and writes with targeted, guarded
        UPDATEs (see :mod:`floor_app.services.pick_writes`). A stale copy is reloaded
        once. The state change and its outbox event commit together, or nothing does.
        """
        return self._count(task_id, line_id, qty, user, task, undo=False)

    def undo(
        self, task_id: str, line_id: str, qty: int, user: str, *, task: PickTask | None = None
    ) -> PickResult:
        """Take back units confirmed earlier (they go back on the shelf)."""
        return self._count(task_id, line_id, qty, user, task, undo=True)

    def _count(
        self,
        task_id: str,
        line_id: str,
        qty: int,
        user: str,
        cached: PickTask | None,
        *,
        undo: bool,
    ) -> PickResult:
        for attempt in (1, 2):
            with self.store.unit_of_work() as uow:
                writes = PickWrites(uow.session)
                if cached is None or attempt == 2:
                    task = self._active(uow, task_id)
                else:
                    task = cached
                    if writes.task_state(task_id) != TaskState.IN_PROGRESS.value:
                        task = self._active(uow, task_id)  # raises with the reason
                line = task.line(line_id)
                before = (line.picked, line.short)
                (line.undo if undo else line.confirm)(qty)
                delta = -qty if undo else qty
                try:
                    writes.count_line(task_id, line_id, before, line.picked)
                    writes.order_picked(line.order_id, line.order_line_no, delta)
                    writes.adjust_stock(line.location, line.sku, -delta)
                    event = uow.emit(_count_event(task_id, line, qty, user, undo=undo))
                    uow.commit()
                except StaleTask:
                    line.picked, line.short = before
                    continue  # the caller's copy was stale: reload and try once more
                except BaseException:
                    line.picked, line.short = before
                    raise
            return PickResult(task, event)
        raise DomainError(  # pragma: no cover - a freshly loaded task is not stale
            f"task {task_id} keeps changing under this device", hint="open it again"
        )

    def report_short(
        self, task_id: str, line_id: str, qty: int, reason: ShortReason, user: str
    ) -> PickResult:
        """Report ``qty`` units of a line as not pickable, with a reason."""
        with self.store.unit_of_work() as uow:
            task = self._active(uow, task_id)
            line = task.line(line_id)
            line.report_short(qty, reason)
            uow.tasks.save_line(task_id, line)
            uow.tasks.add_shortage(
                Shortage(
                    line.order_id, line.sku, line.location, qty, reason, user, task_id, line_id
                )
            )
            order = uow.orders.get(line.order_id)
            order.line(line.order_line_no).short += qty
            if order.state is OrderState.ALLOCATED:
                order.transition(OrderState.PICKING)
            if order.state is OrderState.PICKING:
                order.transition(OrderState.SHORT, f"{qty} x {line.sku} {reason}")
            uow.orders.save(order)
            event = uow.emit(
                ShortReported(
                    task=task_id,
                    line=line_id,
                    order=line.order_id,
                    sku=line.sku,
                    location=line.location,
                    qty=qty,
                    reason=reason.value,
                    user=user,
                )
            )
            uow.commit()
        return PickResult(task, event)

    def skip(self, task_id: str, line_id: str) -> PickTask:
        """Move a line to the end of the route (no event: it changes nothing physical)."""
        with self.store.unit_of_work() as uow:
            task = self._active(uow, task_id)
            task.skip(line_id)
            uow.tasks.save(task)
            uow.commit()
        return task

    def complete(self, task_id: str, user: str) -> PickResult:
        """Close a task whose lines are all picked or short."""
        with self.store.unit_of_work() as uow:
            task = self._active(uow, task_id)
            if not task.is_complete:
                done, total = task.progress
                raise DomainError(
                    f"task {task_id} has {total - done} open lines", hint="pick or short them"
                )
            task.move_to(TaskState.DONE)
            uow.tasks.save(task)
            event = uow.emit(TaskCompleted(task=task_id, user=user))
            uow.commit()
        return PickResult(task, event)

    @staticmethod
    def _active(uow: UnitOfWork, task_id: str) -> PickTask:
        task = uow.tasks.get(task_id)
        if task.state is TaskState.CANCELLED:
            raise DomainError(
                f"task {task_id} was cancelled by the hub",
                hint="take the picked goods to the returns area",
            )
        if task.state is not TaskState.IN_PROGRESS:
            raise DomainError(
                f"task {task_id} is {task.state}, not in progress", hint="start it first"
            )
        return task

    @staticmethod
    def _order_picked(uow: UnitOfWork, order_id: str, line_no: int, qty: int) -> None:
        if not uow.orders.exists(order_id):
            return
        order = uow.orders.get(order_id)
        order.line(line_no).picked += qty
        if order.state is OrderState.ALLOCATED:
            order.transition(OrderState.PICKING)
        if order.state is OrderState.PICKING and order.is_fully_picked:
            order.transition(OrderState.PICKED)
        uow.orders.save(order)


def _count_event(
    task_id: str, line: PickLine, qty: int, user: str, *, undo: bool
) -> PickConfirmed | PickUndone:
    if undo:
        return PickUndone(
            task=task_id,
            line=line.line_id,
            order=line.order_id,
            sku=line.sku,
            location=line.location,
            qty=qty,
            user=user,
        )
    return PickConfirmed(
        task=task_id,
        line=line.line_id,
        order=line.order_id,
        sku=line.sku,
        location=line.location,
        qty=qty,
        tote_position=line.tote_position,
        user=user,
    )
