"""Compensating work: units that must go back to stock become put-away stock tasks.

Goods picked for an order that was cancelled (before or after the pick), and units picked
beyond an order's quantity, are in a tote or, once packed, in a parcel. The hub makes each
lot of them a ``putaway`` stock task (:mod:`hub.stock_tasks`) from that place (``tote
3 of task PT-000012``, ``parcel at PACK-01``) to the location they were picked from, with
``origin`` ``cancelled`` or ``surplus`` and the order in ``origin_ref``. It is leased to a
device in the next allocation pass and done through the device's move flow like any other
put-away: its ``stock.moved`` from a place that is not a storage location adds the units at
the destination only.

A cancelled order's parcel packed after the cancellation holds units that already have
put-away tasks (from their totes): those not yet started now start from the parcel, and
only units no task covers get a new one. (Rows of ``return_tasks``, where this work was
written before, stay readable; nothing writes them any more.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from floor_app.domain.stockwork import StockTaskKind

from . import stock_tasks
from .outbound import Outbound
from .repositories import PICK_LINES, OrderRecord
from .stock_tasks import STOCK_TASKS, StockTaskRecord, load_stock_tasks
from .tables import PackRecordRow, table_of
from .task_building import gtins

PACKS = table_of(PackRecordRow)

CANCELLED = "cancelled"
SURPLUS = "surplus"


@dataclass
class PutAways:
    """The put-away tasks one transaction creates, one per (order, SKU, from, to, origin)."""

    conn: Connection
    made: dict[tuple[str, str, str, str, str], StockTaskRecord] = field(default_factory=dict)

    def add(
        self,
        order_id: str,
        sku: str,
        qty: int,
        from_place: str,
        to_location: str,
        *,
        origin: str,
        reason: str,
    ) -> StockTaskRecord | None:
        """Ask for ``qty`` of ``sku`` to go from ``from_place`` to ``to_location``; the task
        when it is new (None when the units joined a task of this transaction)."""
        if qty <= 0:
            return None
        key = (order_id, sku, from_place, to_location, origin)
        known = self.made.get(key)
        if known is not None:
            known.task.qty += qty
            return None
        rec = stock_tasks.create(
            self.conn,
            StockTaskKind.PUTAWAY,
            sku=sku,
            gtin=gtins(self.conn, [sku]).get(sku, ""),
            from_location=from_place[:64],
            to_location=to_location[:32],
            qty=qty,
            reason=reason,
            origin=origin,
            origin_ref=order_id,
            description=f"{reason}: order {order_id}",
        )
        self.made[key] = rec
        return rec


def of_order(conn: Connection, order_id: str, *, lock: bool = False) -> list[StockTaskRecord]:
    """The compensating put-away tasks of ``order_id`` (any state), oldest first."""
    ids = conn.execute(
        select(STOCK_TASKS.c.task_id)
        .where(STOCK_TASKS.c.kind == StockTaskKind.PUTAWAY.value)
        .where(STOCK_TASKS.c.origin_ref == order_id)
        .where(STOCK_TASKS.c.origin.in_((CANCELLED, SURPLUS)))
    ).scalars()
    return sorted(load_stock_tasks(conn, ids, lock=lock).values(), key=lambda r: r.task_id)


def packed_at(conn: Connection, rec: OrderRecord) -> str:
    """The station where the order was last packed (its assigned one when not recorded)."""
    station = conn.execute(
        select(PACKS.c.station)
        .where(PACKS.c.order_id == rec.order_id)
        .order_by(PACKS.c.id.desc())
        .limit(1)
    ).scalar()
    return str(station or rec.pack_station)


def picked_from(conn: Connection, order_id: str) -> dict[str, str]:
    """SKU -> the location its units of ``order_id`` were picked from (the first one)."""
    out: dict[str, str] = {}
    for sku, location in conn.execute(
        select(PICK_LINES.c.sku, PICK_LINES.c.location)
        .where(PICK_LINES.c.order_id == order_id)
        .order_by(PICK_LINES.c.sequence)
    ):
        out.setdefault(str(sku), str(location))
    return out


def parcel_packed(
    conn: Connection,
    out: Outbound,
    put: PutAways,
    rec: OrderRecord,
    station: str,
    fallback: str,
) -> tuple[list[StockTaskRecord], list[StockTaskRecord]]:
    """A cancelled order was packed at ``station``: its units are in the parcel now.

    Open put-away tasks of the order not yet started start from the parcel (the device
    holding one gets it again); packed units no task covers get a new task to the location
    they were picked from (``fallback`` when not known). Returns (changed, new) tasks.
    """
    parcel = f"parcel at {station}"
    existing = [r for r in of_order(conn, rec.order_id, lock=True) if r.origin == CANCELLED]
    existing += [  # made earlier in this transaction, not written yet
        r for r in put.made.values() if r.origin_ref == rec.order_id and r.origin == CANCELLED
    ]
    covered: dict[str, int] = {}
    changed = []
    for task_rec in existing:
        covered[task_rec.task.sku] = covered.get(task_rec.task.sku, 0) + task_rec.task.qty
        task = task_rec.task
        if task.is_open and task.moved == 0 and task.from_location != parcel:
            task.from_location = parcel
            if task_rec.new:
                continue
            task.version += 1
            changed.append(task_rec)
            if task_rec.lease_device:
                stock_tasks.push(out, task_rec, task_rec.lease_device)
    sources = picked_from(conn, rec.order_id)
    packed: dict[str, int] = {}
    for ln in rec.order.lines:
        packed[ln.sku] = packed.get(ln.sku, 0) + ln.packed
    new = []
    for sku, units in sorted(packed.items()):
        made = put.add(
            rec.order_id,
            sku,
            units - covered.get(sku, 0),
            parcel,
            sources.get(sku, fallback),
            origin=CANCELLED,
            reason="order cancelled after packing",
        )
        if made is not None:
            new.append(made)
    return changed, new
