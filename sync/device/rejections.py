"""What a device does when the hub rejects one of its stock facts.

A rejected fact is covered by the hub's cumulative ack and is never sent again, so its local
effects would otherwise stay: a refill the device thinks done that the hub still holds open,
units on the device's shelves that the hub never moved. :func:`take_back_rejected` undoes
them in one unit of work, once per rejected event (a rejection delivered twice changes
nothing the second time):

* ``stock.moved``: the units go back from the destination to the source in the local stock,
  and the task has them to move again (a task done by them is open again);
* ``stock_task.closed``: the task is open again.

The task's reason says why, so the screen that opens it again shows the hub's reason. Other
rejected events change nothing here: their screens show the reason, and the hub's next push
of the order or task brings its view.
"""

from __future__ import annotations

import json

from floor_app.domain.events import StockMoved, StockTaskClosed
from floor_app.domain.stockwork import STORAGE_KINDS
from floor_app.store import Store, UnitOfWork
from floor_app.store.tables import OutboxRow

TAKEN_BACK_PREFIX = "rejected_taken_back:"


def take_back_rejected(store: Store, seq: int, reason: str) -> str:
    """Undo the local effects of this device's event ``seq`` the hub rejected for
    ``reason``; what was done ("" when nothing was to be done)."""
    with store.unit_of_work() as uow:
        row = uow.session.get(OutboxRow, seq)
        if row is None or row.type not in (StockMoved.TYPE, StockTaskClosed.TYPE):
            return ""
        marker = f"{TAKEN_BACK_PREFIX}{seq}"
        if uow.meta.get(marker):
            return ""
        data = json.loads(row.payload)
        why = f"the hub refused: {reason}"
        if row.type == StockMoved.TYPE:
            note = _move_back(uow, data, why)
        else:
            note = _reopen(uow, str(data.get("task", "")), 0, why)
        uow.meta.set(marker, "1")
        uow.commit()
    return note


def _move_back(uow: UnitOfWork, data: dict[str, object], why: str) -> str:
    sku, qty = str(data["sku"]), int(str(data["qty"]))
    source, destination = str(data["from_location"]), str(data["to_location"])
    if uow.catalogue.location_kind(destination) is not None:
        uow.catalogue.adjust_stock(destination, sku, -qty)
    if uow.catalogue.location_kind(source) in STORAGE_KINDS:
        uow.catalogue.adjust_stock(source, sku, qty)
    reopened = _reopen(uow, str(data.get("task", "")), qty, why)
    return f"{qty} x {sku} back at {source}" + (f"; {reopened}" if reopened else "")


def _reopen(uow: UnitOfWork, task_id: str, qty: int, why: str) -> str:
    task = uow.stock_tasks.find(task_id) if task_id else None
    if task is None:
        return ""
    task.take_back(qty, why)
    uow.stock_tasks.save(task)
    return f"stock task {task_id}: {task.moved} of {task.qty} moved, {task.state.value}"
