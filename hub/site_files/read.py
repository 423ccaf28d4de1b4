"""Reading a site directory: which files it holds, each read and its rows checked.

Every file is optional: a file that is there replaces what the hub has of its kind (an item
missing from ``items.csv`` is removed), a file that is not leaves it as it is. A ``.csv`` or
``.toml`` file of another name is refused, so that a misspelt ``item.csv`` is not silently
skipped.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from floor_app.carrier_rules import RulesFile
from floor_app.domain.layout import LayoutError, layout_from_mapping

from .csvfile import MAX_FILE_BYTES, Columns, Problems, parse_rows, read_rows

if TYPE_CHECKING:
    from floor_app.domain.layout import Layout

from .rows import BarcodeRow, CartonRow, FaceRow, ItemRow, LocationRow, StockRow, ToteRow, UserRow

M = TypeVar("M", bound=BaseModel)

#: The CSV files of a site, their columns and row models, in the order they are checked.
CSV_FILES: dict[str, tuple[Columns, type[BaseModel]]] = {
    "items.csv": (
        Columns(
            ("sku", "name", "weight_g"),
            (
                "name_zh",
                "length_mm",
                "width_mm",
                "height_mm",
                "lot_tracked",
                "serial_tracked",
                "shelf_life_days",
            ),
        ),
        ItemRow,
    ),
    "barcodes.csv": (Columns(("barcode", "sku"), ("pack_qty",)), BarcodeRow),
    "locations.csv": (
        Columns(("code", "type"), ("zone", "aisle", "bay", "level", "x_m", "y_m")),
        LocationRow,
    ),
    "users.csv": (
        Columns(("user_id", "name", "badge", "roles"), ("language", "pin", "pin_hash", "active")),
        UserRow,
    ),
    "totes.csv": (Columns(("tote",), ("cart", "position")), ToteRow),
    "cartons.csv": (
        Columns(
            ("code", "length_mm", "width_mm", "height_mm", "tare_g", "max_weight_g"), ("cost",)
        ),
        CartonRow,
    ),
    "pick_faces.csv": (Columns(("location", "sku", "min", "max")), FaceRow),
    "stock.csv": (Columns(("location", "sku", "qty"), ("lot", "expiry", "serials")), StockRow),
}
TOML_FILES = ("layout.toml", "carriers.toml")
SITE_FILES = (*TOML_FILES, *CSV_FILES)


@dataclass
class SiteFiles:
    """What a site directory holds; None for a file that is not there. Rows keep their line
    numbers so that later checks can name them."""

    layout: Layout | None = None
    carriers: RulesFile | None = None
    items: list[tuple[int, ItemRow]] | None = None
    barcodes: list[tuple[int, BarcodeRow]] | None = None
    locations: list[tuple[int, LocationRow]] | None = None
    users: list[tuple[int, UserRow]] | None = None
    totes: list[tuple[int, ToteRow]] | None = None
    cartons: list[tuple[int, CartonRow]] | None = None
    pick_faces: list[tuple[int, FaceRow]] | None = None
    stock: list[tuple[int, StockRow]] | None = None

    def present(self) -> list[str]:
        """The site files that were there."""
        return [name for name in SITE_FILES if getattr(self, name.split(".")[0]) is not None]


def read_site(directory: Path, problems: Problems, *, max_bytes: int = MAX_FILE_BYTES) -> SiteFiles:
    """Read every site file in ``directory``; what is wrong goes to ``problems``."""
    files = SiteFiles()
    if not directory.is_dir():
        problems.add(str(directory), 0, "", "not a directory")
        return files
    for path in sorted(directory.iterdir()):
        if path.suffix in (".csv", ".toml") and path.name not in SITE_FILES:
            problems.add(path.name, 0, "", f"not a site file (site files: {', '.join(SITE_FILES)})")
    if not any((directory / name).is_file() for name in SITE_FILES):
        problems.add(
            str(directory), 0, "", f"no site files here (site files: {', '.join(SITE_FILES)})"
        )
        return files
    layout = _toml(directory / "layout.toml", problems, max_bytes)
    if layout is not None:
        try:
            files.layout = layout_from_mapping(layout)
        except LayoutError as exc:
            problems.add("layout.toml", 0, "", exc.reason)
    carriers = _toml(directory / "carriers.toml", problems, max_bytes)
    if carriers is not None:
        try:
            files.carriers = RulesFile.model_validate(carriers)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                where = ".".join(str(p) for p in error["loc"])
                problems.add("carriers.toml", 0, where, str(error["msg"]))
    for name, (columns, model) in CSV_FILES.items():
        path = directory / name
        if not path.is_file():
            continue
        before = len(problems)
        rows = read_rows(path, columns, problems, max_bytes=max_bytes)
        if not rows and len(problems) == before and name != "stock.csv":
            # a file replaces its kind: a header alone would remove every one of them
            problems.add(
                name, 0, "", "a header and no rows; remove the file to leave these as they are"
            )
        setattr(files, name.split(".")[0], list(parse_rows(name, rows, model, problems)))
    return files


def _toml(path: Path, problems: Problems, max_bytes: int) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        if path.stat().st_size > max_bytes:
            problems.add(path.name, 0, "", "the file is too large for a site file")
            return None
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        problems.add(path.name, 0, "", f"cannot read the file: {exc.strerror or exc}")
    except UnicodeDecodeError:
        problems.add(path.name, 0, "", "not UTF-8 text")
    except tomllib.TOMLDecodeError as exc:
        problems.add(path.name, getattr(exc, "lineno", 0) or 0, "", f"not valid TOML: {exc}")
    return None


__all__ = ["CSV_FILES", "SITE_FILES", "SiteFiles", "read_site"]
