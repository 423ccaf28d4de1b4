"""Replenishment on the hub: pick faces below their minimum get a refill task from reserve.

:func:`replenish` looks at pick faces whose stock just changed (a pick, a shortage, a
reservation) and, for each face below its minimum (available = on hand - reserved, see
:mod:`floor_app.domain.replenishment`) with no refill open, creates one ``replenish``
stock task from the best reserve stock (FEFO, then FIFO; expired lots skipped; lots never
mixed on a face). The task is open; the allocation pass leases it to a device, urgent
first (:func:`sync.hub.stock_tasks.assign_open_stock_tasks`).

**Urgent** refills are for a pick that waits on an empty face: a shortage reported with
reason ``empty`` at a pick face. The face is then treated as empty whatever the hub's
figure (so any lot may come) and refilled up to its maximum even when it was not below
its minimum; an open refill of that face becomes urgent instead of a second one being
made. Reservations take reserve stock themselves when a face is short (see
:mod:`sync.hub.stock`), so an order never waits for a refill while reserve stock is free:
a reservation only triggers an ordinary refill.

Lock order: stock rows, then pick faces (:func:`replenish` locks the faces it looks at, so
two transactions never both make a task for one face), then new stock tasks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, select, tuple_

from floor_app.domain.replenishment import PickFace, StockLot, choose_source
from floor_app.domain.stockwork import StockTaskKind, StockTaskState

from .outbound import Outbound
from .stock import LOCATIONS, STOCK
from .stock_tasks import (
    OPEN_STATES,
    STOCK_TASKS,
    URGENT_PRIORITY,
    StockTaskRecord,
    create,
    load_stock_tasks,
    push,
    save,
)
from .tables import PickFaceRow, table_of
from .task_building import gtins

PICK_FACES = table_of(PickFaceRow)

Place = tuple[str, str]


def today_of(now: float) -> str:
    """The UTC date of ``now`` (ISO), against which lots expire."""
    return dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat()


@dataclass(frozen=True, slots=True)
class Trigger:
    """What made the hub look at faces: ``origin`` (pick, short, reservation) and a ref."""

    origin: str
    ref: str = ""


def faces(conn: Connection, places: Iterable[Place], *, lock: bool = False) -> list[PickFace]:
    """The pick faces among ``places`` (location, SKU), sorted (locked with ``lock``)."""
    keys = sorted(set(places))
    out: list[PickFace] = []
    for start in range(0, len(keys), 400):
        chunk = keys[start : start + 400]
        query = (
            select(PICK_FACES)
            .where(tuple_(PICK_FACES.c.location, PICK_FACES.c.sku).in_(chunk))
            .order_by(PICK_FACES.c.location, PICK_FACES.c.sku)
        )
        if lock:
            query = query.with_for_update()
        out += [PickFace(r.location, r.sku, r.min_qty, r.max_qty) for r in conn.execute(query)]
    return out


def _lot(r: Any) -> StockLot:
    return StockLot(
        location=str(r.location),
        sku=str(r.sku),
        on_hand=int(r.qty),
        reserved=int(r.reserved),
        lot=str(r.lot or ""),
        expiry=str(r.expiry or ""),
        received_at=r.received_at,
    )


def face_stock(conn: Connection, location: str, sku: str) -> StockLot:
    """What the face holds now (nothing when it has no stock row)."""
    row = conn.execute(
        select(STOCK).where(and_(STOCK.c.location == location, STOCK.c.sku == sku))
    ).first()
    return _lot(row) if row is not None else StockLot(location, sku, 0)


def reserve_stock(conn: Connection, sku: str) -> list[StockLot]:
    """The SKU's stock at reserve locations."""
    rows = conn.execute(
        select(STOCK)
        .join(LOCATIONS, LOCATIONS.c.code == STOCK.c.location)
        .where(STOCK.c.sku == sku)
        .where(LOCATIONS.c.kind == "reserve")
        .order_by(STOCK.c.location)
    )
    return [_lot(r) for r in rows]


def open_refills(conn: Connection, face: PickFace) -> list[str]:
    """Ids of the open replenishment tasks of ``face``."""
    return list(
        conn.execute(
            select(STOCK_TASKS.c.task_id)
            .where(STOCK_TASKS.c.kind == StockTaskKind.REPLENISH.value)
            .where(STOCK_TASKS.c.state.in_(OPEN_STATES))
            .where(STOCK_TASKS.c.sku == face.sku)
            .where(STOCK_TASKS.c.to_location == face.location)
            .order_by(STOCK_TASKS.c.task_id)
        ).scalars()
    )


def _make_urgent(
    conn: Connection, task_ids: list[str], out: Outbound | None, why: str, now: float
) -> list[StockTaskRecord]:
    """Make open refills urgent (those another transaction holds are left alone: they are
    being worked on)."""
    ids = list(
        conn.execute(
            select(STOCK_TASKS.c.task_id)
            .where(STOCK_TASKS.c.task_id.in_(task_ids))
            .where(STOCK_TASKS.c.urgent.is_(False))
            .order_by(STOCK_TASKS.c.task_id)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    recs = list(load_stock_tasks(conn, ids).values())
    for rec in recs:
        rec.task.urgent = True
        rec.task.reason = why
        rec.task.version += 1
        rec.priority = URGENT_PRIORITY
        if out is not None and rec.lease_device and rec.task.state is not StockTaskState.OPEN:
            push(out, rec, rec.lease_device)
    save(conn, recs, now=now)
    return recs


def replenish(
    conn: Connection,
    places: Iterable[Place],
    trigger: Trigger,
    *,
    now: float,
    urgent: Iterable[Place] = (),
    out: Outbound | None = None,
) -> list[StockTaskRecord]:
    """Create refill tasks for the pick faces among ``places`` that need one; the tasks
    made or made urgent (written, open for the allocation pass to lease).

    ``urgent`` are faces a picker found empty: refilled up to max, urgently.
    """
    urgent_places = set(urgent)
    found = faces(conn, set(places) | urgent_places, lock=True)
    if not found:
        return []
    today = today_of(now)
    made: list[StockTaskRecord] = []
    gtin_of = gtins(conn, [f.sku for f in found])
    for face in found:
        is_urgent = (face.location, face.sku) in urgent_places
        open_ids = open_refills(conn, face)
        if open_ids:
            if is_urgent:
                made += _make_urgent(conn, open_ids, out, _why(face, None, urgent=True), now)
            continue
        held = face_stock(conn, face.location, face.sku)
        if is_urgent:  # the picker found it empty: whatever the hub thought it held
            held = StockLot(face.location, face.sku, 0, 0)
        source = choose_source(face, held, reserve_stock(conn, face.sku), today=today)
        if source is None:
            continue
        rec = create(
            conn,
            StockTaskKind.REPLENISH,
            sku=face.sku,
            gtin=gtin_of.get(face.sku, ""),
            from_location=source.stock.location,
            to_location=face.location,
            qty=source.qty,
            lot=source.stock.lot,
            expiry=source.stock.expiry,
            urgent=is_urgent,
            reason=_why(face, held, urgent=is_urgent),
            origin=trigger.origin[:16],
            origin_ref=trigger.ref,
        )
        save(conn, [rec], now=now)
        made.append(rec)
    return made


def _why(face: PickFace, held: StockLot | None, *, urgent: bool) -> str:
    if urgent:
        return f"a pick waits: {face.location} was found empty"
    assert held is not None
    return (
        f"{face.location} below its minimum: {held.on_hand - held.reserved} available, "
        f"min {face.min_qty}, max {face.max_qty}"
    )
