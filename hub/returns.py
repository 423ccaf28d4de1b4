"""Returns received at the returns desk (``return.received``), checked against the order.

A device sends one :class:`floor_app.domain.events.ReturnReceived` per SKU and grade it
received back from a parcel, naming the order by its id or, when the device could not
resolve it, by the parcel's tracking number (the hub looks the tracking number up).

The hub rejects, with a reason and without changing stock, a return for an order it does
not know or that never left packing, of a SKU the order does not hold, of more units than
were shipped (counting everything received back before), or to a place the grade does not
allow: resaleable units go to a storage location (pick face or reserve), damaged and wrong
items to a quarantine location. Otherwise it records the receipt in ``return_receipts``,
adds the units at the destination (ledger reason ``return`` or ``quarantine``), and
publishes the order's status with the units received back so far (``returned``).

Quarantine stock is on hand but never reserved (:func:`hub.stock.candidates`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, func, insert, select

from floor_app.domain.codes import TRACKING_RE
from floor_app.domain.errors import Reason
from floor_app.domain.events import ReturnReceived
from floor_app.domain.stockwork import ReturnGrade, StockReason, place_refusal, return_refusal
from sync.protocol import OrderStatus

from .outbound import Outbound
from .repositories import OrderRecord
from .stock import StockChanges
from .tables import LocationRow, OrderRow, ReturnReceiptRow, table_of

RECEIPTS = table_of(ReturnReceiptRow)
LOCATIONS = table_of(LocationRow)
ORDERS = table_of(OrderRow)


class ReturnRefused(Exception):
    """A return the hub cannot accept; ``reason`` says what happened and what to do (``why``
    says it with a code and parameters for the device's catalogue)."""

    def __init__(self, reason: str | Reason) -> None:
        self.why = reason if isinstance(reason, Reason) else Reason(reason)
        super().__init__(self.why.text)
        self.reason = self.why.text


def orders_by_tracking(conn: Connection, refs: Iterable[str]) -> dict[str, str]:
    """Tracking number -> order id, for the ``refs`` that are tracking numbers of an order."""
    tracking = sorted({r for r in refs if TRACKING_RE.match(r)})
    if not tracking:
        return {}
    return {
        str(t): str(o)
        for t, o in conn.execute(
            select(ORDERS.c.tracking, ORDERS.c.order_id).where(ORDERS.c.tracking.in_(tracking))
        )
    }


def returned_units(conn: Connection, order_id: str, sku: str | None = None) -> int:
    """Units of ``order_id`` (of ``sku``, if given) received back so far."""
    query = select(func.coalesce(func.sum(RECEIPTS.c.qty), 0)).where(
        RECEIPTS.c.order_id == order_id
    )
    if sku is not None:
        query = query.where(RECEIPTS.c.sku == sku)
    return int(conn.execute(query).scalar() or 0)


def _check(conn: Connection, rec: OrderRecord | None, ev: ReturnReceived) -> ReturnGrade:
    """The grade of an acceptable return; :class:`ReturnRefused` says why it is not."""
    if ev.qty <= 0:
        raise ReturnRefused(f"a return needs a positive quantity, got {ev.qty}")
    try:
        grade = ReturnGrade(ev.grade)
    except ValueError:
        known = ", ".join(g.value for g in ReturnGrade)
        raise ReturnRefused(
            Reason(
                f"return grade {ev.grade!r} is not one of {known}",
                "return.bad_grade",
                {"grade": ev.grade},
            )
        ) from None
    if rec is None:
        raise ReturnRefused(
            Reason(
                f"order {ev.order} is not known to the hub: check the order id or tracking number "
                "on the parcel and receive it again; nothing was put to stock",
                "return.unknown_order",
                {"order": ev.order},
            )
        )
    refusal = return_refusal(
        rec.order, ev.sku, ev.qty, returned_units(conn, rec.order_id, ev.sku)
    ) or place_refusal(
        grade,
        ev.to_location,
        conn.execute(select(LOCATIONS.c.kind).where(LOCATIONS.c.code == ev.to_location)).scalar(),
    )
    if refusal:
        raise ReturnRefused(refusal)
    return grade


def receive(
    conn: Connection,
    out: Outbound,
    stock: StockChanges,
    rec: OrderRecord | None,
    ev: ReturnReceived,
    *,
    device_id: str,
    seq: int,
    now: float,
) -> str:
    """Apply one received return (see the module docstring); a note for the inbox.

    Raises :class:`ReturnRefused` (nothing changed) when the return cannot be accepted.
    """
    grade = _check(conn, rec, ev)
    assert rec is not None
    conn.execute(
        insert(RECEIPTS).values(
            return_id=ev.return_id[:40],
            order_id=rec.order_id,
            sku=ev.sku,
            qty=ev.qty,
            grade=grade.value,
            location=ev.to_location,
            user=ev.user[:64],
            device_id=device_id,
            seq=seq,
            at=now,
        )
    )
    reason = StockReason.RETURN if grade is ReturnGrade.RESALEABLE else StockReason.QUARANTINE
    stock.move(ev.to_location, ev.sku, ev.qty, reason)
    total = returned_units(conn, rec.order_id)
    note = f"{ev.qty} x {ev.sku} {grade.value} to {ev.to_location}"
    out.order_status(
        OrderStatus(
            order_id=rec.order_id,
            state=rec.order.state,
            version=rec.order.version,
            reason=f"returned: {note} by {ev.user}"[:500],
            returned=total,
            device_id=device_id,
        )
    )
    return (
        note if ev.order == rec.order_id else f"parcel {ev.order} is order {rec.order_id}: {note}"
    )
