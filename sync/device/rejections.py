"""What a device does when the hub rejects one of its stock facts.

A rejected fact is covered by the hub's cumulative ack and is never sent again, so its local
effects would otherwise stay: a refill the device thinks done that the hub still holds open,
units on the device's shelves that the hub never moved. :func:`take_back_rejected` undoes
them in one unit of work, once per rejected event (a rejection delivered twice changes
nothing the second time):

* ``stock.moved``: the units go back from the destination to the source in the local stock
  (exactly what the move changed there), and the task has them to move again; a task done by
  them is open again, unless it was closed afterwards by a ``stock_task.closed`` the hub has
  not rejected (it ends the task on the hub);
* ``stock_task.closed``: the task is open again;
* ``receipt.counted``: the receipt's line has those units less (or more, for a refused
  take-back), so what the screen shows and the variances at the close are the hub's.

The task's reason says why, so the screen that opens it again shows the hub's reason. Other
rejected events change nothing here: their screens show the reason, and the hub's next push
of the order or task brings its view.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from floor_app.domain.events import ReceiptCounted, StockMoved, StockTaskClosed
from floor_app.domain.receiving import Condition
from floor_app.services.stock_moves import MOVE_APPLIED_PREFIX
from floor_app.store import Store, UnitOfWork
from floor_app.store.tables import OutboxRow

TAKEN_BACK_PREFIX = "rejected_taken_back:"
COUNTED = ReceiptCounted.TYPE


def take_back_rejected(store: Store, seq: int, reason: str) -> str:
    """Undo the local effects of this device's event ``seq`` the hub rejected for
    ``reason``; what was done ("" when nothing was to be done)."""
    with store.unit_of_work() as uow:
        row = uow.session.get(OutboxRow, seq)
        if row is None or row.type not in (StockMoved.TYPE, StockTaskClosed.TYPE, COUNTED):
            return ""
        marker = f"{TAKEN_BACK_PREFIX}{seq}"
        if uow.meta.get(marker):
            return ""
        data = json.loads(row.payload)
        why = f"the hub refused: {reason}"
        if row.type == StockMoved.TYPE:
            note = _move_back(uow, seq, data, why)
        elif row.type == COUNTED:
            note = _uncount(uow, data)
        else:
            note = _reopen(uow, str(data.get("task", "")), 0, why, reopen=True)
        uow.meta.set(marker, "1")
        uow.commit()
    return note


def _move_back(uow: UnitOfWork, seq: int, data: dict[str, object], why: str) -> str:
    sku, qty = str(data["sku"]), int(str(data["qty"]))
    source, destination = str(data["from_location"]), str(data["to_location"])
    # what the move changed in the local stock, noted with it (MoveService.move)
    applied = uow.meta.get(f"{MOVE_APPLIED_PREFIX}{seq}") or "0,0"
    taken, added = (int(part) for part in applied.split(","))
    if added:
        uow.catalogue.adjust_stock(destination, sku, -added)
    if taken:
        uow.catalogue.adjust_stock(source, sku, taken)
    task_id = str(data.get("task", ""))
    closed_later = bool(task_id) and _closed_after(uow, seq, task_id)
    reopened = _reopen(uow, task_id, qty, why, reopen=not closed_later)
    return f"{qty} x {sku} back at {source}" + (f"; {reopened}" if reopened else "")


def _closed_after(uow: UnitOfWork, seq: int, task_id: str) -> bool:
    """True when this device closed ``task_id`` after event ``seq`` and the hub has not
    rejected that close (so the task ends there)."""
    rows = uow.session.execute(
        select(OutboxRow.seq, OutboxRow.payload)
        .where(OutboxRow.type == StockTaskClosed.TYPE)
        .where(OutboxRow.seq > seq)
    )
    return any(
        json.loads(payload).get("task") == task_id
        and not uow.meta.get(f"{TAKEN_BACK_PREFIX}{later}")
        for later, payload in rows
    )


def _reopen(uow: UnitOfWork, task_id: str, qty: int, why: str, *, reopen: bool) -> str:
    task = uow.stock_tasks.find(task_id) if task_id else None
    if task is None:
        return ""
    task.take_back(qty, why, reopen=reopen)
    uow.stock_tasks.save(task)
    return f"stock task {task_id}: {task.moved} of {task.qty} moved, {task.state.value}"


def _uncount(uow: UnitOfWork, data: dict[str, object]) -> str:
    receipt = uow.receipts.find(str(data["receipt"]))
    if receipt is None:
        return ""
    sku, qty = str(data["sku"]), int(str(data["qty"]))
    try:
        condition = Condition(str(data["condition"]))
    except ValueError:
        return ""
    lot, serial = str(data.get("lot", "")), str(data.get("serial", ""))
    line = receipt.refused(sku, qty, condition, lot, serial)
    if line is None:
        return ""
    uow.receipts.save(receipt)
    return f"receipt {receipt.reference}: {qty:+d} {condition.value} x {sku} taken back"
