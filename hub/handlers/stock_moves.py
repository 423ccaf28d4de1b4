"""Stock moves on the hub: ``stock.moved`` and ``stock_task.closed``, applied inside the
batch's transaction, and the refills they and the batch's picks and shortages trigger
(:mod:`hub.replenishment`).

A ``stock.moved`` is checked before it changes anything; it is rejected, with the reason,
when

* its stock task is unknown, done or cancelled, a count, for another SKU or source (or,
  for a replenishment, another destination), or asks for fewer units than moved;
* the destination is not a location of the site, or is the source;
* the source is a storage location that holds no such item, or fewer units that are not
  promised to orders (units reserved for orders are never moved away from under them);
* the event's lot is not the lot the source holds;
* it names a serial number (one unit of a serial-tracked item) that the hub does not have
  in stock at the source.

Applied, it takes the units off the source (only when the source is a storage location:
a tote, a desk or a station holds no counted stock) and adds them at the destination, in
the stock ledger with the event; an empty destination takes the lot, expiry and receipt
time of the source. The task counts the units and is done when all are moved.

A ``stock_task.closed`` ends an open task with less than asked, the reason recorded.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from floor_app.domain.errors import DomainError
from floor_app.domain.events import StockMoved, StockTaskClosed
from floor_app.domain.picking import ShortReason
from floor_app.domain.stockwork import StockReason, StockTaskKind, StockTaskState

from ..lots import serial_place
from ..receiving import receipts
from ..replenishment import Trigger, replenish
from ..stock import LOCATIONS, STOCK
from ..stock_tasks import StockTaskRecord
from ..tables import SerialRow, table_of
from .batch import Batch, Handlers, Outcome

Place = tuple[str, str]
SERIALS = table_of(SerialRow)


def _is_storage(batch: Batch, code: str) -> bool:
    return (
        batch.conn.execute(select(LOCATIONS.c.code).where(LOCATIONS.c.code == code)).first()
        is not None
    )


def _task_for(batch: Batch, ev: StockMoved) -> StockTaskRecord | None:
    if not ev.task:
        return None
    rec = batch.stock_tasks.get(ev.task)
    if rec is None:
        raise DomainError(
            f"stock task {ev.task} is not known to the hub; nothing was moved",
            code="hub.unknown_stock_task",
            params={"task": ev.task},
        )
    task = rec.task
    if not task.is_open:
        raise DomainError(
            f"stock task {ev.task} is {task.state.value}; the move was not recorded",
            hint="put the units back, or move them without the task",
            code="hub.stock_task_closed",
            params={"task": ev.task, "task_state": task.state.value},
        )
    if task.kind is StockTaskKind.COUNT:
        raise DomainError(
            f"stock task {ev.task} is a count, not a move",
            code="hub.not_a_move",
            params={"task": ev.task},
        )
    if ev.sku != task.sku:
        raise DomainError(
            f"stock task {ev.task} moves {task.sku}, not {ev.sku}",
            code="hub.move_other_sku",
            params={"task": ev.task, "sku": task.sku, "scanned": ev.sku},
        )
    if ev.from_location != task.from_location:
        raise DomainError(
            f"stock task {ev.task} takes from {task.from_location}, not {ev.from_location}",
            code="hub.move_other_source",
            params={"task": ev.task, "source": task.from_location, "scanned": ev.from_location},
        )
    if task.kind is StockTaskKind.REPLENISH and ev.to_location != task.to_location:
        raise DomainError(
            f"stock task {ev.task} refills {task.to_location}, not {ev.to_location}",
            code="hub.move_other_face",
            params={"task": ev.task, "face": task.to_location, "scanned": ev.to_location},
        )
    if ev.qty > task.open_qty:
        raise DomainError(
            f"{ev.qty} is more than the {task.open_qty} still to move on {ev.task}",
            code="hub.move_too_many",
            params={"qty": ev.qty, "open": task.open_qty, "task": ev.task},
        )
    return rec


def _check_serial(batch: Batch, ev: StockMoved) -> None:
    """The unit ``ev.serial`` moves one unit, from where the hub has it in stock."""
    place = serial_place(batch.conn, ev.sku, ev.serial)
    if ev.qty != 1 or place != ("in_stock", ev.from_location):
        where = "not known" if place is None else f"{place[0]} at {place[1] or '-'}"
        raise DomainError(
            f"serial {ev.serial} of {ev.sku} is {where}, not one unit in stock at "
            f"{ev.from_location}; nothing was moved",
            hint="set the unit aside for a supervisor",
            code="hub.serial_not_here",
            params={"serial": ev.serial, "sku": ev.sku, "location": ev.from_location},
        )


def _pending(batch: Batch, location: str, sku: str) -> tuple[int, int]:
    """(on hand, reserved) at ``location`` as this batch has it so far (the row locked)."""
    row = batch.conn.execute(
        select(STOCK.c.qty, STOCK.c.reserved)
        .where(STOCK.c.location == location)
        .where(STOCK.c.sku == sku)
        .with_for_update()
    ).first()
    on_hand = (int(row.qty) if row else 0) + batch.stock.on_hand.get((location, sku), 0)
    reserved = (int(row.reserved) if row else 0) + batch.stock.reserved.get((location, sku), 0)
    return on_hand, reserved


def _check_source(batch: Batch, ev: StockMoved) -> tuple[str, str, float | None]:
    """The source's (lot, expiry, received_at); raises when it cannot give the units."""
    row = batch.conn.execute(
        select(STOCK.c.lot, STOCK.c.expiry, STOCK.c.received_at)
        .where(STOCK.c.location == ev.from_location)
        .where(STOCK.c.sku == ev.sku)
    ).first()
    on_hand, reserved = _pending(batch, ev.from_location, ev.sku)
    if row is None or on_hand <= 0:
        raise DomainError(
            f"{ev.from_location} holds no {ev.sku}; nothing was moved",
            hint="check the location and the item; scan where the units really are",
            code="hub.source_empty",
            params={"location": ev.from_location, "sku": ev.sku},
        )
    free = on_hand - reserved
    if free < ev.qty:
        raise DomainError(
            f"{ev.from_location} holds only {max(0, free)} free of {ev.sku} ({on_hand} on hand, "
            f"{reserved} promised to orders), not {ev.qty}; nothing was moved",
            hint="move fewer, or ask a supervisor to count the location",
            code="hub.source_short",
            params={
                "location": ev.from_location,
                "free": max(0, free),
                "sku": ev.sku,
                "qty": ev.qty,
            },
        )
    lot = str(row.lot or "")
    if ev.lot and lot and ev.lot != lot:
        raise DomainError(
            f"{ev.from_location} holds lot {lot} of {ev.sku}, not lot {ev.lot}; nothing was moved",
            code="hub.other_lot",
            params={"location": ev.from_location, "lot": lot, "sku": ev.sku, "scanned": ev.lot},
        )
    return lot or ev.lot, str(row.expiry or ""), row.received_at


def _take_lot(batch: Batch, location: str, sku: str, lot: tuple[str, str, float | None]) -> None:
    """An empty destination takes the lot of the units put there."""
    on_hand, _reserved = _pending(batch, location, sku)
    if on_hand > 0:
        return
    values = {"lot": lot[0], "expiry": lot[1], "received_at": lot[2] or batch.now}
    exists = batch.conn.execute(
        select(STOCK.c.location).where(STOCK.c.location == location).where(STOCK.c.sku == sku)
    ).first()
    if exists is None:  # made here (empty) so the batch's change finds it
        batch.conn.execute(
            insert(STOCK).values(location=location, sku=sku, qty=0, reserved=0, **values)
        )
    else:
        batch.conn.execute(
            update(STOCK)
            .where(STOCK.c.location == location)
            .where(STOCK.c.sku == sku)
            .values(**values)
        )


def _progress(batch: Batch, rec: StockTaskRecord, qty: int, user: str) -> None:
    task = rec.task
    task.confirm_move(qty)
    if task.state is StockTaskState.OPEN:
        task.move_to(StockTaskState.ASSIGNED)
    if task.state is StockTaskState.ASSIGNED:
        task.move_to(StockTaskState.IN_PROGRESS)
    task.assigned_to = user
    if task.open_qty == 0:
        task.move_to(StockTaskState.DONE)
        rec.lease_expires_at = None
    else:
        rec.lease_device = batch.device_id
        rec.lease_expires_at = batch.now + batch.settings.lease_s


def _reason(rec: StockTaskRecord | None, given: str) -> str:
    if rec is not None:
        return StockReason.REPLENISH if rec.task.kind is StockTaskKind.REPLENISH else "putaway"
    known = {r.value for r in StockReason}
    return given if given in known else StockReason.PUTAWAY.value


class StockMoves(Handlers):
    """Moves and closed stock tasks of one batch."""

    def moved(self, ev: StockMoved) -> Outcome:
        """Apply a ``stock.moved`` (or raise :class:`DomainError` with why it is rejected)."""
        batch = self.batch
        if ev.qty <= 0:
            raise DomainError(
                f"a move needs a positive quantity, got {ev.qty}",
                code="hub.qty_not_positive",
                params={"qty": ev.qty},
            )
        rec = _task_for(batch, ev)
        if ev.to_location == ev.from_location:
            raise DomainError(
                f"{ev.to_location} is both the source and the destination",
                code="hub.move_same_place",
                params={"location": ev.to_location},
            )
        if not _is_storage(batch, ev.to_location):
            raise DomainError(
                f"{ev.to_location} is not a location of this site; nothing was moved",
                hint="scan the destination's location label",
                code="hub.unknown_destination",
                params={"location": ev.to_location},
            )
        if ev.serial:
            _check_serial(batch, ev)
        from_storage = _is_storage(batch, ev.from_location)
        lot = _check_source(batch, ev) if from_storage else (ev.lot, "", None)
        if rec is not None and lot[0] in ("", rec.task.lot) and not lot[1]:
            # the units carry the task's lot and expiry (a receipt's, from the dock)
            lot = (rec.task.lot or lot[0], rec.task.expiry, lot[2])
        _take_lot(batch, ev.to_location, ev.sku, lot)
        reason = _reason(rec, ev.reason)
        if from_storage:
            batch.stock.move(ev.from_location, ev.sku, -ev.qty, reason)
        batch.stock.move(ev.to_location, ev.sku, ev.qty, reason)
        if ev.serial:  # the unit is where it was put: a recall finds it there
            batch.conn.execute(
                update(SERIALS)
                .where((SERIALS.c.sku == ev.sku) & (SERIALS.c.serial == ev.serial))
                .values(location=ev.to_location)
            )
        if rec is None:
            return Outcome.applied()
        _progress(batch, rec, ev.qty, ev.user)
        if rec.origin == "receipt":
            receipts.put_away(
                batch.conn, batch.out, rec.origin_ref, ev.sku, rec.task.lot, ev.qty, batch.now
            )
        if rec.task.state is StockTaskState.DONE:
            return Outcome.applied(f"stock task {rec.task_id} done")
        return Outcome.applied(
            f"stock task {rec.task_id}: {rec.task.moved} of {rec.task.qty} moved"
        )

    def closed(self, ev: StockTaskClosed) -> Outcome:
        """Apply a ``stock_task.closed`` (or raise :class:`DomainError` with why not)."""
        batch = self.batch
        if not ev.reason.strip():
            raise DomainError(
                f"closing stock task {ev.task} needs a reason", code="move.close_reason"
            )
        rec = batch.stock_tasks.get(ev.task)
        if rec is None:
            raise DomainError(
                f"stock task {ev.task} is not known to the hub",
                code="hub.unknown_stock_task_close",
                params={"task": ev.task},
            )
        task = rec.task
        if not task.is_open:
            return Outcome.applied(f"stock task {ev.task} is already {task.state.value}")
        task.reason = f"closed by {ev.user}: {ev.reason}"[:500]
        task.assigned_to = ev.user
        task.move_to(StockTaskState.DONE)
        if rec.origin == "receipt":  # the receipt no longer waits for the units left
            receipts.put_away_short(batch.conn, batch.out, rec.origin_ref, task.open_qty, batch.now)
        rec.lease_expires_at = None
        if task.kind is not StockTaskKind.COUNT and task.to_location:
            batch.stock.touched.add((task.to_location, task.sku))
        return Outcome.applied(
            f"stock task {ev.task} closed with {task.moved} of {task.qty} moved: {ev.reason}"
        )


def refill_after(batch: Batch, shortages: list[dict[str, Any]]) -> None:
    """Refill the pick faces this batch's changes took below their minimum (urgently where
    a picker found one empty: ``shortages``). Runs after the stock changes are written."""
    touched = set(batch.stock.touched)
    if not touched:
        return
    shorts = {(str(s["location"]), str(s["sku"])) for s in shortages}
    empty = {
        (str(s["location"]), str(s["sku"]))
        for s in shortages
        if s["reason"] == ShortReason.EMPTY.value
    }
    ref = f"{batch.device_id}#{batch.seq}"
    if shorts:
        replenish(
            batch.conn, shorts, Trigger("short", ref), now=batch.now, urgent=empty, out=batch.out
        )
    rest = touched - shorts
    if rest:
        replenish(batch.conn, rest, Trigger("pick", ref), now=batch.now, out=batch.out)
    batch.stock.touched.clear()
