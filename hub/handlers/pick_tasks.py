"""Pick tasks: ``task.started`` and ``task.reassigned`` (claims), ``task.completed`` (a fact).

A start is refused (:func:`hub.rules.task_claim_refusal`) for an unknown or finished task,
one leased to another device whose lease has not run out, or a stale version; granted, the
lease moves to the device and the previous holder is told. A reassignment goes to the
device where the new picker is logged in. A completed task releases its lease; units of its
lines neither picked nor reported short are reserved again on no task (the next allocation
pass batches them), and what cannot be reserved any more is short.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from floor_app.domain.errors import Reason
from floor_app.domain.events import TaskCompleted, TaskReassigned, TaskStarted
from floor_app.domain.order import TERMINAL, OrderLine, OrderState
from floor_app.domain.picking import TaskState
from sync.protocol import TaskCancelled

from ..leases import lease, push_task
from ..repositories import PICK_LINES, OrderRecord, TaskRecord
from ..rules import task_claim_refusal
from ..stock import RESERVATIONS, reserve_line
from ..tables import UserSessionRow, table_of
from .batch import Handlers, Outcome

SESSIONS = table_of(UserSessionRow)


def orders_of(conn: Connection, task_ids: Iterable[str]) -> set[str]:
    """The orders of the tasks' lines (completing a task may release their units)."""
    return set(
        conn.execute(
            select(PICK_LINES.c.order_id)
            .where(PICK_LINES.c.task_id.in_(sorted(task_ids)))
            .distinct()
        ).scalars()
    )


class PickTasks(Handlers):
    """Starts, reassignments and completions of pick tasks."""

    def started(self, ev: TaskStarted) -> Outcome:
        b = self.batch
        task = b.tasks.get(ev.task)
        refusal = task_claim_refusal(
            task_id=ev.task,
            known=task is not None,
            state=task.task.state if task else None,
            hub_version=task.task.version if task else 0,
            claim_version=ev.task_version,
            lease_device=task.lease_device if task else None,
            lease_expires_at=task.lease_expires_at if task else None,
            device_id=b.device_id,
            now=b.now,
        )
        if refusal is not None or task is None:
            return Outcome.refused(
                refusal or f"task {ev.task} is not known to the hub",
                task_id=ev.task,
                current_version=task.task.version if task else None,
                code="hub.unknown_task",
                params={"task": ev.task},
            )
        previous = task.lease_device
        lease(task, b.device_id, b.now, b.settings.lease_s)
        task.task.advance(TaskState.IN_PROGRESS)
        task.task.assigned_to = ev.user
        if previous and previous != b.device_id:
            self._taken_from(
                previous,
                task,
                Reason(
                    f"device {b.device_id} took the task over (your lease ran out)",
                    "task.taken_over",
                    {"device": b.device_id},
                ),
            )
        return Outcome.applied()

    def _taken_from(self, device: str, task: TaskRecord, reason: Reason) -> None:
        """Tell ``device``, which held the task, that it is not its task any more."""
        self.batch.out.push(
            device,
            TaskCancelled(
                task_id=task.task_id,
                reason=reason.text,
                task_version=task.task.version,
                code=reason.code,
                params=dict(reason.params),
            ),
        )

    def reassigned(self, ev: TaskReassigned) -> Outcome:
        b = self.batch
        task = b.tasks.get(ev.task)
        if task is None:
            return Outcome.refused(
                f"task {ev.task} is not known to the hub",
                task_id=ev.task,
                code="hub.unknown_task",
                params={"task": ev.task},
            )
        if task.task.state in (TaskState.DONE, TaskState.CANCELLED):
            return Outcome.refused(
                f"task {ev.task} is {task.task.state.value}; it cannot be reassigned",
                task_id=ev.task,
                current_version=task.task.version,
                code="hub.cannot_reassign",
                params={"task": ev.task, "task_state": task.task.state.value},
            )
        if ev.task_version < task.task.version:
            return Outcome.refused(
                f"task {ev.task} changed since it was seen (version {ev.task_version}, "
                f"the hub has {task.task.version})",
                task_id=ev.task,
                current_version=task.task.version,
                code="hub.task_changed",
                params={
                    "task": ev.task,
                    "version": ev.task_version,
                    "hub_version": task.task.version,
                },
            )
        target = b.conn.execute(
            select(SESSIONS.c.device_id).where(SESSIONS.c.user_id == ev.to_user).limit(1)
        ).scalar()
        previous = task.lease_device
        if task.task.state is TaskState.IN_PROGRESS:
            task.task.move_to(TaskState.ASSIGNED)
        else:
            task.bump()
        task.task.assigned_to = ev.to_user
        if previous and previous != target:
            self._taken_from(
                previous,
                task,
                Reason(
                    f"reassigned to {ev.to_user} by {ev.user}",
                    "task.reassigned",
                    {"to_user": ev.to_user, "user": ev.user},
                ),
            )
        if target:
            lease(task, str(target), b.now, b.settings.lease_s)
            push_task(b.out, b.conn, task, str(target))
        else:
            task.lease_device, task.lease_expires_at = None, None
        return Outcome.applied("" if target else f"{ev.to_user} is not logged in on any device")

    def completed(self, ev: TaskCompleted) -> Outcome:
        task = self.batch.tasks.get(ev.task)
        if task is None:
            return Outcome.applied(f"task {ev.task} is not known to the hub")
        if task.task.state is TaskState.CANCELLED:
            return Outcome.applied("task was cancelled; the picked units go back to stock")
        if task.task.state is TaskState.DONE:
            return Outcome.applied(f"task {ev.task} is already done")
        task.task.advance(TaskState.DONE)
        task.lease_expires_at = None
        return Outcome.applied(self._release_unpicked(task))

    def _release_unpicked(self, task: TaskRecord) -> str:
        """Units of a finished task's lines neither picked nor reported short: their
        reservation leaves the task, and they are reserved again for allocation to batch
        into a new task; what cannot be reserved any more is short, as with a shortage."""
        b = self.batch
        rows = {
            (r.order_id, r.line_no, r.location): int(r.qty)
            for r in b.conn.execute(
                select(RESERVATIONS).where(RESERVATIONS.c.task_id == task.task_id)
            )
        }
        released: list[tuple[OrderRecord, OrderLine, int]] = []
        for ln in task.task.lines:
            left = ln.qty - ln.picked - ln.short
            rec = b.orders.get(ln.order_id)
            oline = (
                next((o for o in rec.order.lines if o.line_no == ln.order_line_no), None)
                if rec
                else None
            )
            if left <= 0 or rec is None or oline is None:
                continue
            key = (rec.order_id, oline.line_no, ln.location)
            held = min(left, rows.get(key, 0), rec.reserved.get(oline.line_no, 0))
            if held > 0:
                rows[key] -= held
                rec.reserved[oline.line_no] -= held
                b.stock.reserve(ln.location, ln.sku, -held)
                b.stock.consume(rec.order_id, oline.line_no, ln.location, held)
            need = min(left, oline.open_to_pick - rec.reserved.get(oline.line_no, 0))
            if need > 0 and rec.order.state not in TERMINAL:
                released.append((rec, oline, need))
        if not released:
            return ""
        b.stock.flush(b.conn)  # the released units are free before they are taken again
        notes = []
        for rec, oline, units in released:
            moved = self._reserve_again(rec, oline, units)
            left = units - moved
            if left:
                oline.short += left
                reason = f"{left} x {oline.sku} not picked and no stock free"
                b.move_order(rec, OrderState.PICKING, reason)
                if rec.order.state is OrderState.PICKING:
                    rec.order.transition(OrderState.SHORT, reason)
                b.status_reason[rec.order_id] = f"{reason}: waiting for a supervisor"
            notes.append(
                f"{rec.order_id} line {oline.line_no}: {moved} back to allocation"
                + (f", {left} short" if left else "")
            )
        return "unpicked units: " + "; ".join(notes)

    def _reserve_again(self, rec: OrderRecord, oline: OrderLine, units: int) -> int:
        """Reserve ``units`` of an order line again, not yet on a task; how many were."""
        b = self.batch
        busy = b.conn.execute(
            select(RESERVATIONS.c.location)
            .where(RESERVATIONS.c.order_id == rec.order_id)
            .where(RESERVATIONS.c.line_no == oline.line_no)
            .where(RESERVATIONS.c.task_id.is_not(None))
            .where(RESERVATIONS.c.qty > 0)
        ).scalars()
        taken = reserve_line(b.conn, b.stock, rec, oline, units, exclude=list(busy), now=b.now)
        return sum(t.qty for t in taken)
