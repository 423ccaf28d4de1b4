"""``floor-hub site export DIR``: the site as the hub holds it, as the files a load reads.

Rows are sorted by their key and written in one canonical form (a unit GTIN that starts
with 0 as its 13 digits, yes/no for flags, empty cells for what is not set), so an export of
a load of canonical files gives the same bytes back; ``layout.toml`` and ``carriers.toml``
are written as they were loaded (comments and all) while the hub still holds what they say.
PINs leave only as their argon2 hashes (the ``pin_hash`` column, which a load takes as it
is).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from sqlalchemy import Connection, Engine, select

from floor_app.carrier_rules import RulesFile
from floor_app.domain.layout import layout_from_mapping

from ..carrier_rules import RULES_KEY
from ..database import run_transaction
from ..site_data import get_meta, load_layout
from ..totes import tote_list_of
from .csvfile import write_rows
from .load import CARRIERS_TEXT_KEY, LAYOUT_TEXT_KEY
from .tables import BARCODES, CARTONS, FACES, LOCATIONS, SERIALS, SKUS, STOCK, USERS


def export_site(engine: Engine, directory: Path) -> dict[str, int]:
    """Write the site files into ``directory`` (made if need be); rows written per file."""
    directory.mkdir(parents=True, exist_ok=True)
    return run_transaction(engine, lambda conn: _export(conn, directory), what="site export")


def _export(conn: Connection, directory: Path) -> dict[str, int]:
    written: dict[str, int] = {}
    layout = load_layout(conn)
    if layout is not None:
        text = get_meta(conn, LAYOUT_TEXT_KEY, "") or ""
        if _toml_is(text, lambda d: layout_from_mapping(d).to_dict() == layout.to_dict()):
            (directory / "layout.toml").write_text(text, encoding="utf-8")
        else:
            (directory / "layout.toml").write_text(
                tomli_w.dumps(layout.to_dict()), encoding="utf-8"
            )
        written["layout.toml"] = 1
    rules = get_meta(conn, RULES_KEY)
    if rules:
        text = get_meta(conn, CARRIERS_TEXT_KEY, "") or ""
        if _toml_is(text, lambda d: RulesFile.model_validate(d).model_dump_json() == rules):
            (directory / "carriers.toml").write_text(text, encoding="utf-8")
        else:
            data = RulesFile.model_validate(json.loads(rules)).model_dump(mode="json")
            (directory / "carriers.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
        written["carriers.toml"] = 1
    for name, rows in _tables(conn).items():
        write_rows(directory / name, HEADERS[name], rows)
        written[name] = len(rows)
    return written


def _toml_is(text: str, same: Any) -> bool:
    if not text:
        return False
    try:
        return bool(same(tomllib.loads(text)))
    except (ValueError, tomllib.TOMLDecodeError):
        return False


#: The columns of each file as written (users: the PIN's hash, never a PIN).
HEADERS: dict[str, tuple[str, ...]] = {
    "items.csv": (
        "sku",
        "name",
        "name_zh",
        "length_mm",
        "width_mm",
        "height_mm",
        "weight_g",
        "lot_tracked",
        "serial_tracked",
        "shelf_life_days",
    ),
    "barcodes.csv": ("barcode", "sku", "pack_qty"),
    "locations.csv": ("code", "type", "zone", "aisle", "bay", "level", "x_m", "y_m"),
    "users.csv": ("user_id", "name", "badge", "roles", "language", "pin_hash", "active"),
    "totes.csv": ("tote", "cart", "position"),
    "cartons.csv": ("code", "length_mm", "width_mm", "height_mm", "tare_g", "max_weight_g", "cost"),
    "pick_faces.csv": ("location", "sku", "min", "max"),
    "stock.csv": ("location", "sku", "qty", "lot", "expiry", "serials"),
}


def _tables(conn: Connection) -> dict[str, list[tuple[object, ...]]]:
    skus = list(conn.execute(select(SKUS).order_by(SKUS.c.sku)))
    primary = {r.sku: r.gtin for r in skus}
    barcodes = sorted(
        conn.execute(select(BARCODES)),
        key=lambda r: (r.sku, r.gtin != primary.get(r.sku), r.pack_qty, r.gtin),
    )
    serials: dict[tuple[str, str], list[str]] = {}
    for r in conn.execute(
        select(SERIALS).where(SERIALS.c.state == "in_stock").order_by(SERIALS.c.serial)
    ):
        serials.setdefault((r.location, r.sku), []).append(r.serial)
    return {
        "items.csv": [
            (
                r.sku,
                r.description,
                r.description_zh,
                _opt(r.length_mm),
                _opt(r.width_mm),
                _opt(r.height_mm),
                r.weight_g,
                _yes(r.lot_tracked),
                _yes(r.serial_tracked),
                _opt(r.shelf_life_days),
            )
            for r in skus
        ],
        "barcodes.csv": [(_gtin(r.gtin), r.sku, r.pack_qty) for r in barcodes],
        "locations.csv": [
            _location(r) for r in conn.execute(select(LOCATIONS).order_by(LOCATIONS.c.code))
        ],
        "users.csv": [
            (
                r.user_id,
                r.name,
                r.badge,
                " ".join(x for x in r.roles.split(",") if x),
                r.language,
                r.pin_hash,
                _yes(r.active),
            )
            for r in conn.execute(select(USERS).order_by(USERS.c.user_id))
        ],
        "totes.csv": [
            (t.code, t.cart, t.cart_position if t.cart else "") for t in tote_list_of(conn)
        ],
        "cartons.csv": [
            (r.code, r.length_mm, r.width_mm, r.height_mm, r.tare_g, r.max_weight_g, _num(r.cost))
            for r in conn.execute(select(CARTONS).order_by(CARTONS.c.code))
        ],
        "pick_faces.csv": [
            (r.location, r.sku, r.min_qty, r.max_qty)
            for r in conn.execute(select(FACES).order_by(FACES.c.location, FACES.c.sku))
        ],
        "stock.csv": [
            (
                r.location,
                r.sku,
                r.qty,
                r.lot,
                r.expiry,
                " ".join(serials.get((r.location, r.sku), [])),
            )
            for r in conn.execute(select(STOCK).order_by(STOCK.c.location, STOCK.c.sku))
        ],
    }


def _location(r: Any) -> tuple[object, ...]:
    if r.aisle > 0 and r.bay > 0:  # a rack location: placed by the layout
        return (r.code, r.kind, r.zone, r.aisle, r.bay, r.level, "", "")
    return (r.code, r.kind, r.zone, "", "", "", _num(r.x), _num(r.y))


def _gtin(gtin14: str) -> str:
    """A GTIN as printed: 13 digits when it starts with 0 (an EAN-13 or a padded code)."""
    return gtin14[1:] if gtin14.startswith("0") else gtin14


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _opt(value: object) -> object:
    return "" if value is None else value


def _num(value: float) -> str:
    return format(value, ".10g")
