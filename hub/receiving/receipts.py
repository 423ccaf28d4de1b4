"""Receipts on the hub: notices imported, pushed to the devices, counted, closed, put away.

* :func:`import_notices` turns advance ship notices read from a file into receipts
  (``R-000001`` ...), each line's item found by its SKU or barcode (a case's quantity in
  units). A notice already imported under its reference and unchanged is left alone; one
  changed before anything was counted is replaced; one being counted is refused. Each new
  or changed notice goes to every registered device (:class:`~sync.protocol.ReceiptNotice`).
* :func:`count` applies a ``receipt.counted``: good units at a dock, damaged ones in
  quarantine (neither is promised to orders, :data:`hub.stock.UNRESERVABLE`); a blind
  receipt is made by its first count. Units counted on a receipt another handheld closed
  meanwhile are kept all the same, good ones with a put-away task of their own.
* :func:`close` applies a ``receipt.closed``: variances keep the reasons the device gave
  (``receipt.variance``), and the good units become put-away tasks (:mod:`.putaway`).
* :func:`put_away` counts units a receipt's put-away task moved; the receipt is
  ``put_away`` once all its good units are.

Every change publishes the receipt's status, retained, on ``receipts/{id}/status``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from floor_app.domain.errors import DomainError
from floor_app.domain.events import ReceiptClosed, ReceiptCounted, ReceiptVarianceExplained
from floor_app.domain.receiving import (
    LINE_FIELDS,
    Condition,
    Receipt,
    ReceiptKind,
    ReceiptLine,
    ReceiptState,
    VarianceReason,
    tracking_refusal,
)
from floor_app.domain.stockwork import StockReason
from sync.protocol import (
    MAX_RECEIPT_LINES,
    ReceiptLineModel,
    ReceiptNotice,
    ReceiptStatus,
    TopicError,
)
from sync.protocol.topics import check_level

from ..lots import serial_place
from ..outbound import Outbound
from ..site_data import device_ids, next_counter
from ..site_files.csvfile import Problems
from ..site_files.rows import MAX_QTY
from ..stock import StockChanges
from ..tables import (
    BarcodeRow,
    LocationRow,
    ReceiptCountRow,
    ReceiptLineRow,
    ReceiptRow,
    SerialRow,
    SkuRow,
    table_of,
)
from .files import NoticeFile, NoticeIn

RECEIPTS = table_of(ReceiptRow)
LINES = table_of(ReceiptLineRow)
COUNTS = table_of(ReceiptCountRow)
BARCODES = table_of(BarcodeRow)
SKUS = table_of(SkuRow)
LOCATIONS = table_of(LocationRow)
SERIALS = table_of(SerialRow)

#: The most units counted on one line (good or damaged), as a status message carries.
MAX_LINE_UNITS = 10_000_000
#: Where good units are counted, and damaged ones.
DOCK_KINDS = frozenset({"dock"})
QUARANTINE_KIND = "quarantine"


@dataclass
class StoredReceipt:
    """A receipt with the hub's own fields."""

    receipt: Receipt
    device_id: str = ""
    closed_by: str = ""
    to_put_away: int = 0
    put_away: int = 0
    closed_at: float | None = None
    #: put away per line number, and the reason kept per SKU
    line_put_away: dict[int, int] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    #: what the notice announced when imported (:func:`_announced`; "" for a blind receipt)
    announced: str = ""
    new: bool = False


def load(conn: Connection, receipt_id: str, *, lock: bool = False) -> StoredReceipt | None:
    """The receipt ``receipt_id`` (locked with ``lock``), or None."""
    query = select(RECEIPTS).where(RECEIPTS.c.receipt_id == receipt_id)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        return None
    lines = conn.execute(
        select(LINES).where(LINES.c.receipt_id == receipt_id).order_by(LINES.c.line_no)
    ).all()
    serials = conn.execute(
        select(COUNTS.c.serial, COUNTS.c.qty)
        .where(COUNTS.c.receipt_id == receipt_id)
        .where(COUNTS.c.serial != "")
        .order_by(COUNTS.c.id)
    ).all()
    held: list[str] = []
    for serial, qty in serials:
        if qty > 0:
            held.append(serial)
        elif serial in held:
            held.remove(serial)
    receipt = Receipt(
        receipt_id=row.receipt_id,
        reference=row.reference,
        supplier=row.supplier,
        kind=ReceiptKind(row.kind),
        dock=row.dock,
        state=ReceiptState(row.state),
        lines=[ReceiptLine(**{k: getattr(ln, k) for k in LINE_FIELDS}) for ln in lines],
        serials=held,
    )
    return StoredReceipt(
        receipt,
        device_id=row.device_id,
        closed_by=row.closed_by,
        to_put_away=row.to_put_away,
        put_away=row.put_away,
        closed_at=row.closed_at,
        line_put_away={ln.line_no: ln.put_away for ln in lines},
        announced=row.announced,
        reasons={ln.sku: ln.reason for ln in lines if ln.reason},
    )


def lock_receipts(conn: Connection, receipt_ids: Iterable[str]) -> None:
    """Lock these receipts (those that exist), in id order."""
    ids = sorted(set(receipt_ids))
    for start in range(0, len(ids), 500):
        conn.execute(
            select(RECEIPTS.c.receipt_id)
            .where(RECEIPTS.c.receipt_id.in_(ids[start : start + 500]))
            .order_by(RECEIPTS.c.receipt_id)
            .with_for_update()
        ).all()


def save(conn: Connection, stored: StoredReceipt, now: float) -> None:
    """Write the receipt and its lines."""
    r = stored.receipt
    values = {
        "kind": r.kind.value,
        "reference": r.reference,
        "supplier": r.supplier,
        "dock": r.dock,
        "state": r.state.value,
        "device_id": stored.device_id,
        "closed_by": stored.closed_by,
        "to_put_away": stored.to_put_away,
        "put_away": stored.put_away,
        "closed_at": stored.closed_at,
        "announced": stored.announced,
        "updated_at": now,
    }
    if stored.new:
        conn.execute(insert(RECEIPTS).values(receipt_id=r.receipt_id, created_at=now, **values))
        stored.new = False
    else:
        conn.execute(update(RECEIPTS).where(RECEIPTS.c.receipt_id == r.receipt_id).values(values))
    conn.execute(delete(LINES).where(LINES.c.receipt_id == r.receipt_id))
    if r.lines:
        conn.execute(
            insert(LINES),
            [
                {
                    "receipt_id": r.receipt_id,
                    **ln.as_dict(),
                    "put_away": stored.line_put_away.get(ln.line_no, 0),
                    "reason": stored.reasons.get(ln.sku, ""),
                }
                for ln in r.lines
            ],
        )


def status(stored: StoredReceipt, now: float) -> ReceiptStatus:
    """The receipt as upstream sees it."""
    r = stored.receipt
    return ReceiptStatus(
        receipt_id=r.receipt_id,
        reference=r.reference,
        supplier=r.supplier,
        kind=r.kind,
        state=r.state,
        lines=[_line_model(ln, stored) for ln in r.lines],
        closed_by=stored.closed_by,
        at=now,
    )


def _line_model(ln: ReceiptLine, stored: StoredReceipt | None = None) -> ReceiptLineModel:
    """A line as announced (``stored`` None: a notice) or with its counts and put-away."""
    data: dict[str, Any] = ln.as_dict()
    if stored is None:
        data.update(received=0, damaged=0)
    else:
        data.update(
            put_away=stored.line_put_away.get(ln.line_no, 0), reason=stored.reasons.get(ln.sku, "")
        )
    return ReceiptLineModel(**data)


def publish(out: Outbound, stored: StoredReceipt, now: float) -> None:
    """Publish the receipt's status (retained; the last one of a transaction wins)."""
    out.receipt_status(status(stored, now))


def notice(receipt: Receipt) -> ReceiptNotice:
    """The push item telling devices about ``receipt`` (its lines as announced)."""
    return ReceiptNotice(
        receipt_id=receipt.receipt_id,
        reference=receipt.reference,
        supplier=receipt.supplier,
        dock=receipt.dock,
        state=receipt.state,
        lines=[_line_model(ln) for ln in receipt.lines],
    )


def push_notice(
    conn: Connection, out: Outbound, receipt: Receipt, devices: Iterable[str] | None = None
) -> None:
    """Send ``receipt``'s notice to ``devices`` (every registered one by default)."""
    item = notice(receipt)
    for device in device_ids(conn) if devices is None else devices:
        out.push(device, item)


def send_open_notices(conn: Connection, out: Outbound, device_id: str) -> int:
    """Send a newly registered device every notice still to receive; how many."""
    ids = conn.execute(
        select(RECEIPTS.c.receipt_id)
        .where(RECEIPTS.c.kind == ReceiptKind.NOTICE.value)
        .where(RECEIPTS.c.state.in_([ReceiptState.EXPECTED.value, ReceiptState.RECEIVING.value]))
        .order_by(RECEIPTS.c.receipt_id)
    ).scalars()
    n = 0
    for receipt_id in list(ids):
        stored = load(conn, receipt_id)
        if stored is not None:
            push_notice(conn, out, stored.receipt, [device_id])
            n += 1
    return n


# -- import -----------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import did (or would do: a dry run), by reference."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    receipt_ids: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "receipts": self.receipt_ids,
        }


def _resolve_lines(
    conn: Connection, notice_in: NoticeIn, where: list[str], name: str, problems: Problems
) -> list[ReceiptLine]:
    """The notice's lines with their SKUs and quantities in units (problems reported)."""
    gtins = sorted({ln.gtin for ln in notice_in.lines if ln.gtin})
    skus = sorted({ln.sku for ln in notice_in.lines if ln.sku})
    by_gtin = {
        r.gtin: (r.sku, int(r.pack_qty))
        for r in conn.execute(select(BARCODES).where(BARCODES.c.gtin.in_(gtins)))
    }
    for r in conn.execute(select(SKUS.c.sku, SKUS.c.gtin).where(SKUS.c.gtin.in_(gtins))):
        by_gtin.setdefault(r.gtin, (r.sku, 1))
    sku_gtin = {
        r.sku: r.gtin
        for r in conn.execute(
            select(SKUS.c.sku, SKUS.c.gtin).where(
                SKUS.c.sku.in_(skus + [s for s, _ in by_gtin.values()])
            )
        )
    }
    lines: list[ReceiptLine] = []
    for i, ln in enumerate(notice_in.lines):
        at = where[i] if i < len(where) else f"lines[{i}]"
        line_no, file = (int(at), name) if at.isdigit() else (0, f"{name}: {at}")
        pack = 1
        sku = ln.sku
        if ln.gtin:
            found = by_gtin.get(ln.gtin)
            if found is None:
                problems.add(file, line_no, "gtin", f"no item has the barcode {ln.gtin}")
                continue
            if sku and found[0] != sku:
                problems.add(
                    file, line_no, "gtin", f"{ln.gtin} is a barcode of {found[0]}, not of {sku}"
                )
                continue
            sku, pack = found
        if sku not in sku_gtin:
            problems.add(file, line_no, "sku", f"no item {sku} on this site")
            continue
        if ln.qty * pack > MAX_QTY:
            problems.add(
                file,
                line_no,
                "qty",
                f"{ln.qty} x {pack} units of {ln.gtin} is more than the {MAX_QTY} one line holds",
            )
            continue
        lines.append(
            ReceiptLine(
                line_no=len(lines) + 1,
                sku=sku,
                gtin=ln.gtin or sku_gtin[sku],
                expected=ln.qty * pack,
                lot=ln.lot,
                expiry=ln.expiry,
                sscc=ln.sscc,
            )
        )
    return lines


def import_notices(
    conn: Connection, out: Outbound, found: NoticeFile, name: str, problems: Problems, now: float
) -> ImportResult:
    """Make or update receipts from ``found`` (see the module docstring). Problems go to
    ``problems``; the caller rolls back when there are any."""
    result = ImportResult()
    seen: set[str] = set()
    docks = {
        r.code
        for r in conn.execute(select(LOCATIONS.c.code).where(LOCATIONS.c.kind.in_(DOCK_KINDS)))
    }
    for notice_in, where in zip(found.notices, found.where, strict=True):
        ref = notice_in.reference
        if ref in seen:
            problems.add(name, 0, "reference", f"notice {ref} is in the file twice")
            continue
        seen.add(ref)
        if notice_in.dock and notice_in.dock not in docks:
            problems.add(name, 0, "dock", f"notice {ref}: {notice_in.dock} is not a dock location")
            continue
        lines = _resolve_lines(conn, notice_in, where, name, problems)
        if problems:
            continue
        announced = _announced(notice_in.supplier, notice_in.dock, lines)
        existing = _by_reference(conn, ref)
        if existing is not None and existing.announced == announced:
            result.receipt_ids[ref] = existing.receipt.receipt_id
            result.unchanged.append(ref)  # as imported before, whatever was counted since
            continue
        if existing is None or existing.receipt.state is ReceiptState.CANCELLED:
            receipt_id = f"R-{next_counter(conn, 'receipt_counter'):06d}"
            stored = StoredReceipt(
                Receipt(receipt_id, ref, notice_in.supplier, dock=notice_in.dock, lines=lines),
                announced=announced,
                new=True,
            )
            result.created.append(ref)
        else:
            r = existing.receipt
            result.receipt_ids[ref] = r.receipt_id
            if r.state is not ReceiptState.EXPECTED or any(ln.counted for ln in r.lines):
                problems.add(
                    name,
                    0,
                    "reference",
                    f"notice {ref} ({r.receipt_id}) is {r.state.value} and counting has "
                    "started: it cannot be changed; receive the difference as it comes",
                )
                continue
            r.supplier, r.dock, r.lines = notice_in.supplier, notice_in.dock, lines
            existing.announced = announced
            stored = existing
            result.updated.append(ref)
        result.receipt_ids[ref] = stored.receipt.receipt_id
        save(conn, stored, now)
        push_notice(conn, out, stored.receipt)
        publish(out, stored, now)
    return result


def _announced(supplier: str, dock: str, lines: list[ReceiptLine]) -> str:
    """What a notice announced, as imported (counting fills in lots and docks later; a
    re-import is compared with this, not with the lines as counted)."""
    body = {
        "supplier": supplier,
        "dock": dock,
        "lines": [[ln.sku, ln.gtin, ln.expected, ln.lot, ln.expiry, ln.sscc] for ln in lines],
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False)


def _by_reference(conn: Connection, reference: str) -> StoredReceipt | None:
    """The newest notice imported under ``reference`` (locked: a count may be applied
    meanwhile), cancelled or not."""
    receipt_id = conn.execute(
        select(RECEIPTS.c.receipt_id)
        .where(RECEIPTS.c.reference == reference)
        .where(RECEIPTS.c.kind == ReceiptKind.NOTICE.value)
        .order_by(RECEIPTS.c.created_at.desc(), RECEIPTS.c.receipt_id.desc())
    ).scalar()
    return None if receipt_id is None else load(conn, str(receipt_id), lock=True)


def cancel(conn: Connection, out: Outbound, receipt_id: str, now: float) -> StoredReceipt:
    """Cancel a notice nothing was counted on (the devices drop it)."""
    stored = load(conn, receipt_id, lock=True)
    if stored is None:
        raise DomainError(f"no receipt {receipt_id}", code="receiving.unknown")
    r = stored.receipt
    if r.state is not ReceiptState.EXPECTED or any(ln.counted for ln in r.lines):
        raise DomainError(
            f"receipt {receipt_id} is {r.state.value} with units counted: it cannot be cancelled",
            hint="close it on the handheld instead, with the reasons for what is missing",
            code="receiving.cancel_counted",
        )
    r.state = ReceiptState.CANCELLED
    save(conn, stored, now)
    push_notice(conn, out, r)
    publish(out, stored, now)
    return stored


# -- applying the floor's events ---------------------------------------------------------


def _location_kind(conn: Connection, code: str) -> str | None:
    kind = conn.execute(select(LOCATIONS.c.kind).where(LOCATIONS.c.code == code)).scalar()
    return None if kind is None else str(kind)


def _check_count(conn: Connection, ev: ReceiptCounted) -> Condition:
    try:
        condition = Condition(ev.condition)
    except ValueError:
        raise DomainError(
            f"condition {ev.condition!r} is not good or damaged",
            code="receiving.bad_condition",
            params={"condition": ev.condition[:16]},
        ) from None
    kind = _location_kind(conn, ev.location)
    wanted = "dock" if condition is Condition.GOOD else QUARANTINE_KIND
    if kind != wanted:
        raise DomainError(
            f"{ev.location} is {'not a location' if kind is None else 'a ' + kind + ' location'}"
            f": {condition.value} units are counted at a {wanted} location; nothing was counted",
            code="receiving.wrong_place",
            params={"location": ev.location, "wanted": wanted},
        )
    item = conn.execute(
        select(SKUS.c.lot_tracked, SKUS.c.serial_tracked).where(SKUS.c.sku == ev.sku)
    ).first()
    if item is None:
        raise DomainError(
            f"no item {ev.sku} on this site; nothing was counted",
            code="receiving.unknown_item",
            params={"sku": ev.sku},
        )
    refusal = tracking_refusal(
        ev.sku,
        lot_tracked=bool(item.lot_tracked),
        serial_tracked=bool(item.serial_tracked),
        lot=ev.lot,
        serial=ev.serial,
        qty=ev.qty,
    )
    if refusal:
        raise DomainError.of(refusal)
    return condition


def count(
    conn: Connection,
    out: Outbound,
    stock: StockChanges,
    ev: ReceiptCounted,
    *,
    device_id: str,
    seq: int,
    now: float,
) -> str:
    """Apply one ``receipt.counted`` (raises :class:`DomainError`: nothing changed)."""
    condition = _check_count(conn, ev)
    stored = load(conn, ev.receipt, lock=True)
    if ev.qty < 0:
        _check_take_back(conn, ev, condition)
    if stored is None:
        if not ev.reference.strip():
            raise DomainError(
                f"receipt {ev.receipt} is not known to the hub and names no delivery",
                code="receiving.unknown",
                params={"receipt": ev.receipt},
            )
        try:
            check_level(ev.receipt, "receipt id")
            check_level(ev.reference.strip(), "reference")
        except TopicError as exc:
            raise DomainError(
                f"{exc}; nothing was counted",
                code="receiving.bad_id",
                params={"receipt": ev.receipt[:40]},
            ) from None
        stored = StoredReceipt(
            Receipt(
                ev.receipt,
                ev.reference.strip(),
                ev.supplier,
                kind=ReceiptKind.BLIND,
                dock=ev.location if condition is Condition.GOOD else "",
            ),
            new=True,
        )
    place = serial_place(conn, ev.sku, ev.serial) if ev.serial and ev.qty > 0 else None
    if place is not None and place[0] == "in_stock":
        raise DomainError(
            f"serial {ev.serial} of {ev.sku} is in stock already; nothing was counted",
            hint="set the unit aside for a supervisor",
            code="receiving.serial_known",
            params={"serial": ev.serial, "sku": ev.sku},
        )
    late = stored.receipt.state in (ReceiptState.CLOSED, ReceiptState.PUT_AWAY)
    stored.receipt.count(
        ev.sku,
        ev.qty,
        condition=condition,
        lot=ev.lot,
        expiry=ev.expiry,
        sscc=ev.sscc,
        serial=ev.serial,
        late=True,
    )
    _check_size(stored.receipt)
    stored.device_id = device_id
    if condition is Condition.GOOD and not stored.receipt.dock:
        stored.receipt.dock = ev.location
    if late and condition is Condition.GOOD:  # counted after the close: put away now
        _put_away_late(conn, stored, ev, now)
    save(conn, stored, now)
    conn.execute(
        insert(COUNTS).values(
            receipt_id=ev.receipt,
            sku=ev.sku,
            lot=ev.lot,
            expiry=ev.expiry,
            serial=ev.serial,
            sscc=ev.sscc,
            qty=ev.qty,
            condition=condition.value,
            location=ev.location,
            user=ev.user[:64],
            device_id=device_id,
            seq=seq,
            at=now,
        )
    )
    reason = StockReason.RECEIPT if condition is Condition.GOOD else StockReason.QUARANTINE
    stock.move(ev.location, ev.sku, ev.qty, reason)
    if ev.serial:
        _place_serial(conn, ev)
    publish(out, stored, now)
    return f"receipt {stored.receipt.reference}: {ev.qty:+d} {condition.value} x {ev.sku}"


def _put_away_late(conn: Connection, stored: StoredReceipt, ev: ReceiptCounted, now: float) -> None:
    """Good units counted on a closed receipt (another handheld closed it first): their own
    put-away task, and the receipt waits for them."""
    from ..stock_tasks import save as save_tasks
    from .putaway import plan_putaway

    group = [(ev.location, ev.sku, ev.lot, ev.expiry, ev.qty)]
    tasks = plan_putaway(conn, stored.receipt, groups=group)
    save_tasks(conn, tasks, now=now)
    stored.to_put_away += sum(t.task.qty for t in tasks)
    stored.receipt.state = ReceiptState.CLOSED


def _check_take_back(conn: Connection, ev: ReceiptCounted, condition: Condition) -> None:
    """A take-back (a negative count) takes units counted on this receipt at that place."""
    net = conn.execute(
        select(func.coalesce(func.sum(COUNTS.c.qty), 0))
        .where(COUNTS.c.receipt_id == ev.receipt)
        .where(COUNTS.c.sku == ev.sku)
        .where(COUNTS.c.lot == ev.lot)
        .where(COUNTS.c.condition == condition.value)
        .where(COUNTS.c.location == ev.location)
    ).scalar()
    if int(net or 0) + ev.qty < 0:
        raise DomainError(
            f"only {int(net or 0)} {condition.value} x {ev.sku} were counted at {ev.location} "
            f"on this receipt: cannot take back {-ev.qty}; nothing was changed",
            code="receiving.take_back_here",
            params={"have": int(net or 0), "sku": ev.sku, "location": ev.location, "qty": -ev.qty},
        )


def _check_size(receipt: Receipt) -> None:
    """A receipt stays within what one status message carries."""
    if len(receipt.lines) > MAX_RECEIPT_LINES:
        raise DomainError(
            f"receipt {receipt.reference} would have more than {MAX_RECEIPT_LINES} lines; "
            "nothing was counted: receive the rest on a receipt of its own",
            code="receiving.too_many_lines",
            params={"reference": receipt.reference, "limit": MAX_RECEIPT_LINES},
        )
    for ln in receipt.lines:
        if max(ln.received, ln.damaged) > MAX_LINE_UNITS:
            raise DomainError(
                f"{ln.sku}: more than {MAX_LINE_UNITS} units on one line; nothing was counted",
                code="receiving.too_many_units",
                params={"sku": ln.sku, "limit": MAX_LINE_UNITS},
            )


def _place_serial(conn: Connection, ev: ReceiptCounted) -> None:
    where = (SERIALS.c.sku == ev.sku) & (SERIALS.c.serial == ev.serial)
    if ev.qty < 0:
        conn.execute(delete(SERIALS).where(where).where(SERIALS.c.location == ev.location))
        return
    values = {"location": ev.location, "lot": ev.lot, "state": "in_stock", "order_id": ""}
    if conn.execute(select(SERIALS.c.serial).where(where)).first() is None:
        conn.execute(insert(SERIALS).values(sku=ev.sku, serial=ev.serial, **values))
    else:
        conn.execute(update(SERIALS).where(where).values(values))


def explain(conn: Connection, ev: ReceiptVarianceExplained) -> str:
    """Keep the reason given for a SKU's variance (until the receipt closes)."""
    try:
        reason = VarianceReason(ev.reason)
    except ValueError:
        known = ", ".join(r.value for r in VarianceReason)
        raise DomainError(
            f"variance reason {ev.reason!r} is not one of {known}",
            code="receiving.bad_reason",
            params={"reason": ev.reason[:32]},
        ) from None
    stored = load(conn, ev.receipt, lock=True)
    if stored is None:
        raise DomainError(
            f"receipt {ev.receipt} is not known to the hub",
            code="receiving.unknown",
            params={"receipt": ev.receipt},
        )
    stored.reasons[ev.sku] = reason.value
    conn.execute(
        update(LINES)
        .where(LINES.c.receipt_id == ev.receipt)
        .where(LINES.c.sku == ev.sku)
        .values(reason=reason.value)
    )
    ref = stored.receipt.reference
    return f"receipt {ref}: {ev.sku} {ev.received}/{ev.expected} {reason.value}"


def close(
    conn: Connection,
    out: Outbound,
    ev: ReceiptClosed,
    *,
    rule: str,
    now: float,
) -> tuple[StoredReceipt, str]:
    """Apply a ``receipt.closed``: the receipt closes and its good units become put-away
    tasks (see :mod:`.putaway`). A variance without a reason is kept as ``not_given``."""
    from .putaway import plan_putaway

    stored = load(conn, ev.receipt, lock=True)
    if stored is None:
        raise DomainError(
            f"receipt {ev.receipt} is not known to the hub",
            code="receiving.unknown",
            params={"receipt": ev.receipt},
        )
    r = stored.receipt
    if not r.is_open:
        return stored, f"receipt {r.reference} is already {r.state.value}"
    for v in r.variances():
        stored.reasons.setdefault(v.sku, "not_given")
    r.state = ReceiptState.CLOSED
    stored.closed_by, stored.closed_at = ev.user[:64], now
    tasks = plan_putaway(conn, r, rule=rule)
    stored.to_put_away = sum(t.task.qty for t in tasks)
    if stored.to_put_away == 0:
        r.state = ReceiptState.PUT_AWAY
    save(conn, stored, now)
    if r.kind is ReceiptKind.NOTICE:
        push_notice(conn, out, r)
    publish(out, stored, now)
    from ..stock_tasks import save as save_tasks

    save_tasks(conn, tasks, now=now)
    return stored, (
        f"receipt {r.reference} closed: {stored.to_put_away} units to put away in "
        f"{len(tasks)} tasks"
    )


def put_away(
    conn: Connection, out: Outbound, receipt_id: str, sku: str, lot: str, qty: int, now: float
) -> None:
    """``qty`` units of ``sku`` (``lot``) of the receipt were put away."""
    stored = load(conn, receipt_id, lock=True)
    if stored is None:
        return
    left = qty
    for ln in stored.receipt.lines:
        if left <= 0:
            break
        if ln.sku != sku or (lot and ln.lot != lot):
            continue
        done = stored.line_put_away.get(ln.line_no, 0)
        n = min(left, max(0, ln.received - done))
        stored.line_put_away[ln.line_no] = done + n
        left -= n
    stored.put_away += qty
    _maybe_put_away(stored)
    save(conn, stored, now)
    publish(out, stored, now)


def put_away_short(
    conn: Connection, out: Outbound, receipt_id: str, units: int, now: float
) -> None:
    """A put-away task of the receipt was closed with ``units`` not put away (the floor
    said why): the receipt waits for them no more."""
    stored = load(conn, receipt_id, lock=True)
    if stored is None or units <= 0:
        return
    stored.to_put_away = max(stored.put_away, stored.to_put_away - units)
    _maybe_put_away(stored)
    save(conn, stored, now)
    publish(out, stored, now)


def _maybe_put_away(stored: StoredReceipt) -> None:
    if stored.put_away >= stored.to_put_away and stored.receipt.state is ReceiptState.CLOSED:
        stored.receipt.state = ReceiptState.PUT_AWAY
