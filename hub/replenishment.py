"""Replenishment on the hub: pick faces below their minimum get a refill task from reserve.

:func:`replenish` looks at pick faces whose stock just changed (a pick, a shortage, a
reservation) and, for each face below its minimum (available = on hand - reserved, see
:mod:`floor_app.domain.replenishment`) with no refill open, creates one ``replenish``
stock task from the best reserve stock (FEFO, then FIFO; expired lots skipped; lots never
mixed on a face). The task is open; the allocation pass leases it to a device, urgent
first (:func:`hub.stock_tasks.assign_open_stock_tasks`).

**Urgent** refills are for a pick that waits on an empty face: a shortage reported with
reason ``empty`` at a pick face. The face is then treated as empty whatever the hub's
figure (so any lot may come) and refilled up to its maximum even when it was not below
its minimum; an open refill of that face becomes urgent instead of a second one being
made. Reservations take reserve stock themselves when a face is short (see
:mod:`hub.stock`), so an order never waits for a refill while reserve stock is free:
a reservation only triggers an ordinary refill.

Lock order: stock rows, then pick faces (:func:`replenish` locks the faces it looks at, so
two transactions never both make a task for one face), then new stock tasks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, tuple_

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


def _chunks(keys: list[Any], size: int = 400) -> Iterable[list[Any]]:
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def faces(
    conn: Connection, places: Iterable[Place], *, lock: bool = False
) -> list[tuple[PickFace, StockLot]]:
    """The pick faces among ``places`` (location, SKU), sorted, each with what it holds now
    (nothing when it has no stock row); the faces locked with ``lock``.

    The stock is read by a statement after the one that locks the faces: on PostgreSQL a
    statement that waited for a lock sees another transaction's changes only on the rows it
    locked, so stock read in the same statement could be from before the wait."""
    wanted = set(places)
    found: list[PickFace] = []
    # by location (the leading column of both primary keys), the SKUs kept in Python: a
    # list of (location, sku) pairs is planned less well on PostgreSQL
    for chunk in _chunks(sorted({loc for loc, _sku in wanted})):
        query = (
            select(PICK_FACES)
            .where(PICK_FACES.c.location.in_(chunk))
            .order_by(PICK_FACES.c.location, PICK_FACES.c.sku)
        )
        if lock:
            query = query.with_for_update()
        found += [
            PickFace(r.location, r.sku, r.min_qty, r.max_qty)
            for r in conn.execute(query)
            if (r.location, r.sku) in wanted
        ]
    held = {(f.location, f.sku): StockLot(f.location, f.sku, 0) for f in found}
    for chunk in _chunks(sorted({loc for loc, _sku in held})):
        for r in conn.execute(select(STOCK).where(STOCK.c.location.in_(chunk))):
            place = (str(r.location), str(r.sku))
            if place in held:
                held[place] = _lot(r)
    return [(f, held[(f.location, f.sku)]) for f in found]


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


def reserves_stock(conn: Connection, skus: Iterable[str]) -> dict[str, list[StockLot]]:
    """SKU -> its stock at reserve locations (by location)."""
    out: dict[str, list[StockLot]] = {}
    for chunk in _chunks(sorted(set(skus))):
        rows = conn.execute(
            select(STOCK)
            .join(LOCATIONS, LOCATIONS.c.code == STOCK.c.location)
            .where(STOCK.c.sku.in_(chunk))
            .where(LOCATIONS.c.kind == "reserve")
            .order_by(STOCK.c.sku, STOCK.c.location)
        )
        for r in rows:
            out.setdefault(str(r.sku), []).append(_lot(r))
    return out


def faces_open_refills(conn: Connection, found: Iterable[PickFace]) -> dict[Place, list[str]]:
    """(location, SKU) -> ids of the open replenishment tasks of each face of ``found``."""
    out: dict[Place, list[str]] = {}
    for chunk in _chunks(sorted({(f.location, f.sku) for f in found})):
        rows = conn.execute(
            select(STOCK_TASKS.c.task_id, STOCK_TASKS.c.to_location, STOCK_TASKS.c.sku)
            .where(STOCK_TASKS.c.kind == StockTaskKind.REPLENISH.value)
            .where(STOCK_TASKS.c.state.in_(OPEN_STATES))
            .where(tuple_(STOCK_TASKS.c.to_location, STOCK_TASKS.c.sku).in_(chunk))
            .order_by(STOCK_TASKS.c.task_id)
        )
        for r in rows:
            out.setdefault((str(r.to_location), str(r.sku)), []).append(str(r.task_id))
    return out


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
    needy: list[tuple[PickFace, bool, StockLot]] = []
    for face, held in faces(conn, set(places) | urgent_places, lock=True):
        is_urgent = (face.location, face.sku) in urgent_places
        if is_urgent:  # the picker found it empty: whatever the hub thought it held
            held = StockLot(face.location, face.sku, 0, 0)
        if is_urgent or face.needs_refill(held.on_hand, held.reserved):
            needy.append((face, is_urgent, held))
    if not needy:
        return []
    made: list[StockTaskRecord] = []
    refilling = faces_open_refills(conn, [face for face, _u, _h in needy])
    if refilling:
        waiting = []
        for face, is_urgent, held in needy:
            open_ids = refilling.get((face.location, face.sku))
            if not open_ids:
                waiting.append((face, is_urgent, held))
            elif is_urgent:
                made += _make_urgent(conn, open_ids, out, _why(face, None, urgent=True), now)
        needy = waiting
    if not needy:
        return made
    today = today_of(now)
    reserves = reserves_stock(conn, [face.sku for face, _u, _h in needy])
    gtin_of = gtins(conn, [face.sku for face, _u, _h in needy])
    for face, is_urgent, held in needy:
        source = choose_source(face, held, reserves.get(face.sku, []), today=today)
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
