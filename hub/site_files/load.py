"""``floor-hub site load DIR``: a site's own files into the hub, in one transaction.

The files are read and every row checked on its own (:mod:`.read`), then against each other
and against what the hub holds (an item removed while it still holds stock, a badge two
people carry, stock at a location no file names). Any problem and nothing is written: the
report lists every problem as ``file:line: column: reason``. Otherwise each kind is brought
to what its file says, row by row: what is equal stays untouched, so loading the same files
twice changes nothing. A load that changed anything is a new version of the site's
reference data, sent to every registered device (:mod:`.reference`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, bindparam, delete, select, update

from floor_app.domain.errors import DomainError
from floor_app.domain.layout import Layout
from floor_app.domain.location import Location, LocationKind
from floor_app.domain.totes import site_totes
from floor_app.domain.users import hash_pin, pin_matches
from sync.protocol import Topics

from ..bulk import insert_rows
from ..carrier_rules import RULES_KEY, store_rules
from ..errors import HubError
from ..outbound import Outbound, transact
from ..site_data import get_meta, load_layout, save_layout, set_meta
from ..totes import ToteList, store_tote_list, tote_list_of
from .csvfile import MAX_FILE_BYTES, Problems
from .read import SiteFiles, read_site
from .reference import VERSION_KEY, push_reference, site_version
from .tables import (
    BARCODES,
    CARTONS,
    FACES,
    LEDGER,
    LOCATIONS,
    ORDER_LINES,
    ORDERS,
    SERIALS,
    SKUS,
    STOCK,
    USERS,
)

#: hub_meta keys of the files' own text (so that
#: an export gives back the layout and carrier rules as they were written, comments and all).
LAYOUT_TEXT_KEY = "site_file.layout.toml"
CARRIERS_TEXT_KEY = "site_file.carriers.toml"
#: Orders in these states no longer need their items.
_DONE_STATES = ("shipped", "cancelled")
_STATIONS = {
    "PACK": LocationKind.PACK,
    "STAGE": LocationKind.STAGING,
    "DOCK": LocationKind.DOCK,
    "QUAR": LocationKind.QUARANTINE,
    "RET": LocationKind.RETURNS,
}
_SHOWN = 200  # problems listed in an error message (all are in the report)
#: Barcodes of one item, and metres from the depot, that devices take.
MAX_BARCODES = 100
MAX_METRES = 100_000


class SiteFileError(HubError):
    """The site files cannot be loaded; ``problems`` says every reason. Nothing changed."""

    def __init__(self, problems: Problems) -> None:
        lines = [str(p) for p in problems.items[:_SHOWN]]
        if len(problems) > _SHOWN:
            lines.append(f"... and {len(problems) - _SHOWN} more")
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(
            f"{len(problems)} {noun} in the site files; nothing was loaded:\n" + "\n".join(lines),
            hint="fix the files and load them again",
        )
        self.problems = problems.items


@dataclass
class Change:
    """What a load does to one kind of data."""

    added: int = 0
    changed: int = 0
    removed: int = 0

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


@dataclass
class LoadReport:
    """What a load did (or, for a dry run, would do)."""

    files: list[str]
    changes: dict[str, Change] = field(default_factory=dict)
    version: int = 0
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return any(self.changes.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "dry_run": self.dry_run,
            "changed": self.changed,
            "version": self.version,
            "changes": {k: vars(v) for k, v in self.changes.items() if v},
        }


class _DryRun(Exception):
    def __init__(self, report: LoadReport) -> None:
        self.report = report


def load_site(
    engine: Engine,
    site: str,
    directory: Path,
    *,
    dry_run: bool = False,
    now: float | None = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> LoadReport:
    """Load the site files in ``directory``; raises :class:`SiteFileError` (nothing changed)
    when any row is wrong. A dry run checks everything, against the database too, and
    reports what would change without changing it."""
    problems = Problems()
    files = read_site(directory, problems, max_bytes=max_bytes)
    if problems:
        raise SiteFileError(problems)
    texts = {
        name: (directory / name).read_text(encoding="utf-8-sig")
        for name in ("layout.toml", "carriers.toml")
        if (directory / name).is_file()
    }
    at = time.time() if now is None else now

    def work(conn: Connection, out: Outbound) -> LoadReport:
        report = _Load(conn, out, files, texts, at).run()
        if dry_run:
            report.dry_run = True
            raise _DryRun(report)
        return report

    try:
        report, _messages = transact(engine, Topics(site), work, "site load")
    except _DryRun as dry:
        return dry.report
    return report


# -- one load -----------------------------------------------------------------------------


class _Load:
    """One load in one transaction: check everything, then write what differs."""

    def __init__(
        self,
        conn: Connection,
        out: Outbound,
        files: SiteFiles,
        texts: dict[str, str],
        now: float,
    ) -> None:
        self.conn = conn
        self.out = out
        self.files = files
        self.texts = texts
        self.now = now
        self.problems = Problems()
        self.report = LoadReport(files.present())
        self._primary_only: dict[str, str] = {}
        self._item_lines: dict[str, int] = {}
        self._users_now: dict[str, dict[str, Any]] = {}

    # reading the hub

    def _rows(self, table: Table, key: Callable[[Any], Hashable]) -> dict[Any, dict[str, Any]]:
        return {key(r): dict(r._mapping) for r in self.conn.execute(select(table))}

    def run(self) -> LoadReport:
        f = self.files
        self.layout = f.layout or load_layout(self.conn)
        self.items_now = self._rows(SKUS, lambda r: r.sku)
        self.locations_now = self._rows(LOCATIONS, lambda r: r.code)
        # locked (PostgreSQL) so that no reservation changes them under the load
        self.stock_now = {
            (r.location, r.sku): dict(r._mapping)
            for r in self.conn.execute(
                select(STOCK).order_by(STOCK.c.location, STOCK.c.sku).with_for_update()
            )
        }
        items = self._items()
        barcodes = self._barcodes(items)
        locations = self._locations()
        users = self._users()
        cartons = self._cartons()
        totes = self._totes()
        faces = self._faces(items, locations)
        stock, serials = self._stock(items, locations)
        self._removals(items, locations)
        if self.problems:
            raise SiteFileError(self.problems)
        self._write(items, barcodes, locations, users, cartons, totes, faces, stock, serials)
        return self.report

    # checks: each gives the rows the hub should hold (None: its file is not there)

    def _dupes(
        self, name: str, rows: Iterable[tuple[int, Any]], key: Callable[[Any], Hashable], what: str
    ) -> dict[Any, tuple[int, Any]]:
        seen: dict[Any, tuple[int, Any]] = {}
        for line, row in rows:
            k = key(row)
            if k in seen:
                self.problems.add(name, line, what, f"{_show(k)} is also on line {seen[k][0]}")
                continue
            seen[k] = (line, row)
        return seen

    def _items(self) -> dict[str, dict[str, Any]] | None:
        if self.files.items is None:
            return None
        rows = self._dupes("items.csv", self.files.items, lambda r: r.sku, "sku")
        wanted: dict[str, dict[str, Any]] = {}
        for sku, (line, row) in rows.items():
            if row.incomplete_dimensions():
                self.problems.add(
                    "items.csv", line, "length_mm", "give all three dimensions or none"
                )
            wanted[sku] = {
                "sku": sku,
                "gtin": "",  # the first unit barcode, set by _barcodes
                "description": row.name,
                "description_zh": row.name_zh,
                "length_mm": row.length_mm,
                "width_mm": row.width_mm,
                "height_mm": row.height_mm,
                "weight_g": row.weight_g,
                "lot_tracked": row.lot_tracked,
                "serial_tracked": row.serial_tracked,
                "shelf_life_days": row.shelf_life_days,
            }
        self._item_lines = {sku: line for sku, (line, _row) in rows.items()}
        return wanted

    def _barcodes(
        self, items: dict[str, dict[str, Any]] | None
    ) -> dict[str, dict[str, Any]] | None:
        f = self.files
        if f.barcodes is None:
            if items is not None:
                for sku, row in items.items():
                    old = self.items_now.get(sku)
                    if old is None:
                        self.problems.add(
                            "items.csv",
                            self._item_lines[sku],
                            "sku",
                            "a new item needs its barcodes: barcodes.csv is not there",
                        )
                    else:
                        row["gtin"] = old["gtin"]
            return None
        known = set(items if items is not None else self.items_now)
        where = "items.csv" if items is not None else "the hub"
        rows = self._dupes("barcodes.csv", f.barcodes, lambda r: r.barcode, "barcode")
        wanted: dict[str, dict[str, Any]] = {}
        first_unit: dict[str, str] = {}
        per_item: dict[str, int] = {}
        for gtin, (line, row) in rows.items():
            if row.sku not in known:
                self.problems.add("barcodes.csv", line, "sku", f"no item {row.sku} in {where}")
                continue
            wanted[gtin] = {"gtin": gtin, "sku": row.sku, "pack_qty": row.pack_qty}
            per_item[row.sku] = per_item.get(row.sku, 0) + 1
            if per_item[row.sku] == MAX_BARCODES + 1:
                self.problems.add(
                    "barcodes.csv", line, "sku", f"{row.sku} has more than {MAX_BARCODES} barcodes"
                )
            if row.pack_qty == 1:
                first_unit.setdefault(row.sku, gtin)
        target = items if items is not None else {k: dict(v) for k, v in self.items_now.items()}
        for sku, row in target.items():
            if sku not in first_unit:
                line = self._item_lines.get(sku, 0) if items is not None else 0
                self.problems.add(
                    "items.csv" if items is not None else "barcodes.csv",
                    line,
                    "sku" if items is not None else "",
                    f"{'no' if items is not None else f'item {sku} has no'} unit barcode "
                    f"(pack_qty 1) in barcodes.csv",
                )
                continue
            row["gtin"] = first_unit[sku]
        if items is None:
            self._primary_only = {
                sku: first_unit[sku]
                for sku, row in self.items_now.items()
                if sku in first_unit and row["gtin"] != first_unit[sku]
            }
        return wanted

    def _locations(self) -> dict[str, dict[str, Any]] | None:
        f = self.files
        if f.locations is None:
            if f.layout is None or self.layout is None:
                return None
            # a new layout moves the racks: their coordinates follow it
            wanted = {code: dict(row) for code, row in self.locations_now.items()}
            for row in wanted.values():
                if row["aisle"] > 0 and row["bay"] > 0:
                    try:
                        x, y, side = self.layout.bay_point(row["aisle"], row["bay"])
                    except DomainError as exc:
                        self.problems.add(
                            "layout.toml", 0, "", f"location {row['code']}: {exc.reason}"
                        )
                        continue
                    row.update(x=round(x, 3), y=round(y, 3), side=side.value)
            return wanted
        rows = self._dupes("locations.csv", f.locations, lambda r: r.code, "code")
        self._location_lines = {code: line for code, (line, _r) in rows.items()}
        layout = self.layout
        if layout is None and any(r.rack for _line, r in rows.values()):
            self.problems.add(
                "locations.csv", 0, "", "rack locations need the floor layout: layout.toml"
            )
            return {}
        wanted = {}
        for code, (line, row) in rows.items():
            made = self._location(line, row, layout)
            if made is not None:
                wanted[code] = made
        return wanted

    def _location(self, line: int, row: Any, layout: Layout | None) -> dict[str, Any] | None:
        add = self.problems.add
        if not row.rack:
            kind = _STATIONS[row.code.split("-")[0]]
            if row.type is not kind:
                add("locations.csv", line, "type", f"{row.code} is a {kind.value} location")
                return None
            for column in ("aisle", "bay", "level"):
                if getattr(row, column) not in (None, 0):
                    add("locations.csv", line, column, "a station has no aisle, bay or level")
            depot = layout.depot if layout is not None else (0.0, 0.0)
            return {
                "code": row.code,
                "zone": row.zone or "S",
                "aisle": 0,
                "bay": 0,
                "level": 0,
                "bin": "A",
                "x": round(depot[0] if row.x_m is None else row.x_m, 3),
                "y": round(depot[1] if row.y_m is None else row.y_m, 3),
                "kind": kind.value,
                "side": "left",
            }
        zone, aisle, bay, level, bin_ = Location.parse_code(row.code)
        ok = True
        for column, given, real in (
            ("zone", row.zone or None, zone),
            ("aisle", row.aisle, aisle),
            ("bay", row.bay, bay),
            ("level", row.level, level),
        ):
            if given is not None and given != real:
                add("locations.csv", line, column, f"{given} but the code {row.code} says {real}")
                ok = False
        if row.x_m is not None or row.y_m is not None:
            add(
                "locations.csv",
                line,
                "x_m",
                "rack locations are placed by layout.toml; leave x_m and y_m empty",
            )
            ok = False
        if row.type in (LocationKind.PACK, LocationKind.DOCK):
            add(
                "locations.csv",
                line,
                "type",
                f"a rack location cannot be a {row.type.value} location",
            )
            ok = False
        assert layout is not None
        if not 1 <= aisle <= layout.aisles:
            add(
                "locations.csv",
                line,
                "aisle",
                f"aisle {aisle} is not in the layout (1..{layout.aisles})",
            )
            ok = False
        if not 1 <= bay <= layout.bays:
            add("locations.csv", line, "bay", f"bay {bay} is not in the layout (1..{layout.bays})")
            ok = False
        if not ok:
            return None
        x, y, side = layout.bay_point(aisle, bay)
        if max(abs(x), abs(y)) > MAX_METRES:
            add(
                "locations.csv",
                line,
                "code",
                f"layout.toml puts {row.code} {max(abs(x), abs(y)):,.0f} m from the depot "
                "(are the layout's sizes in metres?)",
            )
            return None
        return {
            "code": row.code,
            "zone": zone,
            "aisle": aisle,
            "bay": bay,
            "level": level,
            "bin": bin_,
            "x": round(x, 3),
            "y": round(y, 3),
            "kind": row.type.value,
            "side": side.value,
        }

    def _users(self) -> dict[str, dict[str, Any]] | None:
        if self.files.users is None:
            return None
        rows = self._dupes("users.csv", self.files.users, lambda r: r.user_id, "user_id")
        badges = self._dupes(
            "users.csv", [(ln, r) for ln, r in rows.values()], lambda r: r.badge, "badge"
        )
        now = self._rows(USERS, lambda r: r.user_id)
        wanted: dict[str, dict[str, Any]] = {}
        for uid, (line, row) in rows.items():
            if badges.get(row.badge, (0, None))[1] is not row:
                continue
            if row.pin and row.pin_hash:
                self.problems.add("users.csv", line, "pin", "give the PIN or its hash, not both")
                continue
            old = now.get(uid)
            # neither a PIN nor its hash: the user keeps the PIN they have
            pin_hash = row.pin_hash or (old["pin_hash"] if old and not row.pin else "")
            if row.pin:
                kept = old["pin_hash"] if old else ""
                pin_hash = kept if pin_matches(uid, kept, row.pin) else hash_pin(uid, row.pin)
            wanted[uid] = {
                "user_id": uid,
                "name": row.name,
                "badge": row.badge,
                "roles": ",".join(sorted(r.value for r in row.roles)),
                "pin_hash": pin_hash,
                "active": row.active,
                "language": row.language,
            }
        taken = {r["badge"]: uid for uid, r in now.items() if uid not in wanted}
        for uid, row in wanted.items():
            other = taken.get(row["badge"])
            if other is not None:
                self.problems.add(
                    "users.csv",
                    rows[uid][0],
                    "badge",
                    f"{row['badge']} is user {other}'s in the hub; give another badge, or put "
                    f"{other} back in the file with a new one",
                )
        # users no longer in the file stay in the history, inactive
        for uid, row in now.items():
            if uid not in wanted:
                wanted[uid] = {**row, "active": False}
        self._users_now = now
        return wanted

    def _cartons(self) -> dict[str, dict[str, Any]] | None:
        if self.files.cartons is None:
            return None
        rows = self._dupes("cartons.csv", self.files.cartons, lambda r: r.code, "code")
        wanted = {}
        for code, (line, r) in rows.items():
            if r.max_weight_g <= r.tare_g:
                self.problems.add(
                    "cartons.csv", line, "max_weight_g", "must be more than the carton's tare_g"
                )
            wanted[code] = {
                "code": code,
                "length_mm": r.length_mm,
                "width_mm": r.width_mm,
                "height_mm": r.height_mm,
                "tare_g": r.tare_g,
                "max_weight_g": r.max_weight_g,
                "cost": r.cost,
            }
        return wanted

    def _totes(self) -> ToteList | None:
        if self.files.totes is None:
            return None
        rows = self._dupes("totes.csv", self.files.totes, lambda r: r.tote, "tote")
        places = self._dupes(
            "totes.csv",
            [(ln, r) for ln, r in rows.values() if r.cart],
            lambda r: (r.cart, r.position),
            "position",
        )
        carts: dict[str, list[tuple[int, str]]] = {}
        for _code, (line, r) in rows.items():
            if bool(r.cart) != (r.position is not None):
                self.problems.add(
                    "totes.csv",
                    line,
                    "position",
                    "a tote on a cart needs its position, and only then",
                )
                continue
            if r.cart and places.get((r.cart, r.position), (0, None))[1] is r:
                carts.setdefault(r.cart, []).append((r.position or 0, r.tote))
        wanted = ToteList(
            sorted(rows), {c: [t for _p, t in sorted(ts)] for c, ts in sorted(carts.items())}
        )
        try:
            site_totes(wanted.totes, wanted.carts)
        except DomainError as exc:
            self.problems.add("totes.csv", 0, "", exc.reason)
        busy = {
            t.code: t.order_id for t in tote_list_of(self.conn) if t.code not in rows and t.order_id
        }
        for code, order in sorted(busy.items()):
            self.problems.add(
                "totes.csv",
                0,
                "tote",
                f"{code} is not in the file but holds order {order}; finish it first",
            )
        return wanted

    def _faces(
        self, items: dict[str, Any] | None, locations: dict[str, dict[str, Any]] | None
    ) -> dict[tuple[str, str], dict[str, Any]] | None:
        if self.files.pick_faces is None:
            return None
        known_items = set(items if items is not None else self.items_now)
        places = locations if locations is not None else self.locations_now
        rows = self._dupes(
            "pick_faces.csv", self.files.pick_faces, lambda r: (r.location, r.sku), "location"
        )
        wanted = {}
        for key, (line, r) in rows.items():
            place = places.get(r.location)
            if place is None:
                self.problems.add("pick_faces.csv", line, "location", f"no location {r.location}")
            elif place["kind"] != LocationKind.PICK.value:
                self.problems.add(
                    "pick_faces.csv",
                    line,
                    "location",
                    f"{r.location} is a {place['kind']} location, not a pick location",
                )
            if r.sku not in known_items:
                self.problems.add("pick_faces.csv", line, "sku", f"no item {r.sku}")
            if r.max <= r.min:
                self.problems.add(
                    "pick_faces.csv", line, "max", f"{r.max} must be more than min {r.min}"
                )
            wanted[key] = {"location": r.location, "sku": r.sku, "min_qty": r.min, "max_qty": r.max}
        return wanted

    def _stock(
        self, items: dict[str, dict[str, Any]] | None, locations: dict[str, Any] | None
    ) -> tuple[dict[tuple[str, str], dict[str, Any]] | None, dict[tuple[str, str], dict[str, Any]]]:
        if self.files.stock is None:
            return None, {}
        item_rows = items if items is not None else self.items_now
        places = locations if locations is not None else self.locations_now
        rows = self._dupes(
            "stock.csv",
            self.files.stock,
            lambda r: (r.location, r.sku),
            "sku",
        )
        wanted: dict[tuple[str, str], dict[str, Any]] = {}
        serials: dict[tuple[str, str], dict[str, Any]] = {}
        serial_lines: dict[tuple[str, str], int] = {}
        add = self.problems.add
        for key, (line, r) in rows.items():
            item = item_rows.get(r.sku)
            if r.location not in places:
                add("stock.csv", line, "location", f"no location {r.location}")
            if item is None:
                add("stock.csv", line, "sku", f"no item {r.sku}")
                continue
            if item["lot_tracked"] and r.qty and not r.lot:
                add("stock.csv", line, "lot", f"{r.sku} is lot-tracked: give the lot")
            if r.expiry and not r.lot:
                add("stock.csv", line, "expiry", "an expiry date belongs to a lot: give the lot")
            if item["serial_tracked"]:
                if len(r.serials) != r.qty:
                    add(
                        "stock.csv",
                        line,
                        "serials",
                        f"{r.sku} is serial-tracked: {r.qty} units need {r.qty} serials, "
                        f"not {len(r.serials)}",
                    )
                for serial in r.serials:
                    if (r.sku, serial) in serial_lines:
                        add(
                            "stock.csv",
                            line,
                            "serials",
                            f"serial {serial} of {r.sku} is also on line "
                            f"{serial_lines[r.sku, serial]}",
                        )
                        continue
                    serial_lines[r.sku, serial] = line
                    serials[r.sku, serial] = {
                        "sku": r.sku,
                        "serial": serial,
                        "location": r.location,
                        "lot": r.lot,
                        "state": "in_stock",
                        "order_id": "",
                    }
            elif r.serials:
                add(
                    "stock.csv",
                    line,
                    "serials",
                    f"{r.sku} is not serial-tracked: leave serials empty",
                )
            old = self.stock_now.get(key)
            if (
                old is not None
                and old["reserved"]
                and (r.lot, r.expiry) != (old["lot"], old["expiry"])
            ):
                add(
                    "stock.csv",
                    line,
                    "lot",
                    f"{old['reserved']} units of lot {old['lot'] or '-'} here are promised to "
                    "orders and on their pick lists; change the lot once they are picked",
                )
            if old is not None and r.qty < old["reserved"]:
                add(
                    "stock.csv",
                    line,
                    "qty",
                    f"{old['reserved']} units here are promised to orders; the quantity "
                    "cannot be below that",
                )
            wanted[key] = {
                "location": r.location,
                "sku": r.sku,
                "qty": r.qty,
                "lot": r.lot,
                "expiry": r.expiry,
            }
        self._check_serials(serials, serial_lines, wanted)
        return wanted, serials

    def _check_serials(
        self,
        serials: dict[tuple[str, str], dict[str, Any]],
        lines: dict[tuple[str, str], int],
        stock: dict[tuple[str, str], dict[str, Any]],
    ) -> None:
        if not serials:
            return
        for r in self.conn.execute(
            select(SERIALS).where(SERIALS.c.sku.in_(sorted({s for s, _n in serials})))
        ):
            key = (r.sku, r.serial)
            if key not in serials:
                continue
            if r.state != "in_stock":
                self.problems.add(
                    "stock.csv",
                    lines[key],
                    "serials",
                    f"serial {r.serial} of {r.sku} has left stock ({r.state})",
                )
            elif r.location != serials[key]["location"] and (r.location, r.sku) not in stock:
                self.problems.add(
                    "stock.csv",
                    lines[key],
                    "serials",
                    f"serial {r.serial} of {r.sku} is in stock at {r.location}, which "
                    "stock.csv does not list",
                )

    def _removals(self, items: dict[str, Any] | None, locations: dict[str, Any] | None) -> None:
        """An item or location leaves the site only when it holds nothing (and no open order
        needs the item)."""
        gone_items = set() if items is None else set(self.items_now) - set(items)
        gone_places = set() if locations is None else set(self.locations_now) - set(locations)
        for (place, sku), row in sorted(self.stock_now.items()):
            if row["qty"] <= 0 and row["reserved"] <= 0:
                continue
            units = f"{row['qty']} units of {sku} at {place}"
            if sku in gone_items:
                self.problems.add(
                    "items.csv",
                    0,
                    "sku",
                    f"{sku} is not in the file but holds {units}; count or move them out first",
                )
            if place in gone_places:
                self.problems.add(
                    "locations.csv",
                    0,
                    "code",
                    f"{place} is not in the file but holds {units}; move them first",
                )
        if gone_items:
            open_lines = self.conn.execute(
                select(ORDER_LINES.c.sku, ORDER_LINES.c.order_id)
                .join(ORDERS, ORDERS.c.order_id == ORDER_LINES.c.order_id)
                .where(ORDER_LINES.c.sku.in_(sorted(gone_items)))
                .where(ORDERS.c.state.not_in(_DONE_STATES))
                .order_by(ORDER_LINES.c.sku, ORDER_LINES.c.order_id)
            ).all()
            for sku, order_id in open_lines:
                self.problems.add(
                    "items.csv",
                    0,
                    "sku",
                    f"{sku} is not in the file but open order {order_id} needs it",
                )

    # writing

    def _write(
        self,
        items: dict[str, dict[str, Any]] | None,
        barcodes: dict[str, dict[str, Any]] | None,
        locations: dict[str, dict[str, Any]] | None,
        users: dict[str, dict[str, Any]] | None,
        cartons: dict[str, dict[str, Any]] | None,
        totes: ToteList | None,
        faces: dict[tuple[str, str], dict[str, Any]] | None,
        stock: dict[tuple[str, str], dict[str, Any]] | None,
        serials: dict[tuple[str, str], dict[str, Any]],
    ) -> None:
        conn, changes = self.conn, self.report.changes
        f = self.files
        if f.layout is not None:
            old = load_layout(conn)
            changes["layout"] = Change(
                changed=int(old is None or old.to_dict() != f.layout.to_dict())
            )
            if changes["layout"]:
                save_layout(conn, f.layout)
            _keep_text(conn, LAYOUT_TEXT_KEY, self.texts.get("layout.toml", ""))
        if f.carriers is not None:
            wanted = f.carriers.model_dump_json()
            changes["carriers"] = Change(changed=int(get_meta(conn, RULES_KEY) != wanted))
            if changes["carriers"]:
                store_rules(conn, f.carriers)
            _keep_text(conn, CARRIERS_TEXT_KEY, self.texts.get("carriers.toml", ""))
        gone_items: list[str] = []
        gone_places: list[str] = []
        sent_items: set[str] = set()
        if barcodes is not None:
            barcode_now = self._rows(BARCODES, lambda r: r.gtin)
            changes["barcodes"] = _apply(conn, BARCODES, ("gtin",), barcode_now, barcodes)
            sent_items |= {r["sku"] for r in _changed_rows(barcode_now, barcodes)}
            sent_items |= {r["sku"] for k, r in barcode_now.items() if k not in barcodes}
        if items is not None:
            changes["items"] = _apply(conn, SKUS, ("sku",), self.items_now, items, unique="gtin")
            gone_items = sorted(set(self.items_now) - set(items))
            sent_items |= {r["sku"] for r in _changed_rows(self.items_now, items)}
        elif self._primary_only:
            mains = {s: {**self.items_now[s], "gtin": g} for s, g in self._primary_only.items()}
            before = {s: self.items_now[s] for s in mains}
            changes["items"] = _apply(conn, SKUS, ("sku",), before, mains, unique="gtin")
            sent_items |= set(mains)
        sent_items -= set(gone_items)
        sent_items &= set(items if items is not None else self.items_now)
        place_change: tuple[list[str], list[str]] = ([], [])
        if locations is not None:
            changes["locations"] = _apply(conn, LOCATIONS, ("code",), self.locations_now, locations)
            gone_places = sorted(set(self.locations_now) - set(locations))
            place_change = (
                [r["code"] for r in _changed_rows(self.locations_now, locations)],
                gone_places,
            )
        if gone_items or gone_places:
            self._forget(gone_items, gone_places, barcodes is None, faces is None)
        user_ids: list[str] = []
        if users is not None:
            change = _apply(
                conn,
                USERS,
                ("user_id",),
                self._users_now,
                users,
                delete_missing=False,
                unique="badge",
            )
            changes["users"] = change
            user_ids = [r["user_id"] for r in _changed_rows(self._users_now, users)]
        carton_change: tuple[list[str], list[str]] = ([], [])
        if cartons is not None:
            now = self._rows(CARTONS, lambda r: r.code)
            changes["cartons"] = _apply(conn, CARTONS, ("code",), now, cartons)
            carton_change = (
                [r["code"] for r in _changed_rows(now, cartons)],
                sorted(set(now) - set(cartons)),
            )
        if faces is not None:
            now_faces = self._rows(FACES, lambda r: (r.location, r.sku))
            changes["pick_faces"] = _apply(conn, FACES, ("location", "sku"), now_faces, faces)
        if totes is not None:
            changes["totes"] = self._write_totes(totes)
        if stock is not None:
            changes["stock"] = self._write_stock(stock, serials)
        if self.report.changed:
            self.report.version = site_version(conn) + 1
            set_meta(conn, VERSION_KEY, str(self.report.version))
            push_reference(
                conn,
                self.out,
                self.report.version,
                items=(sorted(sent_items), gone_items),
                locations=place_change,
                cartons=carton_change,
                users=user_ids,
            )
        else:
            self.report.version = site_version(conn)

    def _forget(self, items: list[str], places: list[str], barcodes: bool, faces: bool) -> None:
        """What belonged to removed items and locations: their empty stock rows, and their
        barcodes and pick faces when those files did not say."""
        conn = self.conn
        for chunk in _chunks(items):
            if barcodes:
                conn.execute(delete(BARCODES).where(BARCODES.c.sku.in_(chunk)))
            if faces:
                conn.execute(delete(FACES).where(FACES.c.sku.in_(chunk)))
            conn.execute(delete(STOCK).where(STOCK.c.sku.in_(chunk)))
        for chunk in _chunks(places):
            if faces:
                conn.execute(delete(FACES).where(FACES.c.location.in_(chunk)))
            conn.execute(delete(STOCK).where(STOCK.c.location.in_(chunk)))

    def _write_totes(self, totes: ToteList) -> Change:
        now = {t.code: (t.cart, t.cart_position) for t in tote_list_of(self.conn)}
        wanted = {t.code: (t.cart, t.cart_position) for t in site_totes(totes.totes, totes.carts)}
        change = Change(
            added=len(set(wanted) - set(now)),
            removed=len(set(now) - set(wanted)),
            changed=sum(1 for c in wanted if c in now and now[c] != wanted[c]),
        )
        if change:
            store_tote_list(self.conn, self.out, totes, now=self.now)
        return change

    def _write_stock(
        self,
        stock: dict[tuple[str, str], dict[str, Any]],
        serials: dict[tuple[str, str], dict[str, Any]],
    ) -> Change:
        conn, ref = self.conn, f"site files v{site_version(self.conn) + 1}"
        added = [
            {**r, "reserved": 0, "received_at": self.now}
            for k, r in stock.items()
            if k not in self.stock_now
        ]
        changed = [
            r
            for k, r in stock.items()
            if k in self.stock_now
            and any(self.stock_now[k][c] != r[c] for c in ("qty", "lot", "expiry"))
        ]
        insert_rows(conn, STOCK, added)
        _update(conn, STOCK, ("location", "sku"), changed)
        ledger = [
            {
                "location": r["location"],
                "sku": r["sku"],
                "kind": "load",
                "delta": r["qty"]
                - self.stock_now.get((r["location"], r["sku"]), {"qty": 0})["qty"],
                "qty": r["qty"],
                "reason": "load",
                "event_type": "",
                "device_id": "",
                "seq": None,
                "ref": ref,
                "user": "",
                "at": self.now,
            }
            for r in (*added, *changed)
            if r["qty"] != self.stock_now.get((r["location"], r["sku"]), {"qty": None})["qty"]
        ]
        insert_rows(conn, LEDGER, ledger)
        self.report.changes["serials"] = self._write_serials(stock, serials)
        return Change(added=len(added), changed=len(changed))

    def _write_serials(
        self,
        stock: dict[tuple[str, str], dict[str, Any]],
        serials: dict[tuple[str, str], dict[str, Any]],
    ) -> Change:
        """The serials of the stock rows in the file are those it lists: the others in stock
        there go, new ones come (or move here from another row of the file)."""
        here = {
            (r.sku, r.serial): dict(r._mapping)
            for r in self.conn.execute(select(SERIALS).where(SERIALS.c.state == "in_stock"))
            if (r.location, r.sku) in stock
        }
        skus = sorted({s for s, _n in serials})
        known = {
            (r.sku, r.serial): dict(r._mapping)
            for start in range(0, len(skus), 500)
            for r in self.conn.execute(
                select(SERIALS).where(SERIALS.c.sku.in_(skus[start : start + 500]))
            )
        }
        gone = [k for k in here if k not in serials]
        added = [v for k, v in serials.items() if k not in known]
        changed = [v for k, v in serials.items() if k in known and _differs(known[k], v)]
        _delete(self.conn, SERIALS, ("sku", "serial"), gone)
        insert_rows(self.conn, SERIALS, added)
        _update(self.conn, SERIALS, ("sku", "serial"), changed)
        return Change(added=len(added), changed=len(changed), removed=len(gone))


# -- writing helpers ------------------------------------------------------------------------


def _keep_text(conn: Connection, key: str, text: str) -> None:
    if get_meta(conn, key) != text:
        set_meta(conn, key, text)


def _changed_rows(
    now: Mapping[Any, dict[str, Any]], wanted: Mapping[Any, dict[str, Any]]
) -> list[dict[str, Any]]:
    return [row for k, row in wanted.items() if k not in now or _differs(now[k], row)]


def _differs(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return any(old.get(c) != v for c, v in new.items())


def _apply(
    conn: Connection,
    table: Table,
    key: tuple[str, ...],
    now: Mapping[Any, dict[str, Any]],
    wanted: Mapping[Any, dict[str, Any]],
    *,
    delete_missing: bool = True,
    unique: str = "",
) -> Change:
    """Bring ``table`` from ``now`` to ``wanted`` (both by key): insert, update, delete.

    ``unique`` names a column unique across rows (an item's main barcode, a badge): rows
    whose value changes first take a placeholder, so that two rows may swap values."""
    added = [row for k, row in wanted.items() if k not in now]
    changed = [row for k, row in wanted.items() if k in now and _differs(now[k], row)]
    gone = [k for k in now if k not in wanted] if delete_missing else []
    _delete(conn, table, key, gone)
    if unique:
        moving = [r for r in changed if now[_key_of(r, key)][unique] != r[unique]]
        width = table.c[unique].type.length or 14  # type: ignore[attr-defined]
        _update(
            conn,
            table,
            key,
            [{**{k: r[k] for k in key}, unique: _placeholder(r, key, width)} for r in moving],
        )
    _update(conn, table, key, changed)
    insert_rows(conn, table, added)
    return Change(added=len(added), changed=len(changed), removed=len(gone))


def _key_of(row: Mapping[str, Any], key: tuple[str, ...]) -> Any:
    return row[key[0]] if len(key) == 1 else tuple(row[k] for k in key)


def _placeholder(row: Mapping[str, Any], key: tuple[str, ...], width: int) -> str:
    """A value no real row holds (``~`` and a digest of the key), ``width`` characters."""
    digest = hashlib.sha256(repr(_key_of(row, key)).encode()).hexdigest()
    return ("~" + digest)[:width]


def _update(
    conn: Connection, table: Table, key: tuple[str, ...], rows: list[dict[str, Any]]
) -> None:
    if not rows:
        return
    where = and_(*(table.c[k] == bindparam(f"k_{k}") for k in key))
    columns = [c for c in rows[0] if c not in key]
    statement = update(table).where(where).values({c: bindparam(f"v_{c}") for c in columns})
    params = [{**{f"k_{k}": r[k] for k in key}, **{f"v_{c}": r[c] for c in columns}} for r in rows]
    for start in range(0, len(params), 5000):
        conn.execute(statement, params[start : start + 5000])


def _delete(conn: Connection, table: Table, key: tuple[str, ...], keys: list[Any]) -> None:
    if not keys:
        return
    if len(key) == 1:
        for chunk in _chunks(sorted(keys)):
            conn.execute(delete(table).where(table.c[key[0]].in_(chunk)))
        return
    where = and_(*(table.c[k] == bindparam(f"k_{k}") for k in key))
    conn.execute(
        delete(table).where(where),
        [{f"k_{k}": v for k, v in zip(key, ks, strict=True)} for ks in keys],
    )


def _chunks(values: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _show(key: Any) -> str:
    return " ".join(str(k) for k in key) if isinstance(key, tuple) else str(key)


def stored_text(conn: Connection, name: str) -> str:
    """The text of ``layout.toml`` or ``carriers.toml`` as last loaded ("" when none)."""
    key = LAYOUT_TEXT_KEY if name == "layout.toml" else CARRIERS_TEXT_KEY
    return get_meta(conn, key, "") or ""


__all__ = ["LoadReport", "SiteFileError", "load_site", "site_version", "stored_text"]
