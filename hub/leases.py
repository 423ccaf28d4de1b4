"""Pick tasks leased to one device at a time.

An open task is leased to a picker's device (:func:`assign_open_tasks`): the device must
serve the task's zones; online devices come first, then the one with the fewest open
tasks. The lease has an expiry, renewed by every event of the holder on the task and, for
a task in progress, by every heartbeat of the holder while it is online
(:func:`renew_leases`): a picker working slowly keeps the task. When a lease runs out
(:func:`expire_leases`), a task assigned but never started is taken back and goes to
another picker; so is a task in progress whose device is not online (it went away longer
than the lease), while one whose device is online is renewed. A second device's claim on a
leased task is refused with the reason (:func:`hub.rules.task_claim_refusal`); once
the lease ran out, a claim moves it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, func, select, update

from floor_app.domain.picking import TaskState
from sync.protocol import OrderModel, OrderSnapshot, PickTaskModel, TaskAssigned, TaskCancelled

from .outbound import Outbound
from .repositories import TASKS, TaskRecord, load_orders, load_tasks, save_tasks
from .tables import DeviceRow, PresenceRow, table_of

DEVICES = table_of(DeviceRow)
PRESENCE = table_of(PresenceRow)

OPEN_TASK_STATES = (TaskState.ASSIGNED.value, TaskState.IN_PROGRESS.value)


@dataclass
class Picker:
    """A picker's device as allocation sees it."""

    device_id: str
    zones: frozenset[str]
    online: bool
    load: int


def pickers(conn: Connection) -> list[Picker]:
    """Active pickers' devices with their zones, presence and open tasks."""
    online = set(
        conn.execute(select(PRESENCE.c.device_id).where(PRESENCE.c.state == "online")).scalars()
    )
    load = {
        str(device): int(count)
        for device, count in conn.execute(
            select(TASKS.c.lease_device, func.count())
            .where(TASKS.c.state.in_(OPEN_TASK_STATES))
            .where(TASKS.c.lease_device.is_not(None))
            .group_by(TASKS.c.lease_device)
        )
    }
    out = []
    for r in conn.execute(
        select(DEVICES)
        .where(DEVICES.c.role == "picker")
        .where(DEVICES.c.active.is_(True))
        .order_by(DEVICES.c.device_id)
    ):
        zones = frozenset(z.strip() for z in r.zones.split(",") if z.strip())
        out.append(Picker(r.device_id, zones, r.device_id in online, load.get(r.device_id, 0)))
    return out


def choose_picker(candidates: list[Picker], task_zones: frozenset[str]) -> Picker | None:
    """The device for a task: serves its zones, online first, then least loaded, then id."""
    able = [p for p in candidates if not p.zones or task_zones <= p.zones]
    if not able:
        return None
    return min(able, key=lambda p: (not p.online, p.load, p.device_id))


def lease(rec: TaskRecord, device_id: str, now: float, lease_s: float) -> None:
    """Lease the task to ``device_id`` until ``now + lease_s``; an open task becomes assigned."""
    if rec.task.state is TaskState.OPEN:
        rec.task.move_to(TaskState.ASSIGNED)
    elif rec.lease_device != device_id:
        rec.bump()
    rec.lease_device = device_id
    rec.lease_expires_at = now + lease_s


def push_task(out: Outbound, conn: Connection, rec: TaskRecord, device_id: str) -> None:
    """Push a snapshot of each of the task's orders, then the task, to ``device_id``."""
    orders = load_orders(conn, sorted({ln.order_id for ln in rec.task.lines}))
    for order_id in sorted(orders):
        out.push(device_id, OrderSnapshot(order=OrderModel.from_domain(orders[order_id].order)))
    out.push(device_id, TaskAssigned(task=PickTaskModel.from_domain(rec.task)))


def assign_open_tasks(
    conn: Connection, out: Outbound, now: float, *, lease_s: float, limit: int = 200
) -> dict[str, str]:
    """Lease open tasks, most urgent first, to pickers' devices; task id -> device id."""
    ids = list(
        conn.execute(
            select(TASKS.c.task_id)
            .where(TASKS.c.state == TaskState.OPEN.value)
            .order_by(TASKS.c.priority, TASKS.c.created_at, TASKS.c.task_id)
            .limit(limit)
        ).scalars()
    )
    if not ids:
        return {}
    candidates = pickers(conn)
    if not candidates:
        return {}
    tasks = load_tasks(conn, ids, lock=True, skip_locked=True)
    assigned: dict[str, str] = {}
    for task_id in ids:
        rec = tasks.get(task_id)
        if rec is None or rec.task.state is not TaskState.OPEN:
            continue
        picker = choose_picker(candidates, frozenset(z for z in rec.task.zone.split(",") if z))
        if picker is None:
            continue
        lease(rec, picker.device_id, now, lease_s)
        picker.load += 1
        assigned[task_id] = picker.device_id
        push_task(out, conn, rec, picker.device_id)
    save_tasks(conn, tasks.values(), now=now)
    return assigned


def renew_leases(conn: Connection, device_id: str, now: float, lease_s: float) -> list[str]:
    """Renew the leases of the tasks ``device_id`` has in progress (it is alive); their ids."""
    ids = list(
        conn.execute(
            select(TASKS.c.task_id)
            .where(TASKS.c.lease_device == device_id)
            .where(TASKS.c.state == TaskState.IN_PROGRESS.value)
            .where(TASKS.c.lease_expires_at < now + lease_s)
            .order_by(TASKS.c.task_id)
            .with_for_update()
        ).scalars()
    )
    if ids:
        conn.execute(
            update(TASKS).where(TASKS.c.task_id.in_(ids)).values(lease_expires_at=now + lease_s)
        )
    return ids


def online_devices(conn: Connection, device_ids: Iterable[str]) -> set[str]:
    """Those of ``device_ids`` whose last presence is online."""
    ids = sorted(set(device_ids))
    if not ids:
        return set()
    return set(
        conn.execute(
            select(PRESENCE.c.device_id)
            .where(PRESENCE.c.device_id.in_(ids))
            .where(PRESENCE.c.state == "online")
        ).scalars()
    )


def expire_leases(
    conn: Connection, out: Outbound, now: float, *, lease_s: float, limit: int = 200
) -> list[str]:
    """Take back tasks whose lease ran out: assigned but never started, or in progress on a
    device that is not online; their ids. An online device's task in progress is renewed."""
    ids = list(
        conn.execute(
            select(TASKS.c.task_id)
            .where(TASKS.c.state.in_(OPEN_TASK_STATES))
            .where(TASKS.c.lease_expires_at < now)
            .order_by(TASKS.c.task_id)
            .limit(limit)
        ).scalars()
    )
    if not ids:
        return []
    tasks = load_tasks(conn, ids, lock=True, skip_locked=True)
    online = online_devices(conn, [t.lease_device for t in tasks.values() if t.lease_device])
    expired = []
    for rec in tasks.values():
        expires, old, state = rec.lease_expires_at, rec.lease_device, rec.task.state
        if expires is None or expires >= now or state.value not in OPEN_TASK_STATES:
            continue
        if state is TaskState.IN_PROGRESS and old in online:
            rec.lease_expires_at = now + lease_s  # its heartbeat is late, it is not gone
            continue
        if state is TaskState.IN_PROGRESS:
            rec.task.move_to(TaskState.ASSIGNED)
            reason = (
                f"device {old} was away longer than its lease; "
                "the rest of the task goes to another picker"
            )
            code = "task.lease_lost"
        else:
            reason = "the lease ran out before the task was started; it goes to another picker"
            code = "task.lease_unstarted"
        rec.task.move_to(TaskState.OPEN)
        rec.lease_device, rec.lease_expires_at = None, None
        if old:
            out.push(
                old,
                TaskCancelled(
                    task_id=rec.task_id,
                    reason=reason,
                    task_version=rec.task.version,
                    code=code,
                    params={"device": old},
                ),
            )
        expired.append(rec.task_id)
    save_tasks(conn, tasks.values(), now=now)
    return expired
