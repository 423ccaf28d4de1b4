"""Where a closed receipt's good units go: put-away tasks from the dock, by site rule.

``pick_face`` (the default): to the SKU's pick face while it is below its maximum (counting
units already on their way there, and only when the face is empty or holds the same lot),
the rest to reserve. ``reserve``: everything to reserve (the pick face is refilled from
there by replenishment). A reserve location is one holding the same SKU and lot, else an
empty one (nothing on hand, nothing on its way), in the pick face's zone first; with none
free the task names no destination and the user puts the units in any storage location.

The tasks are ordinary put-away stock tasks (:mod:`hub.stock_tasks`), leased to pickers'
devices and confirmed by a location scan, offline like every other flow. Units at the dock
are never promised to orders: they are available once put away.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

from sqlalchemy import Connection, func, select

from floor_app.domain.receiving import Receipt
from floor_app.domain.stockwork import StockTaskKind

from ..stock_tasks import OPEN_STATES, STOCK_TASKS, StockTaskRecord, create
from ..tables import LocationRow, PickFaceRow, SkuRow, StockRow, table_of
from .receipts import COUNTS

PutawayRule = Literal["pick_face", "reserve"]
RULES: tuple[PutawayRule, ...] = ("pick_face", "reserve")
#: Empty reserve locations read per plan (a receipt never needs more).
_EMPTY_LIMIT = 500

FACES = table_of(PickFaceRow)
STOCK = table_of(StockRow)
LOCATIONS = table_of(LocationRow)
SKUS = table_of(SkuRow)


def _good_units(conn: Connection, receipt_id: str) -> list[tuple[str, str, str, str, int]]:
    """(dock, SKU, lot, expiry, units) of good units counted on the receipt."""
    rows = conn.execute(
        select(
            COUNTS.c.location, COUNTS.c.sku, COUNTS.c.lot, COUNTS.c.expiry, func.sum(COUNTS.c.qty)
        )
        .where(COUNTS.c.receipt_id == receipt_id)
        .where(COUNTS.c.condition == "good")
        .group_by(COUNTS.c.location, COUNTS.c.sku, COUNTS.c.lot, COUNTS.c.expiry)
        .order_by(COUNTS.c.sku, COUNTS.c.lot, COUNTS.c.location, COUNTS.c.expiry)
    ).all()
    return [(r[0], r[1], r[2], r[3], int(r[4])) for r in rows if int(r[4] or 0) > 0]


def _inbound(conn: Connection) -> tuple[dict[str, int], dict[str, set[tuple[str, str]]]]:
    """Units on their way to each location (open move tasks), and the (SKU, lot) they are."""
    units: dict[str, int] = defaultdict(int)
    kinds: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for loc, sku, lot, n in conn.execute(
        select(
            STOCK_TASKS.c.to_location,
            STOCK_TASKS.c.sku,
            STOCK_TASKS.c.lot,
            func.sum(STOCK_TASKS.c.qty - STOCK_TASKS.c.moved),
        )
        .where(STOCK_TASKS.c.state.in_(OPEN_STATES))
        .where(STOCK_TASKS.c.kind != StockTaskKind.COUNT.value)
        .where(STOCK_TASKS.c.to_location != "")
        .group_by(STOCK_TASKS.c.to_location, STOCK_TASKS.c.sku, STOCK_TASKS.c.lot)
    ):
        units[str(loc)] += int(n or 0)
        kinds[str(loc)].add((str(sku), str(lot or "")))
    return units, kinds


class _Places:
    """The SKUs' pick faces, the reserve locations that could take them, what those hold
    and what is on its way to them (open tasks, and this plan's), read once per plan.

    A location holds one lot of one SKU: a place already holding, or about to receive,
    anything else is never chosen."""

    def __init__(self, conn: Connection, skus: set[str]) -> None:
        inbound, self.kinds = _inbound(conn)
        self.inbound = defaultdict(int, inbound)
        self.faces: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for sku, face, max_qty in conn.execute(
            select(FACES.c.sku, FACES.c.location, FACES.c.max_qty)
            .where(FACES.c.sku.in_(sorted(skus)))
            .order_by(FACES.c.location)
        ):
            self.faces[str(sku)].append((str(face), int(max_qty)))
        faces = sorted({loc for locs in self.faces.values() for loc, _ in locs})
        self.zone: dict[str, str] = {
            str(r.code): str(r.zone)
            for r in conn.execute(
                select(LOCATIONS.c.code, LOCATIONS.c.zone).where(LOCATIONS.c.code.in_(faces))
            )
        }
        reserve = LOCATIONS.c.kind == "reserve"
        holding = (
            select(STOCK.c.location, STOCK.c.sku, STOCK.c.lot, STOCK.c.qty, LOCATIONS.c.zone)
            .join(LOCATIONS, LOCATIONS.c.code == STOCK.c.location)
            .where(STOCK.c.qty > 0)
            .where(STOCK.c.location.in_(faces) | (reserve & STOCK.c.sku.in_(sorted(skus))))
        )
        self.on_hand: dict[str, int] = defaultdict(int)
        self.reserve: set[tuple[str, str]] = set()
        for loc, sku, lot, qty, zone in conn.execute(holding):
            self.on_hand[str(loc)] += int(qty)
            self.kinds[str(loc)].add((str(sku), str(lot or "")))
            if str(loc) not in self.zone:
                self.reserve.add((str(loc), str(zone)))
        occupied = select(STOCK.c.location).where(STOCK.c.qty > 0)
        self.empty: list[tuple[str, str]] = [
            (str(r.code), str(r.zone))
            for r in conn.execute(
                select(LOCATIONS.c.code, LOCATIONS.c.zone)
                .where(reserve)
                .where(LOCATIONS.c.code.not_in(occupied))
                .order_by(LOCATIONS.c.code)
                .limit(_EMPTY_LIMIT)
            )
        ]

    def takes(self, location: str, sku: str, lot: str) -> bool:
        """True when ``location`` holds and expects nothing but ``sku`` of ``lot``."""
        return self.kinds.get(location, set()) <= {(sku, lot)}

    def face_room(self, sku: str, lot: str) -> tuple[str, int] | None:
        for location, max_qty in self.faces.get(sku, []):
            if not self.takes(location, sku, lot):
                continue
            room = max_qty - self.on_hand[location] - self.inbound[location]
            if room > 0:
                return location, room
        return None

    def reserve_for(self, sku: str, lot: str) -> str:
        zones = {self.zone.get(loc) for loc, _ in self.faces.get(sku, [])}

        def rank(place: tuple[str, str]) -> tuple[bool, str]:
            return (place[1] not in zones, place[0])

        for code, _zone in sorted(self.reserve, key=rank):
            if self.takes(code, sku, lot):
                return code
        for code, _zone in sorted(self.empty, key=rank):
            if not self.kinds.get(code):
                return code
        return ""

    def sending(self, location: str, sku: str, lot: str, qty: int) -> None:
        if location:
            self.inbound[location] += qty
            self.kinds[location].add((sku, lot))


def plan_putaway(
    conn: Connection,
    receipt: Receipt,
    *,
    rule: str = "pick_face",
    groups: list[tuple[str, str, str, str, int]] | None = None,
) -> list[StockTaskRecord]:
    """The put-away tasks of the receipt's good units (not yet written); of ``groups``
    (dock, SKU, lot, expiry, units) only, when given (units counted late)."""
    if groups is None:
        groups = _good_units(conn, receipt.receipt_id)
    if not groups:
        return []
    places = _Places(conn, {g[1] for g in groups})
    gtin = {
        r.sku: r.gtin
        for r in conn.execute(
            select(SKUS.c.sku, SKUS.c.gtin).where(SKUS.c.sku.in_(sorted({g[1] for g in groups})))
        )
    }
    tasks: list[StockTaskRecord] = []
    for dock, sku, lot, expiry, units in groups:
        left = units
        legs: list[tuple[str, int]] = []
        if rule == "pick_face":
            face = places.face_room(sku, lot)
            if face is not None:
                n = min(face[1], left)
                legs.append((face[0], n))
                places.sending(face[0], sku, lot, n)
                left -= n
        if left > 0:
            where = places.reserve_for(sku, lot)
            legs.append((where, left))
            places.sending(where, sku, lot, left)
        for to_location, qty in legs:
            tasks.append(
                create(
                    conn,
                    StockTaskKind.PUTAWAY,
                    sku=sku,
                    gtin=gtin.get(sku, ""),
                    from_location=dock,
                    to_location=to_location,
                    qty=qty,
                    lot=lot,
                    expiry=expiry,
                    reason=f"received on {receipt.reference}",
                    origin="receipt",
                    origin_ref=receipt.receipt_id,
                    description=f"receipt {receipt.reference}",
                )
            )
    return tasks
