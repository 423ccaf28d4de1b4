"""Orders and pick tasks in the hub database, as :mod:`floor_app.domain` objects.

A loaded :class:`OrderRecord` or :class:`TaskRecord` remembers what it looked like when it
was loaded; saving writes only what changed. Loading with ``lock=True`` takes the rows
with ``SELECT ... FOR UPDATE`` (PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already holds the
whole database), sorted by id, as the lock order in :mod:`hub.tables` requires.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BindParameter, Connection, bindparam, insert, select

from floor_app.domain.carriers import CarrierChoice
from floor_app.domain.order import Address, Order, OrderLine, OrderState
from floor_app.domain.picking import PickLine, PickTask, ShortReason, TaskState, Tote

from .bulk import insert_rows, update_rows
from .tables import (
    OrderHistoryRow,
    OrderLineRow,
    OrderRow,
    PickLineRow,
    PickTaskRow,
    ToteRow,
    table_of,
)

ORDERS = table_of(OrderRow)
LINES = table_of(OrderLineRow)
HISTORY = table_of(OrderHistoryRow)
TASKS = table_of(PickTaskRow)
PICK_LINES = table_of(PickLineRow)
TOTES = table_of(ToteRow)

_CHUNK = 500


def address_json(address: Address) -> str:
    """The ship-to address as stored (JSON)."""
    return json.dumps(
        {
            "name": address.name,
            "lines": list(address.lines),
            "city": address.city,
            "postcode": address.postcode,
            "country": address.country,
            "phone": address.phone,
            "region": address.region,
        },
        ensure_ascii=False,
    )


def address_from_json(text: str) -> Address:
    """The address stored by :func:`address_json`."""
    data = json.loads(text)
    return Address(
        data["name"],
        tuple(data["lines"]),
        data["city"],
        data["postcode"],
        data["country"],
        data.get("phone", ""),
        data.get("region", ""),
    )


def _header(order: Order) -> tuple[object, ...]:
    return (order.state, order.version, order.held_from, order.hold_reason)


def _carrier(order: Order) -> tuple[object, ...]:
    return (order.carrier, order.service, order.carrier_choice)


def choice_json(choice: CarrierChoice | None) -> str:
    """A carrier choice as stored ("" for none)."""
    return json.dumps(choice.to_dict(), ensure_ascii=False) if choice is not None else ""


def choice_from_json(text: str) -> CarrierChoice | None:
    """The choice stored by :func:`choice_json`."""
    return CarrierChoice.from_dict(json.loads(text)) if text else None


def _line_state(line: OrderLine) -> tuple[int, int, int]:
    return (line.picked, line.packed, line.short)


@dataclass
class OrderRecord:
    """An order with the hub's own fields, and what it looked like when loaded."""

    order: Order
    external_version: int = 1
    pack_station: str = ""
    tracking: str = ""
    reserved: dict[int, int] = field(default_factory=dict)  # line_no -> units reserved
    loaded_header: tuple[object, ...] = ()
    loaded_extra: tuple[object, ...] = ()
    loaded_carrier: tuple[object, ...] = ()
    loaded_lines: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    loaded_reserved: dict[int, int] = field(default_factory=dict)
    history_from: int = 0  # entries of order.history already stored
    change_source: str = ""

    @property
    def order_id(self) -> str:
        """The order's id."""
        return self.order.order_id

    def _extra(self) -> tuple[object, ...]:
        return (self.external_version, self.pack_station, self.tracking)

    def mark_loaded(self) -> None:
        """Remember the current state as the stored one."""
        self.loaded_header = _header(self.order)
        self.loaded_extra = self._extra()
        self.loaded_carrier = _carrier(self.order)
        self.loaded_lines = {ln.line_no: _line_state(ln) for ln in self.order.lines}
        self.loaded_reserved = dict(self.reserved)
        self.history_from = len(self.order.history)

    @property
    def dirty(self) -> bool:
        """True when something differs from the stored row."""
        return (
            _header(self.order) != self.loaded_header
            or self._extra() != self.loaded_extra
            or _carrier(self.order) != self.loaded_carrier
            or self.reserved != self.loaded_reserved
            or any(_line_state(ln) != self.loaded_lines.get(ln.line_no) for ln in self.order.lines)
        )

    def line_for_sku(self, sku: str) -> OrderLine | None:
        """The first line of ``sku`` that still has units open, else the first line of it."""
        matching = [ln for ln in self.order.lines if ln.sku == sku]
        for ln in matching:
            if ln.open_to_pick > 0:
                return ln
        return matching[0] if matching else None


_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_ORDERS_BY_ID = select(ORDERS).where(ORDERS.c.order_id.in_(_IDS)).order_by(ORDERS.c.order_id)
_ORDERS_LOCKED = _ORDERS_BY_ID.with_for_update()
_ORDERS_SKIP_LOCKED = _ORDERS_BY_ID.with_for_update(skip_locked=True)
_LINES_OF = (
    select(LINES).where(LINES.c.order_id.in_(_IDS)).order_by(LINES.c.order_id, LINES.c.line_no)
)


def load_orders(
    conn: Connection, order_ids: Iterable[str], *, lock: bool = False, skip_locked: bool = False
) -> dict[str, OrderRecord]:
    """The orders with these ids that exist (locked, sorted by id, with ``lock``; rows
    another transaction holds are left out with ``skip_locked``)."""
    ids = sorted(set(order_ids))
    out: dict[str, OrderRecord] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        query = (_ORDERS_SKIP_LOCKED if skip_locked else _ORDERS_LOCKED) if lock else _ORDERS_BY_ID
        headers = conn.execute(query, {"ids": chunk}).all()
        if not headers:
            continue
        lines: dict[str, list[tuple[OrderLine, int]]] = {}
        for row in conn.execute(_LINES_OF, {"ids": [h.order_id for h in headers]}):
            lines.setdefault(row.order_id, []).append(
                (
                    OrderLine(row.line_no, row.sku, row.qty, row.picked, row.packed, row.short),
                    row.reserved,
                )
            )
        for h in headers:
            own = lines.get(h.order_id, [])
            if not own:
                continue  # an order without lines cannot exist; skip rather than crash
            order = Order(
                order_id=h.order_id,
                lines=[ln for ln, _ in own],
                ship_to=address_from_json(h.ship_to),
                priority=h.priority,
                carrier=h.carrier,
                service=h.service,
                state=OrderState(h.state),
                version=h.version,
                held_from=OrderState(h.held_from) if h.held_from else None,
                hold_reason=h.hold_reason,
                channel=h.channel,
                promised_date=h.promised_date,
                carrier_choice=choice_from_json(h.carrier_choice),
            )
            record = OrderRecord(
                order,
                external_version=h.external_version,
                pack_station=h.pack_station,
                tracking=h.tracking,
                reserved={ln.line_no: r for ln, r in own},
            )
            record.mark_loaded()
            out[h.order_id] = record
    return out


def insert_order(
    conn: Connection,
    order: Order,
    *,
    now: float,
    source: str,
    digest: str = "",
) -> OrderRecord:
    """Store a new order (its state and version as given); the record, marked as loaded."""
    conn.execute(
        insert(ORDERS).values(
            order_id=order.order_id,
            state=order.state.value,
            version=order.version,
            external_version=order.version,
            priority=order.priority,
            carrier=order.carrier,
            service=order.service,
            channel=order.channel,
            promised_date=order.promised_date,
            carrier_choice=choice_json(order.carrier_choice),
            ship_to=address_json(order.ship_to),
            held_from=None,
            hold_reason="",
            pack_station="",
            tracking="",
            intake_digest=digest,
            source=source,
            received_at=now,
            updated_at=now,
        )
    )
    insert_rows(
        conn,
        LINES,
        [
            {
                "order_id": order.order_id,
                "line_no": ln.line_no,
                "sku": ln.sku,
                "qty": ln.qty,
                "reserved": 0,
                "picked": ln.picked,
                "packed": ln.packed,
                "short": ln.short,
            }
            for ln in order.lines
        ],
    )
    record = OrderRecord(order, external_version=order.version)
    record.reserved = {ln.line_no: 0 for ln in order.lines}
    record.mark_loaded()
    record.history_from = 0
    return record


def save_orders(conn: Connection, records: Iterable[OrderRecord], *, now: float) -> None:
    """Write what changed in ``records`` (headers, line counters, history)."""
    headers: list[dict[str, object]] = []
    carriers: list[dict[str, object]] = []
    lines: list[dict[str, object]] = []
    history: list[dict[str, object]] = []
    for rec in records:
        order = rec.order
        if _header(order) != rec.loaded_header or rec._extra() != rec.loaded_extra:
            headers.append(
                {
                    "order_id": order.order_id,
                    "state": order.state.value,
                    "version": order.version,
                    "external_version": rec.external_version,
                    "held_from": order.held_from.value if order.held_from else None,
                    "hold_reason": order.hold_reason,
                    "pack_station": rec.pack_station,
                    "tracking": rec.tracking,
                    "updated_at": now,
                }
            )
        if _carrier(order) != rec.loaded_carrier:
            carriers.append(
                {
                    "order_id": order.order_id,
                    "carrier": order.carrier,
                    "service": order.service,
                    "carrier_choice": choice_json(order.carrier_choice),
                }
            )
        for ln in order.lines:
            if _line_state(ln) != rec.loaded_lines.get(ln.line_no) or rec.reserved.get(
                ln.line_no, 0
            ) != rec.loaded_reserved.get(ln.line_no, 0):
                lines.append(
                    {
                        "order_id": order.order_id,
                        "line_no": ln.line_no,
                        "picked": ln.picked,
                        "packed": ln.packed,
                        "short": ln.short,
                        "reserved": rec.reserved.get(ln.line_no, 0),
                    }
                )
        version = order.version - (len(order.history) - rec.history_from)
        for from_state, to_state, reason in order.history[rec.history_from :]:
            version += 1
            history.append(
                {
                    "order_id": order.order_id,
                    "from_state": from_state.value,
                    "to_state": to_state.value,
                    "version": version,
                    "reason": reason[:500],
                    "source": rec.change_source,
                    "at": now,
                }
            )
        rec.mark_loaded()
    update_rows(conn, ORDERS, ("order_id",), headers)
    update_rows(conn, ORDERS, ("order_id",), carriers)
    update_rows(conn, LINES, ("order_id", "line_no"), lines)
    insert_rows(conn, HISTORY, history)


# -- pick tasks ------------------------------------------------------------------------


def _task_header(rec: TaskRecord) -> tuple[object, ...]:
    t = rec.task
    return (
        t.state,
        t.version,
        t.assigned_to,
        rec.lease_device,
        rec.lease_expires_at,
    )


def _pick_line_state(line: PickLine) -> tuple[int, int, ShortReason | None]:
    return (line.picked, line.short, line.short_reason)


@dataclass
class TaskRecord:
    """A pick task with its lease, and what it looked like when loaded."""

    task: PickTask
    lease_device: str | None = None
    lease_expires_at: float | None = None
    priority: int = 5
    origin: str = "allocation"
    loaded_header: tuple[object, ...] = ()
    loaded_lines: dict[str, tuple[int, int, ShortReason | None]] = field(default_factory=dict)

    @property
    def task_id(self) -> str:
        """The task's id."""
        return self.task.task_id

    def mark_loaded(self) -> None:
        """Remember the current state as the stored one."""
        self.loaded_header = _task_header(self)
        self.loaded_lines = {ln.line_id: _pick_line_state(ln) for ln in self.task.lines}

    def bump(self) -> None:
        """Count a change the device must learn about (lease or assignment)."""
        self.task.version += 1

    def line(self, line_id: str) -> PickLine | None:
        """The line with ``line_id``, if the task has it."""
        for ln in self.task.lines:
            if ln.line_id == line_id:
                return ln
        return None


_TASKS_BY_ID = select(TASKS).where(TASKS.c.task_id.in_(_IDS)).order_by(TASKS.c.task_id)
_TASKS_LOCKED = _TASKS_BY_ID.with_for_update()
_TASKS_SKIP_LOCKED = _TASKS_BY_ID.with_for_update(skip_locked=True)
_PICK_LINES_OF = (
    select(PICK_LINES)
    .where(PICK_LINES.c.task_id.in_(_IDS))
    .order_by(PICK_LINES.c.task_id, PICK_LINES.c.sequence)
)
_TOTES_OF = select(TOTES).where(TOTES.c.task_id.in_(_IDS)).order_by(TOTES.c.position)


def load_tasks(
    conn: Connection, task_ids: Iterable[str], *, lock: bool = False, skip_locked: bool = False
) -> dict[str, TaskRecord]:
    """The tasks with these ids that exist (locked, sorted by id, with ``lock``; rows
    another transaction holds are left out with ``skip_locked``)."""
    ids = sorted(set(task_ids))
    out: dict[str, TaskRecord] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        query = (_TASKS_SKIP_LOCKED if skip_locked else _TASKS_LOCKED) if lock else _TASKS_BY_ID
        headers = conn.execute(query, {"ids": chunk}).all()
        if not headers:
            continue
        found = [h.task_id for h in headers]
        lines: dict[str, list[PickLine]] = {}
        for r in conn.execute(_PICK_LINES_OF, {"ids": found}):
            lines.setdefault(r.task_id, []).append(
                PickLine(
                    r.line_id,
                    r.order_id,
                    r.order_line_no,
                    r.sku,
                    r.gtin,
                    r.location,
                    r.qty,
                    r.tote_position,
                    r.sequence,
                    r.picked,
                    r.short,
                    ShortReason(r.short_reason) if r.short_reason else None,
                    lot_tracked=r.lot_tracked,
                    lot=r.lot,
                    expiry=r.expiry,
                    serial_tracked=r.serial_tracked,
                )
            )
        totes: dict[str, list[Tote]] = {}
        for r in conn.execute(_TOTES_OF, {"ids": found}):
            totes.setdefault(r.task_id, []).append(
                Tote(r.tote_id, r.position, r.order_id, r.destination)
            )
        for h in headers:
            own = lines.get(h.task_id)
            if not own:
                continue
            task = PickTask(
                task_id=h.task_id,
                lines=own,
                batch_id=h.batch_id,
                zone=h.zone,
                state=TaskState(h.state),
                assigned_to=h.assigned_to,
                version=h.version,
                totes=totes.get(h.task_id, []),
            )
            rec = TaskRecord(
                task,
                lease_device=h.lease_device,
                lease_expires_at=h.lease_expires_at,
                priority=h.priority,
                origin=h.origin,
            )
            rec.mark_loaded()
            out[h.task_id] = rec
    return out


def insert_task(conn: Connection, rec: TaskRecord, *, now: float) -> None:
    """Store a new task with its lines and totes."""
    t = rec.task
    conn.execute(
        insert(TASKS).values(
            task_id=t.task_id,
            batch_id=t.batch_id,
            zone=t.zone[:16],
            state=t.state.value,
            assigned_to=t.assigned_to,
            version=t.version,
            priority=rec.priority,
            lease_device=rec.lease_device,
            lease_expires_at=rec.lease_expires_at,
            origin=rec.origin,
            created_at=now,
            updated_at=now,
        )
    )
    insert_rows(
        conn,
        PICK_LINES,
        [
            {
                "line_id": ln.line_id,
                "task_id": t.task_id,
                "order_id": ln.order_id,
                "order_line_no": ln.order_line_no,
                "sku": ln.sku,
                "gtin": ln.gtin,
                "location": ln.location,
                "qty": ln.qty,
                "tote_position": ln.tote_position,
                "sequence": ln.sequence,
                "picked": ln.picked,
                "short": ln.short,
                "short_reason": ln.short_reason.value if ln.short_reason else None,
                "lot_tracked": ln.lot_tracked,
                "lot": ln.lot,
                "expiry": ln.expiry,
                "serial_tracked": ln.serial_tracked,
            }
            for ln in t.lines
        ],
    )
    if t.totes:
        conn.execute(
            insert(TOTES),
            [
                {
                    "task_id": t.task_id,
                    "position": x.position,
                    "tote_id": x.tote_id,
                    "order_id": x.order_id,
                    "destination": x.destination,
                }
                for x in t.totes
            ],
        )
    rec.mark_loaded()


def save_tasks(conn: Connection, records: Iterable[TaskRecord], *, now: float) -> None:
    """Write what changed in ``records`` (header, lease, line counters)."""
    headers: list[dict[str, object]] = []
    lines: list[dict[str, object]] = []
    for rec in records:
        if _task_header(rec) != rec.loaded_header:
            t = rec.task
            headers.append(
                {
                    "task_id": t.task_id,
                    "state": t.state.value,
                    "version": t.version,
                    "assigned_to": t.assigned_to,
                    "lease_device": rec.lease_device,
                    "lease_expires_at": rec.lease_expires_at,
                    "updated_at": now,
                }
            )
        for ln in rec.task.lines:
            if _pick_line_state(ln) != rec.loaded_lines.get(ln.line_id):
                lines.append(
                    {
                        "line_id": ln.line_id,
                        "picked": ln.picked,
                        "short": ln.short,
                        "short_reason": ln.short_reason.value if ln.short_reason else None,
                    }
                )
        rec.mark_loaded()
    update_rows(conn, TASKS, ("task_id",), headers)
    update_rows(conn, PICK_LINES, ("line_id",), lines)
