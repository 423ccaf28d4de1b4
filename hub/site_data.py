"""The site's reference data in the hub database: meta values, the floor layout, counters,
SKUs, locations, stock, users, cartons and the device registry."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable

from sqlalchemy import Connection, Integer, String, cast, func, insert, select, update

from floor_app.domain.layout import Layout, LayoutError
from floor_app.domain.location import Location
from floor_app.domain.packing import Carton
from floor_app.domain.sku import Sku
from floor_app.domain.users import User

from .tables import (
    BarcodeRow,
    CartonRow,
    DeviceCursorRow,
    DeviceRow,
    HubMetaRow,
    LocationRow,
    OrderRow,
    PushStreamRow,
    SkuRow,
    StockLedgerRow,
    StockRow,
    UserRow,
    table_of,
)

META = table_of(HubMetaRow)
SKUS = table_of(SkuRow)
BARCODES = table_of(BarcodeRow)
LOCATIONS = table_of(LocationRow)
STOCK = table_of(StockRow)
LEDGER = table_of(StockLedgerRow)
USERS = table_of(UserRow)
CARTONS = table_of(CartonRow)
DEVICES = table_of(DeviceRow)
CURSORS = table_of(DeviceCursorRow)
STREAMS = table_of(PushStreamRow)
ORDERS_TABLE = table_of(OrderRow)

DEVICE_ROLES = ("picker", "packer", "supervisor")


def get_meta(conn: Connection, key: str, default: str | None = None) -> str | None:
    """The meta value ``key``."""
    value = conn.execute(select(META.c.value).where(META.c.key == key)).scalar()
    return default if value is None else str(value)


def set_meta(conn: Connection, key: str, value: str) -> None:
    """Set the meta value ``key``."""
    done = conn.execute(update(META).where(META.c.key == key).values(value=value)).rowcount
    if not done:
        conn.execute(insert(META).values(key=key, value=value))


def next_counter(conn: Connection, name: str) -> int:
    """The next number of the counter ``name`` (1, 2, ...), in the caller's transaction.

    One upsert takes the number: the first use makes the row, later ones add one to it; the
    row stays locked until the transaction ends, so two transactions never get the same
    number and neither fails on the new row."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    taken = (
        dialect.insert(META)
        .values(key=name, value="1")
        .on_conflict_do_update(
            index_elements=[META.c.key],
            set_={"value": cast(cast(META.c.value, Integer) + 1, String)},
        )
        .returning(META.c.value)
    )
    return int(conn.execute(taken).scalar_one())


def load_layout(conn: Connection) -> Layout | None:
    """The stored floor layout, or None when the site has none (or it is unreadable)."""
    raw = get_meta(conn, "layout")
    if not raw:
        return None
    try:
        return Layout.from_dict(json.loads(raw))
    except (ValueError, LayoutError):
        return None


def save_layout(conn: Connection, layout: Layout) -> None:
    """Store the floor layout (used for batching and pick routes)."""
    set_meta(conn, "layout", json.dumps(layout.to_dict()))


def known_skus(conn: Connection, skus: Iterable[str]) -> set[str]:
    """The SKUs among ``skus`` that the site stocks."""
    wanted = sorted(set(skus))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        found.update(
            conn.execute(
                select(SKUS.c.sku).where(SKUS.c.sku.in_(wanted[start : start + 500]))
            ).scalars()
        )
    return found


def add_skus(conn: Connection, skus: Iterable[Sku]) -> int:
    """Insert SKUs and their barcodes (each a unit barcode); how many SKUs."""
    skus = list(skus)
    rows = [
        {
            "sku": s.sku,
            "gtin": s.gtin,
            "description": s.description,
            "description_zh": s.description_zh,
            "length_mm": s.dimensions.length_mm if s.dimensions else None,
            "width_mm": s.dimensions.width_mm if s.dimensions else None,
            "height_mm": s.dimensions.height_mm if s.dimensions else None,
            "weight_g": s.weight_g,
        }
        for s in skus
    ]
    if rows:
        conn.execute(insert(SKUS), rows)
        conn.execute(
            insert(BARCODES),
            [
                {"gtin": gtin, "sku": s.sku, "pack_qty": 1}
                for s in skus
                for gtin in dict.fromkeys((s.gtin, *s.extra_gtins))
            ],
        )
    return len(rows)


def add_locations(conn: Connection, locations: Iterable[Location]) -> int:
    """Insert locations; how many."""
    rows = [
        {
            "code": loc.code,
            "zone": loc.zone,
            "aisle": loc.aisle,
            "bay": loc.bay,
            "level": loc.level,
            "bin": loc.bin,
            "x": loc.x,
            "y": loc.y,
            "kind": loc.kind.value,
            "side": loc.side.value,
        }
        for loc in locations
    ]
    if rows:
        conn.execute(insert(LOCATIONS), rows)
    return len(rows)


def add_stock(conn: Connection, records: Iterable[tuple[str, str, int]]) -> int:
    """Insert (location, sku, qty) stock rows, each a baseline in the stock ledger; how many."""
    now = time.time()
    rows = [{"location": loc, "sku": sku, "qty": qty, "reserved": 0} for loc, sku, qty in records]
    if rows:
        conn.execute(insert(STOCK), [{**r, "received_at": now} for r in rows])
        conn.execute(
            insert(LEDGER),
            [
                {
                    "location": r["location"],
                    "sku": r["sku"],
                    "kind": "load",
                    "delta": r["qty"],
                    "qty": r["qty"],
                    "reason": "load",
                    "ref": "site data",
                    "at": now,
                }
                for r in rows
            ],
        )
    return len(rows)


def set_lots(conn: Connection, records: Iterable[tuple[str, str, str, str, float | None]]) -> None:
    """Give stock rows their (location, sku, lot, expiry ISO date or "", received_at)."""
    for loc, sku, lot, expiry, received_at in records:
        conn.execute(
            update(STOCK)
            .where(STOCK.c.location == loc)
            .where(STOCK.c.sku == sku)
            .values(lot=lot, expiry=expiry, received_at=received_at)
        )


def add_users(conn: Connection, users: Iterable[User]) -> int:
    """Insert users; how many."""
    rows = [
        {
            "user_id": u.user_id,
            "name": u.name,
            "badge": u.badge,
            "roles": ",".join(sorted(u.roles)),
            "pin_hash": u.pin_hash,
            "active": u.active,
            "language": u.language,
        }
        for u in users
    ]
    if rows:
        conn.execute(insert(USERS), rows)
    return len(rows)


def add_cartons(conn: Connection, cartons: Iterable[Carton]) -> int:
    """Insert carton types; how many."""
    rows = [
        {
            "code": c.code,
            "length_mm": c.inner.length_mm,
            "width_mm": c.inner.width_mm,
            "height_mm": c.inner.height_mm,
            "tare_g": c.tare_g,
            "max_weight_g": c.max_weight_g,
            "cost": c.cost,
        }
        for c in cartons
    ]
    if rows:
        conn.execute(insert(CARTONS), rows)
    return len(rows)


def register_device(
    conn: Connection,
    device_id: str,
    role: str,
    *,
    station: str = "",
    zones: str = "",
    now: float | None = None,
) -> bool:
    """Register a device (and its inbox cursor and push stream); False if it was known."""
    if role not in DEVICE_ROLES:
        raise ValueError(f"device role {role!r} is not one of {', '.join(DEVICE_ROLES)}")
    if conn.execute(select(DEVICES.c.device_id).where(DEVICES.c.device_id == device_id)).first():
        return False
    conn.execute(
        insert(DEVICES).values(
            device_id=device_id,
            role=role,
            station=station,
            zones=zones,
            active=True,
            added_at=time.time() if now is None else now,
        )
    )
    conn.execute(insert(CURSORS).values(device_id=device_id, last_batch_at=None))
    if not conn.execute(
        select(STREAMS.c.device_id).where(STREAMS.c.device_id == device_id)
    ).first():
        conn.execute(insert(STREAMS).values(device_id=device_id, last_cursor=0))
    return True


def device_ids(conn: Connection) -> list[str]:
    """Every registered device id."""
    return list(conn.execute(select(DEVICES.c.device_id).order_by(DEVICES.c.device_id)).scalars())


def count_rows(conn: Connection, table: object) -> int:
    """Rows in ``table``."""
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]
