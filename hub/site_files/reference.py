"""The site's reference data on the devices: each version a load made, on every registered
device's push stream (so a device that was offline gets it when it is back, in order), and
the whole of it for a device registered later.

Items travel with every barcode they carry, locations with their place on the floor,
cartons with their sizes; users as the roster (:class:`~sync.protocol.RosterUpdate`). A
version is sent in parts of at most :data:`~sync.protocol.MAX_REFERENCE_PART` entries of a
kind; the device runs the version once it applied the last part and says so in its
heartbeat.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from sync.protocol import (
    MAX_REFERENCE_PART,
    CartonModel,
    ItemBarcodeModel,
    ItemModel,
    LocationModel,
    RosterUpdate,
    SiteReference,
    UserModel,
)

from ..outbound import Outbound
from ..site_data import device_ids, get_meta
from .tables import BARCODES, CARTONS, LOCATIONS, SKUS, USERS

#: The ``hub_meta`` key of the version of the site's reference data.
VERSION_KEY = "site_version"

_IN = 500

Keys = tuple[list[str], list[str]]  # (added or changed, removed)


def push_reference(
    conn: Connection,
    out: Outbound,
    version: int,
    *,
    items: Keys,
    locations: Keys,
    cartons: Keys,
    users: list[str],
    devices: Iterable[str] | None = None,
) -> int:
    """Send version ``version`` (what changed) to ``devices`` (every registered one by
    default); how many parts each device gets."""
    parts = _parts(conn, version, items, locations, cartons)
    roster = _roster(conn, users)
    targets = list(device_ids(conn) if devices is None else devices)
    for device in targets:
        for user_part in roster:
            out.push(device, user_part)
        for part in parts:
            out.push(device, part)
    return len(parts)


def send_reference(conn: Connection, out: Outbound, device_id: str) -> int:
    """Send a device all of the site's reference data (at the current version); how many
    parts. Nothing when the site was never loaded from files."""
    version = site_version(conn)
    if version < 1:
        return 0
    every = (
        list(conn.execute(select(SKUS.c.sku).order_by(SKUS.c.sku)).scalars()),
        list(conn.execute(select(LOCATIONS.c.code).order_by(LOCATIONS.c.code)).scalars()),
        list(conn.execute(select(CARTONS.c.code).order_by(CARTONS.c.code)).scalars()),
        list(conn.execute(select(USERS.c.user_id).order_by(USERS.c.user_id)).scalars()),
    )
    return push_reference(
        conn,
        out,
        version,
        items=(every[0], []),
        locations=(every[1], []),
        cartons=(every[2], []),
        users=every[3],
        devices=[device_id],
    )


def site_version(conn: Connection) -> int:
    """The version of the site's reference data (0: never loaded from files)."""
    return int(get_meta(conn, VERSION_KEY, "0") or 0)


def _parts(
    conn: Connection, version: int, items: Keys, locations: Keys, cartons: Keys
) -> list[SiteReference]:
    """The version as parts: each kind's changes and removals cut at the part size."""
    chunks: list[dict[str, Any]] = []
    kinds = (
        ("items", _items(conn, items[0]), "removed_items", items[1]),
        ("locations", _locations(conn, locations[0]), "removed_locations", locations[1]),
        ("cartons", _cartons(conn, cartons[0]), "removed_cartons", cartons[1]),
    )
    for name, models, removed_name, removed in kinds:
        # removals first: a barcode or code an entry gives up may be another's now
        for start in range(0, len(removed), MAX_REFERENCE_PART):
            chunks.append({removed_name: removed[start : start + MAX_REFERENCE_PART]})
        for start in range(0, len(models), MAX_REFERENCE_PART):
            chunks.append({name: models[start : start + MAX_REFERENCE_PART]})
    if not chunks:
        chunks.append({})  # a version with no device data (stock, faces...): still its number
    return [
        SiteReference(version=version, part=n, parts=len(chunks), **chunk)
        for n, chunk in enumerate(chunks, start=1)
    ]


def _in(conn: Connection, table: Any, column: Any, keys: list[str]) -> list[Any]:
    rows: list[Any] = []
    for start in range(0, len(keys), _IN):
        rows.extend(conn.execute(select(table).where(column.in_(keys[start : start + _IN]))))
    return rows


def _items(conn: Connection, skus: list[str]) -> list[ItemModel]:
    barcodes: dict[str, list[ItemBarcodeModel]] = {}
    for r in _in(conn, BARCODES, BARCODES.c.sku, skus):
        barcodes.setdefault(r.sku, []).append(ItemBarcodeModel(gtin=r.gtin, pack_qty=r.pack_qty))
    return [
        ItemModel.model_validate(
            {**r._mapping, "barcodes": sorted(barcodes.get(r.sku, []), key=_barcode_order)}
        )
        for r in sorted(_in(conn, SKUS, SKUS.c.sku, skus), key=lambda r: r.sku)
    ]


def _barcode_order(b: ItemBarcodeModel) -> tuple[int, str]:
    return b.pack_qty, b.gtin


def _locations(conn: Connection, codes: list[str]) -> list[LocationModel]:
    rows = sorted(_in(conn, LOCATIONS, LOCATIONS.c.code, codes), key=lambda r: r.code)
    return [LocationModel.model_validate(dict(r._mapping)) for r in rows]


def _cartons(conn: Connection, codes: list[str]) -> list[CartonModel]:
    rows = sorted(_in(conn, CARTONS, CARTONS.c.code, codes), key=lambda r: r.code)
    return [CartonModel.model_validate(dict(r._mapping)) for r in rows]


def _roster(conn: Connection, user_ids: list[str]) -> list[RosterUpdate]:
    users = [
        UserModel(
            user_id=r.user_id,
            name=r.name,
            badge=r.badge,
            roles=sorted(x for x in r.roles.split(",") if x),
            pin_hash=r.pin_hash,
            active=r.active,
            language=r.language,
        )
        for r in sorted(_in(conn, USERS, USERS.c.user_id, user_ids), key=lambda r: r.user_id)
    ]
    return [
        RosterUpdate(users=users[start : start + MAX_REFERENCE_PART])
        for start in range(0, len(users), MAX_REFERENCE_PART)
    ]
