"""Device presence (retained status with connection epochs) and answering sync requests."""

from __future__ import annotations

import logging

from sqlalchemy import Connection, insert, select, update

from floor_app.domain.picking import TaskState
from floor_app.domain.stockwork import StockTaskState
from sync.protocol import Ack, DeviceStatus, ResendRequest, SyncRequest

from . import history
from .leases import push_task
from .outbound import Outbound, OutMessage
from .repositories import load_tasks
from .stock_tasks import load_stock_tasks
from .stock_tasks import push as push_stock_task
from .tables import (
    DeviceCursorRow,
    PickTaskRow,
    PresenceRow,
    PushRow,
    PushStreamRow,
    StockTaskRow,
    table_of,
)

log = logging.getLogger("floor.hub.presence")

PRESENCE = table_of(PresenceRow)
PUSHES = table_of(PushRow)
CURSORS = table_of(DeviceCursorRow)
STREAMS = table_of(PushStreamRow)
TASKS = table_of(PickTaskRow)
STOCK_TASKS = table_of(StockTaskRow)

#: At most this many pushes are replayed for one sync request (the device asks again).
REPLAY_LIMIT = 1000


def record_presence(conn: Connection, status: DeviceStatus, now: float) -> bool:
    """Keep ``status`` unless a newer connection epoch is already recorded; True if kept.

    A late will (``offline`` with an old epoch) never overwrites a newer ``online``.
    """
    current = conn.execute(
        select(PRESENCE.c.epoch).where(PRESENCE.c.device_id == status.device_id).with_for_update()
    ).scalar()
    values = {
        "state": status.state,
        "epoch": status.epoch,
        "reason": status.reason[:200],
        "health": status.health.model_dump_json() if status.health else "",
        "device_at": status.at,
        "received_at": now,
    }
    if current is None:
        conn.execute(insert(PRESENCE).values(device_id=status.device_id, **values))
        return True
    if status.epoch < int(current):
        return False
    conn.execute(update(PRESENCE).where(PRESENCE.c.device_id == status.device_id).values(**values))
    return True


def sync_reply(conn: Connection, out: Outbound, request: SyncRequest) -> list[OutMessage]:
    """Every push after the device's cursor, in cursor order, then the current ack (or,
    for a store that does not continue the hub's record, the stale word instead).

    A hub restored from a backup holds less than the device saw: a device that saw events
    acknowledged above the hub's record is asked to send them again (it keeps delivered
    events for a while, see docs/protocol.md), and a push cursor above the hub's makes the
    hub number its next pushes after it and push the device's current tasks again.
    """
    topics = out.topics
    device = request.device_id
    replay = [
        OutMessage(topics.push(device), bytes(row.body))
        for row in conn.execute(
            select(PUSHES.c.body)
            .where(PUSHES.c.device_id == device)
            .where(PUSHES.c.cursor > request.since_cursor)
            .order_by(PUSHES.c.cursor)
            .limit(REPLAY_LIMIT)
        )
    ]
    stale = history.connect_check(conn, request)
    if stale is not None:  # no ack: it would mark the store's other events delivered
        replay.append(OutMessage(topics.ack(device), stale.model_dump_json().encode()))
        return replay
    last = conn.execute(select(CURSORS.c.last_seq).where(CURSORS.c.device_id == device)).scalar()
    up_to = int(last or 0)
    ack = Ack(device_id=device, up_to_seq=up_to, event_id=history.event_id_at(conn, device, up_to))
    replay.append(OutMessage(topics.ack(device), ack.model_dump_json().encode()))
    catch_up(
        conn,
        out,
        device,
        hub_seq=None if last is None else up_to,
        acked_seq=request.acked_seq,
        push_cursor=request.since_cursor,
    )
    return replay


def sound_hub_seq(conn: Connection, device: str) -> int | None:
    """The hub's last sequence from ``device``; None when its store is stale or unknown."""
    row = conn.execute(
        select(CURSORS.c.last_seq, CURSORS.c.stale).where(CURSORS.c.device_id == device)
    ).first()
    return None if row is None or row.stale else int(row.last_seq)


def catch_up(
    conn: Connection,
    out: Outbound,
    device: str,
    *,
    hub_seq: int | None,
    acked_seq: int,
    push_cursor: int,
) -> None:
    """What a device says it saw (in a sync request or its retained status) against the
    hub's record (``hub_seq``, see :func:`sound_hub_seq`): a hub restored from a backup
    asks for the events it lost and continues the device's push stream after what the
    device saw."""
    if hub_seq is not None and hub_seq < acked_seq:
        out.publish(
            out.topics.ack(device),
            ResendRequest(
                device_id=device,
                from_seq=hub_seq + 1,
                reason=(
                    f"the hub holds events up to {hub_seq} but this device saw "
                    f"{acked_seq} acknowledged (the hub's database was restored)"
                ),
            ),
        )
    if continue_pushes(conn, device, push_cursor):
        push_current_work(conn, out, device)


#: a push cursor a device says it saw is followed only below this: the numbers above are
#: kept for the pushes themselves (the column is a 32-bit integer)
PUSH_CURSOR_LIMIT = 2**31 - 2**24


def continue_pushes(conn: Connection, device: str, seen: int) -> bool:
    """Number the device's next pushes after ``seen`` when the hub's stream is behind it (a
    restored hub); True when it was."""
    mine = conn.execute(
        select(STREAMS.c.last_cursor).where(STREAMS.c.device_id == device).with_for_update()
    ).scalar()
    if seen <= int(mine or 0):
        return False
    if seen >= PUSH_CURSOR_LIMIT:  # no restore explains it: never let it end the stream
        log.warning("%s says it saw push %d: not followed (beyond %d)", device, seen, mine or 0)
        return False
    if mine is None:
        conn.execute(insert(STREAMS).values(device_id=device, last_cursor=seen))
    else:
        conn.execute(update(STREAMS).where(STREAMS.c.device_id == device).values(last_cursor=seen))
    return True


def push_current_work(conn: Connection, out: Outbound, device: str) -> None:
    """Push again every pick and stock task the device holds a lease on (what a restored hub
    may have pushed before its backup was taken is not known to be on the device)."""
    pick_ids = conn.execute(
        select(TASKS.c.task_id)
        .where(TASKS.c.lease_device == device)
        .where(TASKS.c.state.in_([TaskState.ASSIGNED.value, TaskState.IN_PROGRESS.value]))
    ).scalars()
    for rec in load_tasks(conn, list(pick_ids)).values():
        push_task(out, conn, rec, device)
    stock_ids = conn.execute(
        select(STOCK_TASKS.c.task_id)
        .where(STOCK_TASKS.c.lease_device == device)
        .where(
            STOCK_TASKS.c.state.in_(
                [StockTaskState.ASSIGNED.value, StockTaskState.IN_PROGRESS.value]
            )
        )
    ).scalars()
    for stock in load_stock_tasks(conn, list(stock_ids)).values():
        push_stock_task(out, stock, device)
