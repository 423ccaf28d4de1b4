"""Pick tasks from reserved stock: batches of orders onto carts, lines in walking order.

Reserved, unbatched orders are batched with :func:`floor_app.domain.batching.form_batches`
(orders picked in one zone are batched within it); each batch becomes one
:class:`~floor_app.domain.picking.PickTask` whose lines follow the batch's route from
:func:`floor_app.domain.routing.plan_route`. A site without a stored floor layout falls
back to batches in priority order walked S-shape by (aisle, bay)
(:func:`floor_app.domain.tasks.serpentine_order`). Each order also gets the least loaded
pack station.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, or_, select, update

from floor_app.domain.batching import BatchingError, BatchOrder, form_batches
from floor_app.domain.errors import DomainError
from floor_app.domain.layout import Layout
from floor_app.domain.location import Location, LocationKind, Side
from floor_app.domain.order import OrderState
from floor_app.domain.picking import PickLine, PickTask, TaskState, Tote
from floor_app.domain.tasks import serpentine_order

from .outbound import Outbound
from .repositories import ORDERS, OrderRecord, TaskRecord, insert_task, load_orders, save_orders
from .site_data import load_layout, next_counter
from .stock import RESERVATIONS
from .tables import DeviceRow, LocationRow, SkuRow, StockRow, table_of

log = logging.getLogger("floor.hub.tasks")

DEVICES = table_of(DeviceRow)
LOCATIONS = table_of(LocationRow)
SKUS = table_of(SkuRow)
STOCK = table_of(StockRow)

#: Orders in these states count towards a pack station's load.
STATION_LOAD_STATES = tuple(
    s.value
    for s in (
        OrderState.ALLOCATED,
        OrderState.PICKING,
        OrderState.PICKED,
        OrderState.PACKING,
        OrderState.SHORT,
    )
)


@dataclass(frozen=True, slots=True)
class TaskStop:
    """Reserved units of one order line at one location: one line of a future task."""

    order_id: str
    line_no: int
    sku: str
    location: Location
    qty: int


def location_from_row(r: Any) -> Location:
    """A :class:`Location` from a ``locations`` row."""
    return Location(
        code=r.code,
        site="",
        zone=r.zone,
        aisle=r.aisle,
        bay=r.bay,
        level=r.level,
        bin=r.bin,
        x=r.x,
        y=r.y,
        kind=LocationKind(r.kind),
        side=Side(r.side),
    )


def load_locations(conn: Connection, codes: Sequence[str]) -> dict[str, Location]:
    """Location code -> :class:`Location` for the codes that exist."""
    out: dict[str, Location] = {}
    unique = sorted(set(codes))
    for start in range(0, len(unique), 500):
        for row in conn.execute(
            select(LOCATIONS).where(LOCATIONS.c.code.in_(unique[start : start + 500]))
        ):
            out[row.code] = location_from_row(row)
    return out


def gtins(conn: Connection, skus: Sequence[str]) -> dict[str, str]:
    """SKU -> GTIN-14."""
    unique = sorted(set(skus))
    out: dict[str, str] = {}
    for start in range(0, len(unique), 500):
        for row in conn.execute(
            select(SKUS.c.sku, SKUS.c.gtin).where(SKUS.c.sku.in_(unique[start : start + 500]))
        ):
            out[row.sku] = row.gtin
    return out


def lots_at(
    conn: Connection, places: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """(location, sku) -> the tracking fields of a pick line there: for a lot-tracked item
    the lot the location holds and its expiry; for a serial-tracked one, that it is."""
    skus = sorted({sku for _loc, sku in places})
    tracked: dict[str, tuple[bool, bool]] = {}
    for start in range(0, len(skus), 500):
        for r in conn.execute(
            select(SKUS.c.sku, SKUS.c.lot_tracked, SKUS.c.serial_tracked)
            .where(SKUS.c.sku.in_(skus[start : start + 500]))
            .where(or_(SKUS.c.lot_tracked.is_(True), SKUS.c.serial_tracked.is_(True)))
        ):
            tracked[r.sku] = (bool(r.lot_tracked), bool(r.serial_tracked))
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for loc, sku in places:
        if sku not in tracked or (loc, sku) in out:
            continue
        lots, serials = tracked[sku]
        fields: dict[str, Any] = {"serial_tracked": serials}
        if lots:
            row = conn.execute(
                select(STOCK.c.lot, STOCK.c.expiry).where(
                    STOCK.c.location == loc, STOCK.c.sku == sku
                )
            ).first()
            fields.update(
                lot_tracked=True, lot=row.lot if row else "", expiry=row.expiry if row else ""
            )
        out[loc, sku] = fields
    return out


def serpentine(stops: list[TaskStop]) -> list[TaskStop]:
    """The fallback walk: aisle by aisle, up odd aisles and down even ones."""
    return [stops[i] for i in serpentine_order([s.location for s in stops])]


def zone_groups(stops: dict[str, list[TaskStop]], priority: dict[str, int]) -> list[list[str]]:
    """Orders grouped by the zone they are picked in (one zone each, or ``*`` for mixed)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for order_id, own in stops.items():
        zones = sorted({s.location.zone for s in own})
        groups[zones[0] if len(zones) == 1 else "*"].append(order_id)
    return [sorted(ids, key=lambda o: (priority[o], o)) for _, ids in sorted(groups.items())]


def walks(
    layout: Layout | None, order_ids: list[str], stops: dict[str, list[TaskStop]], cart: int
) -> list[list[TaskStop]]:
    """The batches of ``order_ids``, each as its stops in walking order."""
    if layout is not None:
        try:
            plan = form_batches(
                [
                    BatchOrder(o, tuple(s.location for s in stops[o]), sum(s.qty for s in stops[o]))
                    for o in order_ids
                ],
                layout,
                totes_per_cart=cart,
            )
        except (BatchingError, DomainError) as exc:
            log.warning("batching failed (%s); falling back to the S-shape walk", exc)
        else:
            out: list[list[TaskStop]] = []
            for batch in plan.batches:
                walk: list[TaskStop] = []
                used: set[int] = set()
                for order_id, stop in batch.picks:
                    for s in stops[order_id]:
                        if id(s) not in used and s.location is stop:
                            walk.append(s)
                            used.add(id(s))
                            break
                out.append(walk)
            rest = [r.order_id for r in plan.rejected]
            for start in range(0, len(rest), cart):
                out.append(serpentine([s for o in rest[start : start + cart] for s in stops[o]]))
            return out
    return [
        serpentine([s for o in order_ids[start : start + cart] for s in stops[o]])
        for start in range(0, len(order_ids), cart)
    ]


def make_task(
    conn: Connection,
    walk: list[TaskStop],
    sku_gtins: dict[str, str],
    *,
    priority: int,
    now: float,
    origin: str = "allocation",
    stations: dict[str, str] | None = None,
) -> TaskRecord:
    """Store a new open task picking ``walk`` in this order, one tote per order; each tote
    goes to its order's pack station (``stations``: order -> station) once picked. The
    picker scans the physical totes when the task starts."""
    task_id = f"PT-{next_counter(conn, 'task_counter'):06d}"
    positions: dict[str, int] = {}
    for s in walk:
        positions.setdefault(s.order_id, len(positions) + 1)
    lots = lots_at(conn, [(s.location.code, s.sku) for s in walk])
    lines = [
        PickLine(
            line_id=f"{task_id}-{n + 1:03d}",
            order_id=s.order_id,
            order_line_no=s.line_no,
            sku=s.sku,
            gtin=sku_gtins.get(s.sku, "00000000000000"),
            location=s.location.code,
            qty=s.qty,
            tote_position=positions[s.order_id],
            sequence=n,
            **lots.get((s.location.code, s.sku), {}),
        )
        for n, s in enumerate(walk)
    ]
    task = PickTask(
        task_id,
        lines,
        batch_id=task_id,
        zone=",".join(sorted({s.location.zone for s in walk})),
        state=TaskState.OPEN,
        totes=[Tote("", p, o, (stations or {}).get(o, "")) for o, p in positions.items()],
    )
    rec = TaskRecord(task, priority=priority, origin=origin)
    insert_task(conn, rec, now=now)
    for s in walk:
        conn.execute(
            update(RESERVATIONS)
            .where(RESERVATIONS.c.order_id == s.order_id)
            .where(RESERVATIONS.c.line_no == s.line_no)
            .where(RESERVATIONS.c.location == s.location.code)
            .values(task_id=task_id)
        )
    return rec


#: Orders in these states have their reserved units batched into tasks (units of a finished
#: task that were not picked are reserved again while the order is picking or short).
BATCHABLE_STATES = tuple(
    s.value for s in (OrderState.ALLOCATED, OrderState.PICKING, OrderState.SHORT)
)


def unbatched_order_ids(conn: Connection, limit: int) -> list[str]:
    """Orders with reservations not on a task yet, most urgent first."""
    pending = (
        select(RESERVATIONS.c.order_id)
        .where(RESERVATIONS.c.task_id.is_(None))
        .where(RESERVATIONS.c.qty > 0)
        .distinct()
        .subquery()
    )
    return list(
        conn.execute(
            select(ORDERS.c.order_id)
            .join(pending, pending.c.order_id == ORDERS.c.order_id)
            .where(ORDERS.c.state.in_(BATCHABLE_STATES))
            .order_by(ORDERS.c.priority, ORDERS.c.received_at, ORDERS.c.order_id)
            .limit(limit)
        ).scalars()
    )


def batch_orders(
    conn: Connection, out: Outbound, now: float, *, wave_size: int, totes_per_cart: int
) -> list[TaskRecord]:
    """Turn reserved, unbatched orders into open pick tasks (in the caller's transaction)."""
    candidates = unbatched_order_ids(conn, wave_size)
    if not candidates:
        return []
    recs = load_orders(conn, candidates, lock=True, skip_locked=True)
    if not recs:
        return []
    rows = conn.execute(
        select(RESERVATIONS)
        .where(RESERVATIONS.c.order_id.in_(sorted(recs)))
        .where(RESERVATIONS.c.task_id.is_(None))
        .where(RESERVATIONS.c.qty > 0)
        .order_by(RESERVATIONS.c.order_id, RESERVATIONS.c.line_no, RESERVATIONS.c.location)
    ).all()
    locations = load_locations(conn, [r.location for r in rows])
    stops: dict[str, list[TaskStop]] = defaultdict(list)
    for r in rows:
        loc = locations.get(r.location)
        if loc is None or loc.aisle < 1:
            log.warning("reservation of %s at %s cannot be walked to", r.order_id, r.location)
            continue
        stops[r.order_id].append(TaskStop(r.order_id, r.line_no, r.sku, loc, r.qty))
    if not stops:
        return []
    layout = load_layout(conn)
    priority = {o: recs[o].order.priority for o in stops}
    sku_gtins = gtins(conn, [s.sku for own in stops.values() for s in own])
    assign_pack_stations(conn, [recs[o] for o in sorted(stops)])
    stations = {o: recs[o].pack_station for o in stops if recs[o].pack_station}
    created: list[TaskRecord] = []
    for group in zone_groups(stops, priority):
        for walk in walks(layout, group, stops, totes_per_cart):
            if walk:
                urgent = min(priority[s.order_id] for s in walk)
                created.append(
                    make_task(conn, walk, sku_gtins, priority=urgent, now=now, stations=stations)
                )
    save_orders(conn, recs.values(), now=now)
    return created


def assign_pack_stations(conn: Connection, recs: list[OrderRecord]) -> None:
    """Give each order without one the pack station with the fewest orders in flight."""
    stations = sorted(
        set(
            conn.execute(
                select(DEVICES.c.station)
                .where(DEVICES.c.station != "")
                .where(DEVICES.c.active.is_(True))
            ).scalars()
        )
    )
    if not stations:
        return
    load = dict.fromkeys(stations, 0)
    for station, count in conn.execute(
        select(ORDERS.c.pack_station, func.count())
        .where(ORDERS.c.pack_station.in_(stations))
        .where(ORDERS.c.state.in_(STATION_LOAD_STATES))
        .group_by(ORDERS.c.pack_station)
    ):
        load[station] = int(count)
    for rec in recs:
        if rec.pack_station:
            continue
        station = min(stations, key=lambda s: (load[s], s))
        rec.pack_station = station
        load[station] += 1
