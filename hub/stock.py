"""Stock per location and reservations that never oversell.

A reservation takes units with one conditional statement per stock row::

    UPDATE stock SET reserved = reserved + :n
    WHERE location = :loc AND sku = :sku AND qty - reserved >= :n

On PostgreSQL (READ COMMITTED) a concurrent allocator that updated the row first makes
this statement wait and then re-check its condition against the committed row, so two
allocators can never both take the last units. Rows are taken in one global order (SKU,
then pick faces before reserve, then location code), so allocators never deadlock.

Physical facts (picks, shortages, returns) change stock with arithmetic updates collected
in :class:`StockChanges` and written once per transaction, sorted. Every change of on-hand
units is also written to the stock ledger with its cause (the device and sequence of the
event, or a count or load that sets a new baseline): ``floor-hub stock check``
(:mod:`hub.stock_check`) replays it against the stock table and the inbox.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, and_, case, delete, insert, or_, select, text, update

from floor_app.domain.order import OrderLine

from .bulk import Change, insert_rows, update_rows
from .repositories import OrderRecord
from .tables import LocationRow, ReservationRow, StockLedgerRow, StockRow, table_of

STOCK = table_of(StockRow)
LOCATIONS = table_of(LocationRow)
RESERVATIONS = table_of(ReservationRow)
LEDGER = table_of(StockLedgerRow)

#: Location kinds whose stock is on hand but never promised to an order.
UNRESERVABLE = ("quarantine", "dock")

_TAKE = text(
    "UPDATE stock SET reserved = reserved + :n "
    "WHERE location = :loc AND sku = :sku AND qty - reserved >= :n"
)


@dataclass(frozen=True, slots=True)
class Taken:
    """Units reserved at one location."""

    location: str
    qty: int


def candidates(conn: Connection, sku: str, exclude: Iterable[str] = ()) -> list[tuple[str, int]]:
    """(location, free units) holding ``sku``, in the order reservations take them: pick
    faces first, then first expiry first (FEFO; no expiry last). Never a quarantine location
    or a dock
    (its units are on hand but not for sale), never a lot that has expired."""
    excluded = set(exclude)
    rank = case((LOCATIONS.c.kind == "pick", 0), else_=1)
    today = dt.date.today().isoformat()
    no_expiry = case((STOCK.c.expiry == "", 1), else_=0)
    rows = conn.execute(
        select(STOCK.c.location, (STOCK.c.qty - STOCK.c.reserved).label("free"))
        .select_from(STOCK.outerjoin(LOCATIONS, LOCATIONS.c.code == STOCK.c.location))
        .where(STOCK.c.sku == sku)
        .where(STOCK.c.qty - STOCK.c.reserved > 0)
        .where(or_(LOCATIONS.c.kind.is_(None), LOCATIONS.c.kind.not_in(UNRESERVABLE)))
        .where(or_(STOCK.c.expiry == "", STOCK.c.expiry >= today))
        .order_by(rank, no_expiry, STOCK.c.expiry, STOCK.c.location)
    ).all()
    return [(r.location, int(r.free)) for r in rows if r.location not in excluded]


def take(conn: Connection, location: str, sku: str, qty: int) -> int:
    """Reserve up to ``qty`` units of ``sku`` at ``location``; how many were reserved."""
    want = qty
    while want > 0:
        done = conn.execute(_TAKE, {"n": want, "loc": location, "sku": sku}).rowcount
        if done == 1:
            return want
        # someone reserved here meanwhile: see what is left now and try for that
        free = conn.execute(
            select(STOCK.c.qty - STOCK.c.reserved).where(
                and_(STOCK.c.location == location, STOCK.c.sku == sku)
            )
        ).scalar()
        want = min(want, int(free or 0))
    return 0


def reserve_units(conn: Connection, sku: str, qty: int, exclude: Iterable[str] = ()) -> list[Taken]:
    """Reserve up to ``qty`` units of ``sku`` across locations (fewer if stock is short)."""
    out: list[Taken] = []
    need = qty
    for location, free in candidates(conn, sku, exclude):
        if need <= 0:
            break
        got = take(conn, location, sku, min(need, free))
        if got:
            out.append(Taken(location, got))
            need -= got
    return out


def reserve_order(conn: Connection, rec: OrderRecord, *, now: float) -> list[str]:
    """Reserve every open unit of the order, all or nothing (a savepoint).

    Returns the reasons it could not (empty when it is reserved). Updates ``rec.reserved``
    and writes the reservation rows.
    """
    order = rec.order
    wanted: dict[str, int] = defaultdict(int)
    for ln in order.lines:
        need = ln.open_to_pick - rec.reserved.get(ln.line_no, 0)
        if need > 0:
            wanted[ln.sku] += need
    if not wanted:
        return []
    savepoint = conn.begin_nested()
    taken: dict[str, list[Taken]] = {}
    reasons: list[str] = []
    for sku in sorted(wanted):
        got = reserve_units(conn, sku, wanted[sku])
        have = sum(t.qty for t in got)
        if have < wanted[sku]:
            reasons.append(f"{sku}: {wanted[sku]} needed, {have} free")
        taken[sku] = got
    if reasons:
        savepoint.rollback()
        return reasons
    rows = []
    for ln in order.lines:
        need = ln.open_to_pick - rec.reserved.get(ln.line_no, 0)
        pool = taken.get(ln.sku, [])
        while need > 0 and pool:
            head = pool[0]
            n = min(need, head.qty)
            rows.append(
                {
                    "order_id": order.order_id,
                    "line_no": ln.line_no,
                    "location": head.location,
                    "sku": ln.sku,
                    "qty": n,
                    "task_id": None,
                    "at": now,
                }
            )
            rec.reserved[ln.line_no] = rec.reserved.get(ln.line_no, 0) + n
            need -= n
            if n == head.qty:
                pool.pop(0)
            else:
                pool[0] = Taken(head.location, head.qty - n)
    add_reservations(conn, rows)
    savepoint.commit()
    return []


def add_reservations(conn: Connection, rows: list[dict[str, object]]) -> None:
    """Insert reservation rows, adding to an existing (order, line, location) row."""
    for row in rows:
        done = conn.execute(
            update(RESERVATIONS)
            .where(RESERVATIONS.c.order_id == row["order_id"])
            .where(RESERVATIONS.c.line_no == row["line_no"])
            .where(RESERVATIONS.c.location == row["location"])
            .values(qty=RESERVATIONS.c.qty + row["qty"], task_id=row["task_id"])
        ).rowcount
        if not done:
            conn.execute(insert(RESERVATIONS).values(**row))


def reserve_line(
    conn: Connection,
    changes: StockChanges,
    rec: OrderRecord,
    line: OrderLine,
    units: int,
    *,
    exclude: list[str],
    now: float,
) -> list[Taken]:
    """Reserve up to ``units`` of an order line (not at ``exclude``), on no task yet: the
    next allocation pass batches them into a task. Updates ``rec.reserved``."""
    taken = reserve_units(conn, line.sku, units, exclude=exclude)
    add_reservations(
        conn,
        [
            {
                "order_id": rec.order_id,
                "line_no": line.line_no,
                "location": t.location,
                "sku": line.sku,
                "qty": t.qty,
                "task_id": None,
                "at": now,
            }
            for t in taken
        ],
    )
    rec.reserved[line.line_no] = rec.reserved.get(line.line_no, 0) + sum(t.qty for t in taken)
    changes.touched.update((t.location, line.sku) for t in taken)
    return taken


def reservations_of(
    conn: Connection, order_ids: Iterable[str]
) -> dict[str, list[tuple[int, str, str, int]]]:
    """Order id -> [(line_no, location, sku, qty)] of its open reservations."""
    ids = sorted(set(order_ids))
    out: dict[str, list[tuple[int, str, str, int]]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        for r in conn.execute(
            select(RESERVATIONS)
            .where(RESERVATIONS.c.order_id.in_(ids[start : start + 500]))
            .where(RESERVATIONS.c.qty > 0)
            .order_by(RESERVATIONS.c.order_id, RESERVATIONS.c.line_no, RESERVATIONS.c.location)
        ):
            out[r.order_id].append((r.line_no, r.location, r.sku, r.qty))
    return dict(out)


def release_order(conn: Connection, rec: OrderRecord, changes: StockChanges) -> int:
    """Give back every unit still reserved for the order; how many units were released."""
    released = 0
    for _line, location, sku, qty in reservations_of(conn, [rec.order_id]).get(rec.order_id, []):
        changes.reserve(location, sku, -qty)
        released += qty
    conn.execute(delete(RESERVATIONS).where(RESERVATIONS.c.order_id == rec.order_id))
    for line_no in rec.reserved:
        rec.reserved[line_no] = 0
    return released


@dataclass(frozen=True, slots=True)
class Cause:
    """Why on-hand stock changes: the event (type, device, sequence) or the hub's own act."""

    event_type: str = ""
    device_id: str = ""
    seq: int | None = None
    ref: str = ""
    user: str = ""


@dataclass
class StockChanges:
    """Arithmetic stock changes of one transaction, written sorted at the end.

    ``cause`` is the event being applied: every :meth:`move` is written to the ledger with
    it (the batch sets it before each event).
    """

    on_hand: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    reserved: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    consumed: dict[tuple[str, int, str], int] = field(default_factory=lambda: defaultdict(int))
    ledger: list[dict[str, object]] = field(default_factory=list)
    #: every (location, SKU) changed by this transaction (kept across flushes: refills
    #: look at them once the changes are written)
    touched: set[tuple[str, str]] = field(default_factory=set)
    cause: Cause = field(default_factory=Cause)
    now: float = 0.0

    def move(self, location: str, sku: str, delta: int, reason: str) -> None:
        """Units physically added (positive) or taken (negative) at ``location``."""
        if not delta:
            return
        self.on_hand[(location, sku)] += delta
        self.touched.add((location, sku))
        c = self.cause
        self.ledger.append(
            {
                "location": location,
                "sku": sku,
                "kind": "event",
                "delta": delta,
                "qty": None,
                "reason": reason,
                "event_type": c.event_type,
                "device_id": c.device_id,
                "seq": c.seq,
                "ref": c.ref[:64],
                "user": c.user[:64],
                "at": self.now,
            }
        )

    def reserve(self, location: str, sku: str, delta: int) -> None:
        """Change the units reserved at ``location`` (never below zero when written)."""
        self.reserved[(location, sku)] += delta
        self.touched.add((location, sku))

    def consume(self, order_id: str, line_no: int, location: str, qty: int) -> None:
        """A pick took ``qty`` reserved units of an order line at ``location``."""
        self.consumed[(order_id, line_no, location)] += qty

    def flush(self, conn: Connection) -> None:
        """Write the changes (stock rows sorted by location and SKU) and the ledger."""
        rows = [
            {
                "location": loc,
                "sku": sku,
                "qty": self.on_hand.get((loc, sku), 0),
                "reserved": self.reserved.get((loc, sku), 0),
            }
            for loc, sku in sorted(set(self.on_hand) | set(self.reserved))
            if self.on_hand.get((loc, sku), 0) or self.reserved.get((loc, sku), 0)
        ]
        matched = update_rows(
            conn,
            STOCK,
            ("location", "sku"),
            rows,
            changes={"qty": Change.ADD, "reserved": Change.ADD_NOT_BELOW_ZERO},
        )
        if matched < len(rows):
            _insert_missing(conn, rows)
        consumed = [
            {"order_id": o, "line_no": ln, "location": loc, "qty": n}
            for (o, ln, loc), n in sorted(self.consumed.items())
            if n
        ]
        update_rows(
            conn,
            RESERVATIONS,
            ("order_id", "line_no", "location"),
            consumed,
            changes={"qty": Change.SUBTRACT_NOT_BELOW_ZERO},
        )
        insert_rows(conn, LEDGER, self.ledger)
        self.on_hand.clear()
        self.reserved.clear()
        self.consumed.clear()
        self.ledger.clear()


def _insert_missing(conn: Connection, rows: list[dict[str, object]]) -> None:
    """Create the stock rows an update found missing (units put where none were before).

    Only on-hand changes create a row; its reservation starts at zero.
    """
    keys = {(str(r["location"]), str(r["sku"])) for r in rows}
    existing = {
        (r.location, r.sku)
        for r in conn.execute(
            select(STOCK.c.location, STOCK.c.sku).where(
                STOCK.c.location.in_(sorted({k[0] for k in keys}))
            )
        )
    }
    missing = [
        {"location": r["location"], "sku": r["sku"], "qty": r["qty"], "reserved": 0}
        for r in rows
        if (r["location"], r["sku"]) not in existing
    ]
    insert_rows(conn, STOCK, missing)


def set_baseline(
    conn: Connection,
    location: str,
    sku: str,
    qty: int,
    *,
    kind: str,
    reason: str,
    now: float,
    cause: Cause | None = None,
) -> int:
    """Make ``qty`` the on-hand of ``sku`` at ``location`` (a count or a load) and write it
    to the ledger as a baseline; the change from what the hub held (locks the row)."""
    if qty < 0:
        raise ValueError(f"stock cannot be set below zero ({qty} at {location})")
    held = conn.execute(
        select(STOCK.c.qty)
        .where(STOCK.c.location == location)
        .where(STOCK.c.sku == sku)
        .with_for_update()
    ).scalar()
    if held is None:
        conn.execute(insert(STOCK).values(location=location, sku=sku, qty=qty, reserved=0))
        before = 0
    else:
        before = int(held)
        conn.execute(
            update(STOCK)
            .where(STOCK.c.location == location)
            .where(STOCK.c.sku == sku)
            .values(qty=qty)
        )
    c = cause or Cause()
    conn.execute(
        insert(LEDGER).values(
            location=location,
            sku=sku,
            kind=kind,
            delta=qty - before,
            qty=qty,
            reason=reason,
            event_type=c.event_type,
            device_id=c.device_id,
            seq=c.seq,
            ref=c.ref[:64],
            user=c.user[:64],
            at=now,
        )
    )
    return qty - before


def stock_of(conn: Connection, sku: str) -> dict[str, tuple[int, int]]:
    """Location -> (on hand, reserved) for ``sku``."""
    return {
        r.location: (int(r.qty), int(r.reserved))
        for r in conn.execute(select(STOCK).where(STOCK.c.sku == sku))
    }
