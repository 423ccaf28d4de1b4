"""Cancelling an order (from upstream or an operator) while the floor may be working on it.

The order becomes ``cancelled``; its reserved units are released; units already picked
get a put-away stock task from their tote (or parcel) back to where they were picked
(:mod:`hub.compensation`); a pick task holding only this order is cancelled, and every
device that holds the task or will pack the order is told (``task.cancelled``,
``order.cancelled`` pushes). Facts that still arrive for the order afterwards are recorded
and create more compensating work (:mod:`hub.handlers`).
"""

from __future__ import annotations

import time

from sqlalchemy import Connection, select

from floor_app.domain.order import TERMINAL, OrderState
from floor_app.domain.picking import TaskState
from sync.protocol import OrderCancelled, OrderStatus, TaskCancelled

from . import stock_tasks
from .compensation import CANCELLED, PutAways, packed_at
from .errors import HubError, NotFound
from .outbound import Outbound
from .repositories import PICK_LINES, load_orders, load_tasks, save_orders, save_tasks
from .stock import StockChanges, release_order
from .tables import DeviceRow, table_of

DEVICES = table_of(DeviceRow)


def cancel_order(
    conn: Connection, out: Outbound, order_id: str, reason: str, *, now: float | None = None
) -> dict[str, object]:
    """Cancel ``order_id`` in the caller's transaction; a summary of what was done."""
    now = time.time() if now is None else now
    if not reason.strip():
        raise HubError("a cancellation needs a reason")
    rec = load_orders(conn, [order_id], lock=True).get(order_id)
    if rec is None:
        raise NotFound(f"order {order_id} is not known to the hub")
    if rec.order.state in TERMINAL:
        raise HubError(f"order {order_id} is already {rec.order.state.value}")
    task_ids = sorted(
        set(
            conn.execute(
                select(PICK_LINES.c.task_id).where(PICK_LINES.c.order_id == order_id)
            ).scalars()
        )
    )
    tasks = load_tasks(conn, task_ids, lock=True)
    changes = StockChanges()
    released = release_order(conn, rec, changes)
    changes.flush(conn)
    station = (
        packed_at(conn, rec) if rec.order.state in (OrderState.PACKED, OrderState.LABELLED) else ""
    )
    put = PutAways(conn)
    putaways = []
    for task in tasks.values():
        for line in task.task.lines:
            if line.order_id == order_id and line.picked > 0:
                where = (
                    f"parcel at {station}"
                    if station
                    else f"tote {line.tote_position} of task {task.task_id}"
                )
                made = put.add(
                    order_id,
                    line.sku,
                    line.picked,
                    where,
                    line.location,
                    origin=CANCELLED,
                    reason="order cancelled",
                )
                if made is not None:
                    putaways.append(made)
    stock_tasks.save(conn, putaways, now=now)
    rec.change_source = "cancellation"
    rec.order.cancel(reason)
    rec.external_version = rec.order.version
    notify: set[str] = set()
    cancelled_tasks = []
    for task in tasks.values():
        if task.task.state in (TaskState.DONE, TaskState.CANCELLED):
            continue
        if task.lease_device:
            notify.add(task.lease_device)
        if all(ln.order_id == order_id for ln in task.task.lines):
            task.task.move_to(TaskState.CANCELLED)
            cancelled_tasks.append(task.task_id)
            if task.lease_device:
                out.push(
                    task.lease_device,
                    TaskCancelled(
                        task_id=task.task_id,
                        reason=f"order {order_id} was cancelled: {reason}",
                        task_version=task.task.version,
                        code="task.order_cancelled",
                        params={"order": order_id, "why": reason[:200]},
                    ),
                )
            task.lease_device, task.lease_expires_at = None, None
    if rec.pack_station:
        notify.update(
            conn.execute(
                select(DEVICES.c.device_id).where(DEVICES.c.station == rec.pack_station)
            ).scalars()
        )
    for device in sorted(notify):
        out.push(
            device,
            OrderCancelled(order_id=order_id, reason=reason, order_version=rec.order.version),
        )
    save_orders(conn, [rec], now=now)
    save_tasks(conn, tasks.values(), now=now)
    out.order_status(
        OrderStatus(
            order_id=order_id,
            state=rec.order.state,
            version=rec.order.version,
            reason=f"cancelled: {reason}"[:500],
        )
    )
    return {
        "order": order_id,
        "released_units": released,
        "putaway_tasks": [t.task_id for t in putaways],
        "cancelled_tasks": cancelled_tasks,
        "devices_told": sorted(notify),
    }
