"""Stock tasks on the hub: created, leased to one device at a time, pushed, taken back.

A stock task (:class:`floor_app.domain.stockwork.StockTask`) is stock work the hub asks of
the floor: a replenishment, a put-away, a count. It lives in ``stock_tasks`` with what the
device never sees (a count's expected quantity, what created the task) and a lease like a
pick task's: :func:`assign_open_stock_tasks` leases open tasks to pickers' devices (urgent
first; a device serving the task's zone, online first, least loaded), :func:`push` sends it,
:func:`expire_stock_leases` takes back tasks nobody started in time.

Lock order: stock tasks come after pick tasks and before stock rows (see
:mod:`hub.tables`); :func:`load_stock_tasks` locks them sorted by id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from floor_app.domain.stockwork import StockTask, StockTaskKind, StockTaskState
from sync.protocol import StockTaskAssigned, StockTaskCancelled, StockTaskModel

from .leases import Picker, choose_picker, pickers
from .outbound import Outbound
from .site_data import next_counter
from .tables import LocationRow, StockTaskRow, UserSessionRow, table_of

STOCK_TASKS = table_of(StockTaskRow)
LOCATIONS = table_of(LocationRow)
SESSIONS = table_of(UserSessionRow)

OPEN_STATES = (
    StockTaskState.OPEN.value,
    StockTaskState.ASSIGNED.value,
    StockTaskState.IN_PROGRESS.value,
)
#: Priority of urgent work (lower runs first; allocation's default is 5).
URGENT_PRIORITY = 1


@dataclass
class StockTaskRecord:
    """A stock task with the hub's own fields."""

    task: StockTask
    origin: str = "manual"
    origin_ref: str = ""
    expected: int | None = None
    priority: int = 5
    lease_device: str | None = None
    lease_expires_at: float | None = None
    new: bool = False
    #: the row as last read or written (:func:`save` skips a task that has not changed)
    stored: dict[str, Any] | None = None

    @property
    def task_id(self) -> str:
        return self.task.task_id


def new_task_id(conn: Connection) -> str:
    """The next stock task id (``ST-000001`` ...)."""
    return f"ST-{next_counter(conn, 'stock_task_counter'):06d}"


def create(
    conn: Connection,
    kind: StockTaskKind,
    *,
    sku: str = "",
    gtin: str = "",
    from_location: str = "",
    to_location: str = "",
    qty: int = 0,
    lot: str = "",
    expiry: str = "",
    urgent: bool = False,
    reason: str = "",
    origin: str = "manual",
    origin_ref: str = "",
    expected: int | None = None,
    attempt: int = 1,
    not_user: str = "",
    description: str = "",
) -> StockTaskRecord:
    """A new open stock task (not yet written: pass it to :func:`save`)."""
    task = StockTask(
        task_id=new_task_id(conn),
        kind=kind,
        sku=sku,
        gtin=gtin,
        from_location=from_location,
        to_location=to_location,
        qty=qty,
        lot=lot,
        expiry=expiry,
        urgent=urgent,
        reason=reason,
        state=StockTaskState.OPEN,
        attempt=attempt,
        not_user=not_user,
        description=description,
    )
    return StockTaskRecord(
        task,
        origin=origin,
        origin_ref=origin_ref,
        expected=expected,
        priority=URGENT_PRIORITY if urgent else 5,
        new=True,
    )


def _record(r: Any) -> StockTaskRecord:
    task = StockTask.from_record(r)
    rec = StockTaskRecord(
        task,
        origin=r.origin,
        origin_ref=r.origin_ref,
        expected=r.expected,
        priority=r.priority,
        lease_device=r.lease_device,
        lease_expires_at=r.lease_expires_at,
    )
    rec.stored = _values(rec)
    return rec


def load_stock_tasks(
    conn: Connection, task_ids: Iterable[str], *, lock: bool = False
) -> dict[str, StockTaskRecord]:
    """The stock tasks with these ids that exist (locked, in id order, with ``lock``)."""
    ids = sorted(set(task_ids))
    if not ids:
        return {}
    query = (
        select(STOCK_TASKS).where(STOCK_TASKS.c.task_id.in_(ids)).order_by(STOCK_TASKS.c.task_id)
    )
    if lock:
        query = query.with_for_update()
    return {r.task_id: _record(r) for r in conn.execute(query)}


def open_tasks(
    conn: Connection,
    *,
    kind: StockTaskKind | None = None,
    sku: str | None = None,
    location: str | None = None,
) -> list[StockTaskRecord]:
    """Open stock tasks (not done or cancelled), filtered; oldest first."""
    query = select(STOCK_TASKS).where(STOCK_TASKS.c.state.in_(OPEN_STATES))
    if kind is not None:
        query = query.where(STOCK_TASKS.c.kind == kind.value)
    if sku is not None:
        query = query.where(STOCK_TASKS.c.sku == sku)
    if location is not None:
        query = query.where(
            (STOCK_TASKS.c.to_location == location) | (STOCK_TASKS.c.from_location == location)
        )
    return [_record(r) for r in conn.execute(query.order_by(STOCK_TASKS.c.task_id))]


def _values(rec: StockTaskRecord) -> dict[str, Any]:
    t = rec.task
    return {
        "kind": t.kind.value,
        "state": t.state.value,
        "sku": t.sku,
        "gtin": t.gtin,
        "from_location": t.from_location,
        "to_location": t.to_location,
        "qty": t.qty,
        "moved": t.moved,
        "lot": t.lot,
        "expiry": t.expiry,
        "urgent": t.urgent,
        "priority": rec.priority,
        "reason": t.reason,
        "origin": rec.origin,
        "origin_ref": rec.origin_ref[:64],
        "attempt": t.attempt,
        "not_user": t.not_user,
        "expected": rec.expected,
        "assigned_to": t.assigned_to,
        "lease_device": rec.lease_device,
        "lease_expires_at": rec.lease_expires_at,
        "version": t.version,
    }


def save(conn: Connection, records: Iterable[StockTaskRecord], *, now: float) -> None:
    """Write new and changed stock tasks (one left as it was read is not written)."""
    for rec in sorted(records, key=lambda r: r.task_id):
        values = _values(rec)
        if rec.new:
            conn.execute(
                insert(STOCK_TASKS).values(
                    task_id=rec.task_id, created_at=now, updated_at=now, **values
                )
            )
            rec.new = False
        elif values != rec.stored:
            conn.execute(
                update(STOCK_TASKS)
                .where(STOCK_TASKS.c.task_id == rec.task_id)
                .values(updated_at=now, **values)
            )
        rec.stored = values


def push(out: Outbound, rec: StockTaskRecord, device_id: str) -> None:
    """Send the task to ``device_id`` (a count goes without its expected quantity)."""
    out.push(device_id, StockTaskAssigned(task=StockTaskModel.from_domain(rec.task)))


def lease(rec: StockTaskRecord, device_id: str, now: float, lease_s: float) -> None:
    """Lease the task to ``device_id`` until ``now + lease_s``."""
    if rec.task.state is StockTaskState.OPEN:
        rec.task.move_to(StockTaskState.ASSIGNED)
    elif rec.lease_device != device_id:
        rec.task.version += 1
    rec.lease_device = device_id
    rec.lease_expires_at = now + lease_s


def cancel(out: Outbound, rec: StockTaskRecord, reason: str) -> None:
    """Cancel the task and tell the device holding it."""
    if not rec.task.is_open:
        return
    rec.task.move_to(StockTaskState.CANCELLED)
    rec.task.reason = reason
    if rec.lease_device:
        out.push(rec.lease_device, StockTaskCancelled(task_id=rec.task_id, reason=reason))
    rec.lease_device, rec.lease_expires_at = None, None


def _zones(conn: Connection, recs: Iterable[StockTaskRecord]) -> dict[str, frozenset[str]]:
    codes = {c for r in recs for c in (r.task.from_location, r.task.to_location) if c}
    zone_of = {
        r.code: r.zone
        for r in conn.execute(
            select(LOCATIONS.c.code, LOCATIONS.c.zone).where(LOCATIONS.c.code.in_(sorted(codes)))
        )
    }
    return {
        r.task_id: frozenset(
            zone_of[c] for c in (r.task.from_location, r.task.to_location) if c in zone_of
        )
        for r in recs
    }


def _with_stock_load(conn: Connection, candidates: list[Picker]) -> list[Picker]:
    held = {
        str(device): int(n)
        for device, n in conn.execute(
            select(STOCK_TASKS.c.lease_device, func.count())
            .where(STOCK_TASKS.c.state.in_(OPEN_STATES))
            .where(STOCK_TASKS.c.lease_device.is_not(None))
            .group_by(STOCK_TASKS.c.lease_device)
        )
    }
    for p in candidates:
        p.load += held.get(p.device_id, 0)
    return candidates


def assign_open_stock_tasks(
    conn: Connection, out: Outbound, now: float, *, lease_s: float, limit: int = 200
) -> dict[str, str]:
    """Lease open stock tasks, urgent first, to pickers' devices; task id -> device id."""
    ids = list(
        conn.execute(
            select(STOCK_TASKS.c.task_id)
            .where(STOCK_TASKS.c.state == StockTaskState.OPEN.value)
            .order_by(STOCK_TASKS.c.priority, STOCK_TASKS.c.created_at, STOCK_TASKS.c.task_id)
            .limit(limit)
        ).scalars()
    )
    if not ids:
        return {}
    candidates = _with_stock_load(conn, pickers(conn))
    if not candidates:
        return {}
    recs = load_stock_tasks(conn, ids, lock=True)
    zones = _zones(conn, recs.values())
    user_of = {r.device_id: r.user_id for r in conn.execute(select(SESSIONS))}
    assigned: dict[str, str] = {}
    for task_id in ids:
        rec = recs.get(task_id)
        if rec is None or rec.task.state is not StockTaskState.OPEN:
            continue
        able = candidates
        if rec.task.not_user:  # a recount goes to a device where someone else is logged in
            able = [p for p in candidates if user_of.get(p.device_id) != rec.task.not_user]
        device = choose_picker(able, zones.get(task_id, frozenset()))
        if device is None:
            continue
        lease(rec, device.device_id, now, lease_s)
        device.load += 1
        assigned[task_id] = device.device_id
        push(out, rec, device.device_id)
    save(conn, recs.values(), now=now)
    return assigned


def expire_stock_leases(
    conn: Connection, out: Outbound, now: float, *, limit: int = 200
) -> list[str]:
    """Take back stock tasks assigned but never started whose lease ran out; their ids."""
    ids = list(
        conn.execute(
            select(STOCK_TASKS.c.task_id)
            .where(STOCK_TASKS.c.state == StockTaskState.ASSIGNED.value)
            .where(STOCK_TASKS.c.moved == 0)
            .where(STOCK_TASKS.c.lease_expires_at < now)
            .order_by(STOCK_TASKS.c.task_id)
            .limit(limit)
        ).scalars()
    )
    recs = load_stock_tasks(conn, ids, lock=True)
    expired = []
    for rec in recs.values():
        if rec.task.state is not StockTaskState.ASSIGNED or rec.lease_device is None:
            continue
        out.push(
            rec.lease_device,
            StockTaskCancelled(
                task_id=rec.task_id,
                reason="the lease ran out before the task was started; it goes to another device",
                code="stock.lease_unstarted",
            ),
        )
        rec.task.move_to(StockTaskState.OPEN)
        rec.lease_device, rec.lease_expires_at = None, None
        expired.append(rec.task_id)
    save(conn, recs.values(), now=now)
    return expired
