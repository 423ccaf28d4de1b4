"""``floor-hub stats``: what the hub has recorded, from its database alone.

``devices.<id>.applied`` counts every event recorded at its sequence (applied, refused
claims and rejected events alike: each sequence exactly once); ``last_seq`` is the highest
contiguous sequence recorded; ``duplicates_ignored`` the events received again and not
applied.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, func, select

from .carriers import choice_counts, held_without_service
from .site_data import get_meta
from .site_files.reference import site_version
from .tables import (
    DeadLetterRow,
    DeviceCursorRow,
    DeviceRow,
    LabelJobRow,
    OrderRow,
    OutboxMessageRow,
    PickTaskRow,
    PresenceRow,
    ReceiptRow,
    RejectedOrderRow,
    ReturnTaskRow,
    ShortageRow,
    table_of,
)
from .totes import tote_counts

CURSORS = table_of(DeviceCursorRow)
DEVICES = table_of(DeviceRow)
PRESENCE = table_of(PresenceRow)


def _count(conn: Connection, table: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _grouped(conn: Connection, column: Any) -> dict[str, int]:
    return {
        str(key): int(n)
        for key, n in conn.execute(select(column, func.count()).group_by(column).order_by(column))
    }


def _site_version_of(health: str) -> int | None:
    """The site data version in a stored heartbeat's health (None when it says none)."""
    try:
        value = json.loads(health).get("site_version") if health else None
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def hub_stats(conn: Connection) -> dict[str, Any]:
    """Every figure of ``floor-hub stats --json``."""
    presence = {
        r.device_id: (r.state, int(r.epoch), _site_version_of(r.health))
        for r in conn.execute(select(PRESENCE))
    }
    devices: dict[str, dict[str, Any]] = {}
    for r in conn.execute(
        select(CURSORS, DEVICES.c.role, DEVICES.c.station)
        .join(DEVICES, DEVICES.c.device_id == CURSORS.c.device_id)
        .order_by(CURSORS.c.device_id)
    ):
        state, epoch, version = presence.get(r.device_id, ("unknown", 0, None))
        devices[r.device_id] = {
            "applied": int(r.applied),
            "last_seq": int(r.last_seq),
            "duplicates_ignored": int(r.duplicates_ignored),
            "refused": int(r.refused),
            "rejected": int(r.rejected),
            "gaps": int(r.gaps),
            "batches": int(r.batches),
            "role": r.role,
            "station": r.station,
            "presence": state,
            "epoch": epoch,
            "store_id": r.store_id,
            # why the device's store does not continue the hub's record ("" while it does)
            "stale": json.loads(r.stale)["reason"] if r.stale else "",
            # the version of the site's reference data it said it runs (None: not said yet)
            "site_version": version,
        }
    dead = table_of(DeadLetterRow)
    return {
        "site": get_meta(conn, "site"),
        "site_version": site_version(conn),
        "devices": devices,
        "dead_letters": _count(conn, dead),
        "dead_letters_by_code": _grouped(conn, dead.c.code),
        "orders": _grouped(conn, table_of(OrderRow).c.state),
        "orders_rejected": _count(conn, table_of(RejectedOrderRow)),
        "tasks": _grouped(conn, table_of(PickTaskRow).c.state),
        "label_jobs": _count(conn, table_of(LabelJobRow)),
        "shortages": _count(conn, table_of(ShortageRow)),
        "return_tasks": _count(conn, table_of(ReturnTaskRow)),
        "outbox_pending": _count(conn, table_of(OutboxMessageRow)),
        "carriers": {**choice_counts(conn), "held_no_service": held_without_service(conn)},
        "totes": tote_counts(conn),
        "receipts": _grouped(conn, table_of(ReceiptRow).c.state),
    }
