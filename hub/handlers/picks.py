"""Picks: ``pick.confirmed``, ``pick.undone`` and ``pick.short`` (facts, never refused).

A pick counts on its task line and its order line, takes the units off the location's
stock and its reservation, and moves the order forward (``picking``; ``picked`` once every
unit is picked with no shortage). Units picked for a cancelled order, beyond the order's
quantity or of a SKU it does not hold go back to stock by a put-away task
(:mod:`hub.compensation`). A shortage is recorded, takes the units off stock, asks for a
count of the place (:mod:`hub.handlers.counts`) and reserves the units elsewhere as a new
task for the device; what cannot be found makes the order ``short``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from floor_app.domain.events import PickConfirmed, PickUndone, ShortReported
from floor_app.domain.order import OrderLine, OrderState
from floor_app.domain.picking import ShortReason
from floor_app.domain.stockwork import StockReason

from ..bulk import insert_rows
from ..leases import lease
from ..repositories import OrderRecord
from ..stock import STOCK, reserve_line
from ..tables import LotPickRow, SerialRow, ShortageRow, table_of
from ..task_building import TaskStop, gtins, load_locations, make_task
from .batch import Batch, Handlers, Outcome
from .counts import after_shortage

SHORTAGES = table_of(ShortageRow)
LOT_PICKS = table_of(LotPickRow)
SERIALS = table_of(SerialRow)


class Picks(Handlers):
    """Picks and shortages of one batch; the shortages are written in :meth:`flush`."""

    def __init__(self, batch: Batch) -> None:
        super().__init__(batch)
        #: ``pick_shortages`` rows of this batch (the refill check reads them too)
        self.shortages: list[dict[str, Any]] = []
        #: ``lot_picks`` rows of this batch: units of a lot picked for (or put back from) an
        #: order line (lot "": the one the location holds, found at flush)
        self.lot_picks: list[dict[str, Any]] = []

    def _lot(
        self,
        lot: str,
        sku: str,
        order: str,
        line_no: int,
        location: str,
        qty: int,
        user: str,
        substituted: bool = False,
    ) -> None:
        self.lot_picks.append(
            {
                "sku": sku,
                "lot": lot,
                "order_id": order,
                "line_no": line_no,
                "location": location,
                "qty": qty,
                "substituted": substituted,
                "device_id": self.batch.device_id,
                "user": user,
                "at": self.batch.now,
            }
        )

    def _order_line(
        self, rec: OrderRecord, task_id: str, line_id: str, sku: str
    ) -> OrderLine | None:
        """The order line a pick line belongs to (by the task, else by SKU), if any."""
        task = self.batch.tasks.get(task_id)
        line = task.line(line_id) if task else None
        if line is not None and line.order_id == rec.order_id:
            for ln in rec.order.lines:
                if ln.line_no == line.order_line_no:
                    return ln
        return rec.line_for_sku(sku)

    def _unreserve(
        self, rec: OrderRecord, oline: OrderLine, ev: PickConfirmed | ShortReported, location: str
    ) -> None:
        """Up to the event's units reserved for the order line at ``location`` were taken
        (picked, or found missing): they are no longer promised."""
        taken = min(ev.qty, max(0, rec.reserved.get(oline.line_no, 0)))
        if taken:
            rec.reserved[oline.line_no] -= taken
            self.batch.stock.reserve(location, ev.sku, -taken)
            self.batch.stock.consume(rec.order_id, oline.line_no, location, taken)

    def confirmed(self, ev: PickConfirmed) -> Outcome:
        if ev.qty <= 0:
            return Outcome.rejected(
                f"pick quantity must be positive, got {ev.qty}",
                code="hub.qty_not_positive",
                params={"qty": ev.qty},
            )
        b = self.batch
        notes = []
        task = b.tasks.get(ev.task)
        line = task.line(ev.line) if task else None
        if task is None:
            notes.append(f"task {ev.task} is not known to the hub")
        elif line is None:
            notes.append(f"task {ev.task} has no line {ev.line}")
        else:
            line.picked += ev.qty
            b.renew(task)
        b.stock.move(ev.location, ev.sku, -ev.qty, StockReason.PICK)
        rec = b.orders.get(ev.order)
        if rec is None:
            notes.append(f"order {ev.order} is not known to the hub")
            return Outcome.applied("; ".join(notes))
        oline = self._order_line(rec, ev.task, ev.line, ev.sku)
        if oline is None:
            notes.append(f"order {ev.order} has no line of {ev.sku}: the units go back")
            tote = f"tote {ev.tote_position} of task {ev.task}"
            b.put_back(rec.order_id, ev.sku, ev.qty, tote, ev.location, "not in the order")
            return Outcome.applied("; ".join(notes))
        self._unreserve(rec, oline, ev, line.location if line is not None else ev.location)
        oline.picked += ev.qty
        tote = f"tote {ev.tote_position} of task {ev.task}"
        if rec.order.state is OrderState.CANCELLED:
            b.put_back(rec.order_id, ev.sku, ev.qty, tote, ev.location, "order cancelled")
            notes.append("order is cancelled: the units go back to stock")
            return Outcome.applied("; ".join(notes))
        surplus = max(0, min(ev.qty, oline.picked + oline.short - oline.qty))
        if surplus > 0:
            b.put_back(rec.order_id, ev.sku, surplus, tote, ev.location, "picked more than ordered")
            notes.append(f"{surplus} picked beyond the order: the units go back to stock")
        kept = ev.qty - surplus  # the units that stay with the order: their lot and serial
        if ev.serial and kept > 0:
            note = self._serial_out(ev.sku, ev.serial, rec.order_id, ev.location)
            if note:
                notes.append(note)
        if kept > 0:
            self._lot(
                ev.lot,
                ev.sku,
                rec.order_id,
                oline.line_no,
                ev.location,
                kept,
                ev.user,
                ev.lot_substituted,
            )
        b.move_order(rec, OrderState.PICKING, f"picked by {ev.user}")
        if rec.order.is_picked_clean:
            b.move_order(rec, OrderState.PICKED, "every unit picked")
        return Outcome.applied("; ".join(notes))

    def _serial_out(self, sku: str, serial: str, order_id: str, location: str) -> str:
        """The unit ``serial`` left stock for ``order_id``; a note when it had left before."""
        conn = self.batch.conn
        key = (SERIALS.c.sku == sku) & (SERIALS.c.serial == serial)
        row = conn.execute(select(SERIALS.c.state, SERIALS.c.order_id).where(key)).first()
        values = {"state": "picked", "location": "", "order_id": order_id}
        if row is None:
            insert_rows(conn, SERIALS, [{"sku": sku, "serial": serial, "lot": "", **values}])
            return f"serial {serial} of {sku} was not in the hub's stock records"
        conn.execute(update(SERIALS).where(key).values(**values))
        if row.state != "in_stock":
            return f"serial {serial} of {sku} was already {row.state} for order {row.order_id}"
        return ""

    def undone(self, ev: PickUndone) -> Outcome:
        if ev.qty <= 0:
            return Outcome.rejected(
                f"undo quantity must be positive, got {ev.qty}",
                code="hub.qty_not_positive",
                params={"qty": ev.qty},
            )
        b = self.batch
        task = b.tasks.get(ev.task)
        line = task.line(ev.line) if task else None
        if line is not None:
            line.picked = max(0, line.picked - ev.qty)
            b.renew(task)
        b.stock.move(ev.location, ev.sku, ev.qty, StockReason.UNDO)
        rec = b.orders.get(ev.order)
        if rec is None:
            return Outcome.applied(f"order {ev.order} is not known to the hub")
        oline = self._order_line(rec, ev.task, ev.line, ev.sku)
        if oline is None:
            return Outcome.applied(f"order {ev.order} has no line of {ev.sku}")
        oline.picked = max(0, oline.picked - ev.qty)
        if ev.serial:
            self.batch.conn.execute(
                update(SERIALS)
                .where((SERIALS.c.sku == ev.sku) & (SERIALS.c.serial == ev.serial))
                .values(state="in_stock", location=ev.location, order_id="")
            )
        self._lot(ev.lot, ev.sku, rec.order_id, oline.line_no, ev.location, -ev.qty, ev.user)
        if rec.order.state in (OrderState.CANCELLED, OrderState.SHIPPED):
            return Outcome.applied(f"order is {rec.order.state.value}")
        back = min(ev.qty, max(0, oline.open_to_pick - rec.reserved.get(oline.line_no, 0)))
        if back:  # the units are on the shelf again, still promised to this order
            rec.reserved[oline.line_no] = rec.reserved.get(oline.line_no, 0) + back
            b.stock.reserve(ev.location, ev.sku, back)
            b.stock.consume(rec.order_id, oline.line_no, ev.location, -back)
        return Outcome.applied()

    def short(self, ev: ShortReported) -> Outcome:
        if ev.qty <= 0:
            return Outcome.rejected(
                f"short quantity must be positive, got {ev.qty}",
                code="hub.qty_not_positive",
                params={"qty": ev.qty},
            )
        try:
            reason = ShortReason(ev.reason)
        except ValueError:
            known = ", ".join(r.value for r in ShortReason)
            return Outcome.rejected(
                f"short reason {ev.reason!r} is not one of {known}",
                code="hub.bad_short_reason",
                params={"reason": ev.reason},
            )
        b = self.batch
        task = b.tasks.get(ev.task)
        line = task.line(ev.line) if task else None
        if line is not None:
            line.short += ev.qty
            line.short_reason = reason
            b.renew(task)
        # the units are not where the stock said: take them off (on hand and promised)
        b.stock.move(ev.location, ev.sku, -ev.qty, StockReason.SHORT)
        after_shortage(b, ev.location, ev.sku)
        rec = b.orders.get(ev.order)
        shortage: dict[str, Any] = {
            "order_id": ev.order,
            "sku": ev.sku,
            "location": ev.location,
            "qty": ev.qty,
            "reason": reason.value,
            "user": ev.user,
            "task_id": ev.task,
            "line_id": ev.line,
            "device_id": b.device_id,
            "seq": b.seq,
            "reallocated": 0,
            "resolution": "",
            "at": b.now,
        }
        self.shortages.append(shortage)
        if rec is None:
            shortage["resolution"] = "order not known to the hub"
            return Outcome.applied(str(shortage["resolution"]))
        oline = self._order_line(rec, ev.task, ev.line, ev.sku)
        if oline is None:
            shortage["resolution"] = f"order {ev.order} has no line of {ev.sku}"
            return Outcome.applied(str(shortage["resolution"]))
        self._unreserve(rec, oline, ev, line.location if line is not None else ev.location)
        if rec.order.state in (OrderState.CANCELLED, OrderState.SHIPPED, OrderState.HELD):
            shortage["resolution"] = f"order is {rec.order.state.value}"
            return Outcome.applied(str(shortage["resolution"]))
        moved = self._reallocate(rec, oline, ev) if b.settings.reallocate_shorts else 0
        shortage["reallocated"] = moved
        left = ev.qty - moved
        b.move_order(rec, OrderState.PICKING, f"short reported by {ev.user}")
        if left > 0:
            oline.short += left
            rec.change_source = b.device_id
            if rec.order.state is OrderState.PICKING:
                rec.order.transition(OrderState.SHORT, f"{left} x {ev.sku} {reason.value}")
                b.status_reason[rec.order_id] = f"{left} x {ev.sku} short ({reason.value})"
            shortage["resolution"] = (
                f"{moved} reallocated, {left} short: waiting for a supervisor"
                if moved
                else "no stock elsewhere: waiting for a supervisor"
            )
        else:
            shortage["resolution"] = f"reallocated from other locations ({moved})"
        return Outcome.applied(str(shortage["resolution"]))

    def _reallocate(self, rec: OrderRecord, oline: OrderLine, ev: ShortReported) -> int:
        """Reserve the short units elsewhere and give them to this device as a new task."""
        b = self.batch
        taken = reserve_line(b.conn, b.stock, rec, oline, ev.qty, exclude=[ev.location], now=b.now)
        if not taken:
            return 0
        locations = load_locations(b.conn, [t.location for t in taken])
        stops = [
            TaskStop(rec.order_id, oline.line_no, oline.sku, locations[t.location], t.qty)
            for t in taken
            if t.location in locations
        ]
        moved = sum(t.qty for t in taken)
        rec.external_version = rec.order.version
        if stops:
            task = make_task(
                b.conn,
                stops,
                gtins(b.conn, [oline.sku]),
                priority=rec.order.priority,
                now=b.now,
                origin="reallocation",
                stations={rec.order_id: rec.pack_station} if rec.pack_station else None,
            )
            lease(task, b.device_id, b.now, b.settings.lease_s)
            b.new_tasks.append(task)
        return moved

    def flush(self) -> None:
        insert_rows(self.batch.conn, SHORTAGES, self.shortages)
        insert_rows(self.batch.conn, LOT_PICKS, self._with_lots(self.lot_picks))

    def _with_lots(self, picks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The picks with their lot: the one scanned, else the one their location holds
        (one lot per location and SKU), so that a recall finds the units of a lot picked
        without a lot scan too; picks from a place without a lot are left out."""
        places = sorted({(p["location"], p["sku"]) for p in picks if not p["lot"]})
        held: dict[tuple[str, str], str] = {}
        for start in range(0, len(places), 500):
            chunk = places[start : start + 500]
            rows = self.batch.conn.execute(
                select(STOCK.c.location, STOCK.c.sku, STOCK.c.lot)
                .where(STOCK.c.location.in_({loc for loc, _ in chunk}))
                .where(STOCK.c.sku.in_({sku for _, sku in chunk}))
            )
            held.update({(r.location, r.sku): str(r.lot or "") for r in rows})
        out = []
        for p in picks:
            lot = p["lot"] or held.get((p["location"], p["sku"]), "")
            if lot:
                out.append({**p, "lot": lot})
        return out
