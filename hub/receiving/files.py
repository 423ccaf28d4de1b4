"""Advance ship notices read from a file: CSV (one row per expected line) or JSON.

CSV columns (by header name, UTF-8 with or without a byte order mark): ``reference`` and
``qty`` always, ``sku`` or ``gtin`` (at least one per row), and optionally ``supplier``,
``dock``, ``line`` (the supplier's line number, for people: lines are numbered in file
order), ``lot``, ``expiry`` (YYYY-MM-DD) and ``sscc`` (the pallet's, 18 digits). Rows of
one reference make one notice.

JSON: a notice ``{"reference", "supplier", "dock", "lines": [{"sku" or "gtin", "qty",
"lot", "expiry", "sscc"}]}``, a list of notices, or ``{"notices": [...]}``.

``qty`` counts what the line's barcode stands for: 10 of a case GTIN of 12 is 120 units.
What one row can tell (formats, check digits, dates, ranges) is checked here, each problem
as ``file:line: column: reason`` (JSON: ``file: notices[0].lines[2]: column: reason``);
what needs the site's data (the item of a GTIN) by :func:`hub.receiving.receipts.resolve`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from floor_app.domain.errors import DomainError
from floor_app.domain.gtin import gs1_check_digit, normalise_gtin

from ..site_files.csvfile import Columns, Problems, Row, _reason, parse_rows, read_rows
from ..site_files.rows import MAX_QTY, Expiry, Lot

#: The largest notice file read (bytes).
MAX_NOTICE_BYTES = 16 * 1024 * 1024
#: Lines of one notice (as many as one push to the devices carries).
MAX_LINES = 1000

CSV_COLUMNS = Columns(
    ("reference", "qty"), ("supplier", "dock", "line", "sku", "gtin", "lot", "expiry", "sscc")
)


class NoticeLineIn(BaseModel):
    """One expected line of a notice."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    sku: str = Field(default="", max_length=64)
    gtin: str = ""
    qty: int = Field(ge=1, le=MAX_QTY)
    lot: Lot = ""
    expiry: Expiry = ""
    sscc: str = ""

    @field_validator("gtin")
    @classmethod
    def _gtin(cls, value: str) -> str:
        if not value:
            return value
        try:
            return normalise_gtin(value)
        except DomainError as exc:
            raise ValueError(exc.reason) from None

    @field_validator("sscc")
    @classmethod
    def _sscc(cls, value: str) -> str:
        if not value:
            return value
        if len(value) != 18 or not value.isascii() or not value.isdigit():
            raise ValueError(f"SSCC {value!r} is not 18 digits")
        if gs1_check_digit(value[:-1]) != int(value[-1]):
            raise ValueError(f"SSCC {value} has a wrong check digit")
        return value

    @model_validator(mode="after")
    def _item(self) -> NoticeLineIn:
        if not self.sku and not self.gtin:
            raise ValueError("a line needs its sku or its gtin")
        return self


Text64 = Annotated[str, Field(min_length=1, max_length=64)]


class NoticeIn(BaseModel):
    """One advance ship notice as read."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    reference: Text64
    supplier: str = Field(default="", max_length=128)
    dock: str = Field(default="", max_length=32)
    lines: list[NoticeLineIn] = Field(min_length=1, max_length=MAX_LINES)

    @field_validator("reference")
    @classmethod
    def _reference(cls, value: str) -> str:
        value = value.strip()
        if not value or any(c in value for c in "/+#\x00") or not value.isprintable():
            raise ValueError(f"reference {value!r}: printable text without / + #")
        return value


@dataclass
class NoticeFile:
    """The notices of one file, each with where it was read (for the problems)."""

    notices: list[NoticeIn] = field(default_factory=list)
    #: where each notice's lines were: notice index -> [(line number or JSON path)]
    where: list[list[str]] = field(default_factory=list)


def read_notices(path: Path, problems: Problems) -> NoticeFile:
    """The notices in ``path`` (CSV, or JSON by its ``.json`` name or first character)."""
    name = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        problems.add(name, 0, "", f"cannot read the file: {exc.strerror or exc}")
        return NoticeFile()
    if size > MAX_NOTICE_BYTES:
        problems.add(
            name,
            0,
            "",
            f"the file is {size / 1e6:.0f} MB; a notice file is at most "
            f"{MAX_NOTICE_BYTES / 1e6:.0f} MB (is it the right file?)",
        )
        return NoticeFile()
    if path.suffix.lower() == ".json":
        return _json(path, problems)
    return _csv(path, problems)


def _csv(path: Path, problems: Problems) -> NoticeFile:
    name = path.name
    rows = read_rows(path, CSV_COLUMNS, problems, max_bytes=MAX_NOTICE_BYTES)
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        ref = row.fields.get("reference", "").strip()
        head = {k: row.fields.get(k, "") for k in ("supplier", "dock")}
        group = groups.setdefault(ref, {"head": head, "head_line": row.line, "rows": []})
        for key, value in head.items():
            if value and group["head"][key] and value != group["head"][key]:
                problems.add(
                    name,
                    row.line,
                    key,
                    f"notice {ref} has {key} {group['head'][key]!r} on line "
                    f"{group['head_line']}, not {value!r}",
                )
            elif value and not group["head"][key]:
                group["head"][key] = value
        line_fields = {
            k: v
            for k, v in row.fields.items()
            if k not in ("reference", "supplier", "dock", "line")
        }
        group["rows"].append((row.line, line_fields))
    out = NoticeFile()
    for ref, group in groups.items():
        lines: list[NoticeLineIn] = []
        where: list[str] = []
        for line_no, model in parse_rows(
            name, [Row(n, f) for n, f in group["rows"]], NoticeLineIn, problems
        ):
            lines.append(model)
            where.append(str(line_no))
        try:
            notice = NoticeIn(reference=ref, lines=lines, **group["head"])
        except ValidationError as exc:
            if len(lines) == len(group["rows"]):
                for error in exc.errors(include_url=False):
                    column = str(error["loc"][0]) if error["loc"] else ""
                    problems.add(name, group["head_line"], column, _reason(error))
            continue
        out.notices.append(notice)
        out.where.append(where)
    if not rows and not problems:
        problems.add(name, 1, "", "the file has a header but no notice lines")
    return out


def _json(path: Path, problems: Problems) -> NoticeFile:
    name = path.name
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        problems.add(name, 0, "", "not UTF-8 text")
        return NoticeFile()
    except (OSError, ValueError) as exc:
        problems.add(name, 0, "", f"not valid JSON: {exc}")
        return NoticeFile()
    if isinstance(data, dict) and "notices" in data:
        data = data["notices"]
    items = data if isinstance(data, list) else [data]
    out = NoticeFile()
    for i, item in enumerate(items):
        try:
            notice = NoticeIn.model_validate(item)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                loc = [str(p) for p in error["loc"]]
                column = loc[-1] if loc else ""
                path_text = f"notices[{i}]" + "".join(
                    f"[{p}]" if p.isdigit() else f".{p}" for p in loc[:-1]
                )
                problems.add(f"{name}: {path_text}", 0, column, _reason(error))
            continue
        out.notices.append(notice)
        out.where.append([f"notices[{i}].lines[{j}]" for j in range(len(notice.lines))])
    if not items:
        problems.add(name, 0, "", "the file holds no notice")
    return out
