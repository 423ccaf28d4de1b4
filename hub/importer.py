"""``floor-hub import FILE``: orders from a JSON-lines or CSV file, through the same intake.

* **JSON lines** (``.jsonl``, ``.ndjson``, ``.json``): one ``OrderIntake`` object per line
  (docs/protocol.md); ``"v"`` may be left out in a file.
* **CSV** (``.csv``): one row per order line, rows of one order together or not; columns
  ``order_id, line_no, sku, qty, name, address1, address2, city, postcode, country,
  phone, region, priority, carrier, service, channel, promised_date`` (``line_no`` and the
  last eight may be left out or empty; ``promised_date`` is ``YYYY-MM-DD``).

Every order goes through :func:`hub.intake.take_order`; a line that is not valid JSON
is rejected with its line number. Orders are committed in chunks; rejections and status
messages wait in the hub outbox and are published by the running hub.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from sync.protocol import Topics

from .errors import ImportFileError
from .intake import IntakeResult, reject, take_order
from .outbound import Outbound, OutMessage, transact

CSV_REQUIRED = ("order_id", "sku", "qty", "name", "address1", "city", "postcode", "country")
CSV_KNOWN = (
    *CSV_REQUIRED,
    "line_no",
    "address2",
    "phone",
    "region",
    "priority",
    "carrier",
    "service",
    "channel",
    "promised_date",
)
CHUNK = 200


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One order read from a file (``data``), or why it could not be read (``error``)."""

    where: str
    data: dict[str, Any] | None
    error: str = ""


@dataclass
class ImportReport:
    """What an import did."""

    accepted: list[str] = field(default_factory=list)
    replays: list[str] = field(default_factory=list)
    rejected: list[tuple[str, list[str]]] = field(default_factory=list)
    messages: list[OutMessage] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "accepted": len(self.accepted),
            "unchanged": len(self.replays),
            "rejected": len(self.rejected),
            "rejections": [{"order": o, "reasons": r} for o, r in self.rejected],
        }


def _number(value: str) -> int | str:
    try:
        return int(value)
    except ValueError:
        return value  # left as text: the schema rejects it with a reason


def read_jsonl(text: str) -> Iterator[FileEntry]:
    """Orders from JSON lines."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            data = json.loads(line)
        except ValueError as exc:
            yield FileEntry(where, None, f"{where}: not valid JSON ({exc})")
            continue
        if not isinstance(data, dict):
            yield FileEntry(where, None, f"{where}: expected a JSON object")
            continue
        data.setdefault("v", 1)
        yield FileEntry(where, data)


def read_csv(text: str) -> Iterator[FileEntry]:
    """Orders from CSV rows (one row per order line)."""
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in (reader.fieldnames or [])]
    missing = [c for c in CSV_REQUIRED if c not in columns]
    if missing:
        raise ImportFileError(
            f"the CSV file has no column {', '.join(missing)}",
            hint=f"columns: {', '.join(CSV_KNOWN)}",
        )
    orders: dict[str, dict[str, Any]] = {}
    firsts: dict[str, int] = {}
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k}
        order_id = row.get("order_id", "")
        order = orders.get(order_id)
        if order is None:
            firsts[order_id] = number
            address_lines = [x for x in (row.get("address1", ""), row.get("address2", "")) if x]
            order = {
                "v": 1,
                "order_id": order_id,
                "lines": [],
                "ship_to": {
                    "name": row.get("name", ""),
                    "lines": address_lines,
                    "city": row.get("city", ""),
                    "postcode": row.get("postcode", ""),
                    "country": row.get("country", ""),
                    "phone": row.get("phone", ""),
                    "region": row.get("region", ""),
                },
            }
            for key in ("carrier", "service", "channel", "promised_date"):
                if row.get(key):
                    order[key] = row[key]
            if row.get("priority"):
                order["priority"] = _number(row["priority"])
            orders[order_id] = order
        lines: list[dict[str, Any]] = order["lines"]
        line_no = row.get("line_no") or str(len(lines) + 1)
        lines.append(
            {"line_no": _number(line_no), "sku": row.get("sku", ""), "qty": _number(row["qty"])}
        )
    for order_id, order in orders.items():
        yield FileEntry(f"row {firsts[order_id]}", order)


def read_file(path: Path) -> list[FileEntry]:
    """Every order in ``path`` (format by extension)."""
    if not path.is_file():
        raise ImportFileError(f"{path} does not exist or is not a file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"cannot read {path}: {exc}") from None
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return list(read_jsonl(text))
    if suffix == ".csv":
        return list(read_csv(text))
    raise ImportFileError(
        f"{path.name}: unknown order file type {suffix or '(none)'}",
        hint="use .jsonl (one JSON order per line) or .csv (one row per order line)",
    )


def import_orders(engine: Engine, site: str, path: Path, *, source: str = "") -> ImportReport:
    """Take every order in ``path`` through intake; committed in chunks."""
    entries = read_file(path)
    topics = Topics(site)
    report = ImportReport()
    label = source or f"file {path.name}"
    for start in range(0, len(entries), CHUNK):
        chunk = entries[start : start + CHUNK]

        def work(conn: Any, out: Outbound, chunk: list[FileEntry] = chunk) -> list[IntakeResult]:
            results = []
            for entry in chunk:
                if entry.data is None:
                    results.append(
                        reject(
                            conn,
                            out,
                            None,
                            [entry.error],
                            source=label,
                            data=entry.where,
                            now=time.time(),
                        )
                    )
                    continue
                results.append(take_order(conn, out, entry.data, source=label))
            return results

        results, sent = transact(engine, topics, work, "import")
        report.messages += sent
        for result in results:
            if not result.accepted:
                report.rejected.append((result.order_id, result.reasons))
            elif result.replay:
                report.replays.append(result.order_id)
            else:
                report.accepted.append(result.order_id)
    return report
