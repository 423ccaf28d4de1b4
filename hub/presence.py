"""Device presence (retained status with connection epochs) and answering sync requests."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from sync.protocol import Ack, DeviceStatus, SyncRequest, Topics

from .outbound import OutMessage
from .tables import DeviceCursorRow, PresenceRow, PushRow, table_of

PRESENCE = table_of(PresenceRow)
PUSHES = table_of(PushRow)
CURSORS = table_of(DeviceCursorRow)

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


def sync_reply(conn: Connection, topics: Topics, request: SyncRequest) -> list[OutMessage]:
    """Every push after the device's cursor, in cursor order, then the current ack."""
    device = request.device_id
    out = [
        OutMessage(topics.push(device), bytes(row.body))
        for row in conn.execute(
            select(PUSHES.c.body)
            .where(PUSHES.c.device_id == device)
            .where(PUSHES.c.cursor > request.since_cursor)
            .order_by(PUSHES.c.cursor)
            .limit(REPLAY_LIMIT)
        )
    ]
    last = conn.execute(select(CURSORS.c.last_seq).where(CURSORS.c.device_id == device)).scalar()
    ack = Ack(device_id=device, up_to_seq=int(last or 0))
    out.append(OutMessage(topics.ack(device), ack.model_dump_json().encode()))
    return out
