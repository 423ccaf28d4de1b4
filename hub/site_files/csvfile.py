"""Reading a site's CSV files: UTF-8 with or without a byte order mark, columns by header
name, every problem reported as ``file:line: column: reason`` and nothing taken on faith.

A file is read whole and checked before any row is used: its size (a site file is never
hundreds of megabytes; a larger one is a wrong file), its encoding, its delimiter (a file
saved with semicolons or tabs is named as such, not read as one odd column), its header
(missing, unknown and repeated columns) and each row's number of fields. Rows then go
through a pydantic model whose field names are the columns, so a reason names its column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

#: The largest site file read (bytes); 50,000 items with their names is about 10 MB.
MAX_FILE_BYTES = 64 * 1024 * 1024

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """Why one line (or a whole file, ``line`` 0) cannot be loaded."""

    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = self.file if self.line <= 0 else f"{self.file}:{self.line}"
        return (
            f"{where}: {self.column}: {self.reason}" if self.column else f"{where}: {self.reason}"
        )


@dataclass
class Problems:
    """The problems found so far, in the order found."""

    items: list[Problem] = field(default_factory=list)

    def add(self, file: str, line: int, column: str, reason: str) -> None:
        self.items.append(Problem(file, line, column, reason))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True, slots=True)
class Columns:
    """The columns of a file: those it must have, and those it may have."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def known(self) -> tuple[str, ...]:
        return (*self.required, *self.optional)


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its line number in the file and its fields by column name."""

    line: int
    fields: dict[str, str]


_OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def read_rows(
    path: Path, columns: Columns, problems: Problems, *, max_bytes: int = MAX_FILE_BYTES
) -> list[Row]:
    """The rows of the CSV file ``path``; [] (and the reasons in ``problems``) when the file
    cannot be read as a whole. Blank lines are skipped."""
    name = path.name
    try:
        size = path.stat().st_size
        if size > max_bytes:
            problems.add(
                name,
                0,
                "",
                f"the file is {size / 1e6:.0f} MB; a site file is at most "
                f"{max_bytes / 1e6:.0f} MB (is it the right file?)",
            )
            return []
        raw = path.read_bytes()
    except OSError as exc:
        problems.add(name, 0, "", f"cannot read the file: {exc.strerror or exc}")
        return []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        problems.add(name, line, "", "not UTF-8 text; save the file as CSV UTF-8")
        return []
    if "\x00" in text:
        problems.add(name, text.count("\n", 0, text.index("\x00")) + 1, "", "a NUL character")
        return []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        problems.add(name, 1, "", f"not readable as CSV: {exc}")
        return []
    if header is None or not any(h.strip() for h in header):
        problems.add(
            name, 1, "", f"the file has no header line; columns: {', '.join(columns.known)}"
        )
        return []
    names = [h.strip().lower() for h in header]
    if not _header_ok(name, names, columns, problems):
        return []
    rows: list[Row] = []
    start = 2
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not any(f.strip() for f in record):
                continue
            if len(record) != len(names):
                problems.add(name, line, "", f"{len(record)} fields; the header has {len(names)}")
                continue
            rows.append(Row(line, {n: v.strip() for n, v in zip(names, record, strict=True)}))
    except csv.Error as exc:
        problems.add(name, start, "", f"not readable as CSV: {exc}")
        return []
    return rows


def _header_ok(name: str, names: list[str], columns: Columns, problems: Problems) -> bool:
    """Check the header; False when the rows cannot be read by it."""
    missing = [c for c in columns.required if c not in names]
    if missing and len(names) == 1:
        for delimiter, called in _OTHER_DELIMITERS.items():
            if delimiter in names[0]:
                problems.add(
                    name, 1, "", f"the columns are separated by {called}; separate them by commas"
                )
                return False
    ok = True
    for column in missing:
        problems.add(name, 1, column, f"missing column (columns: {', '.join(columns.known)})")
        ok = False
    seen: set[str] = set()
    for column in names:
        if column in seen:
            problems.add(name, 1, column, "the column is named twice")
            ok = False
        seen.add(column)
        if column not in columns.known:
            problems.add(name, 1, column, f"unknown column (columns: {', '.join(columns.known)})")
            ok = False
    return ok


def parse_rows(
    name: str, rows: list[Row], model: type[M], problems: Problems
) -> Iterator[tuple[int, M]]:
    """Each row as ``model`` (its fields named as the columns), with its line number; rows
    that do not validate are reported and left out."""
    for row in rows:
        try:
            yield row.line, model.model_validate(row.fields)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                column = str(error["loc"][0]) if error["loc"] else ""
                problems.add(name, row.line, column, _reason(error))


def _reason(error: Any) -> str:
    """A pydantic error as a short reason (its context's message when a validator raised)."""
    ctx = error.get("ctx") or {}
    if "error" in ctx:
        return str(ctx["error"])
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def write_rows(path: Path, header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    """Write a CSV file (UTF-8, no byte order mark, ``\\n`` line ends)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
