"""The outbox: events confirmed on this device, in gap-free sequence, until the hub acks them."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any, cast

from pydantic_core import from_json
from sqlalchemy import Table, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session
from ulid import ULID

from floor_app.domain.events import DomainEvent

from .tables import MetaRow, OutboxRow

NEXT_SEQ = "next_seq"


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """One outbox entry as the sync side reads it."""

    seq: int
    event_id: str
    device_id: str
    type: str
    kind: str
    order_id: str | None
    order_version: int | None
    payload: dict[str, Any]
    created_at: float
    acked_at: float | None = None

    @staticmethod
    def from_row(row: OutboxRow) -> OutboxRecord:
        return OutboxRecord(
            row.seq,
            row.event_id,
            row.device_id,
            row.type,
            row.kind,
            row.order_id,
            row.order_version,
            json.loads(row.payload),
            row.created_at,
            row.acked_at,
        )


def new_event_id() -> str:
    """A new event id: a ULID (sortable, unique without coordination)."""
    return str(ULID())


def append(
    session: Session,
    device_id: str,
    event: DomainEvent,
    *,
    order_version: int | None = None,
    event_id: str | None = None,
) -> OutboxRecord:
    """Add ``event`` with the next sequence number. Must run inside a write transaction.

    Plain SQL on the session's own connection: this runs on every confirmed action, and
    the ORM's bookkeeping would cost more than the durable commit itself.
    """
    raw = session.connection().connection.dbapi_connection
    cur = cast(sqlite3.Connection, raw).cursor()
    row = cur.execute("SELECT value FROM meta WHERE key = ?", (NEXT_SEQ,)).fetchone()
    seq = int(row[0]) if row and row[0] else 1
    if row is None:
        cur.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (NEXT_SEQ, str(seq + 1)))
    else:
        cur.execute("UPDATE meta SET value = ? WHERE key = ?", (str(seq + 1), NEXT_SEQ))
    record = OutboxRecord(
        seq=seq,
        event_id=event_id or new_event_id(),
        device_id=device_id,
        type=event.TYPE,
        kind=event.KIND,
        order_id=event.order_id,
        order_version=order_version,
        payload=event.payload(),
        created_at=time.time(),
    )
    cur.execute(
        "INSERT INTO outbox (seq, event_id, device_id, type, kind, order_id, order_version,"
        " payload, created_at, acked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        (
            seq,
            record.event_id,
            device_id,
            record.type,
            record.kind,
            record.order_id,
            order_version,
            json.dumps(record.payload, ensure_ascii=False, sort_keys=True),
            record.created_at,
        ),
    )
    return record


# The columns of a record: the sync agent reads the backlog in pages of hundreds of rows, and
# plain rows cost a fraction of ORM instances (identity map, instance state) to load.
_RECORD_COLUMNS = (
    OutboxRow.seq,
    OutboxRow.event_id,
    OutboxRow.device_id,
    OutboxRow.type,
    OutboxRow.kind,
    OutboxRow.order_id,
    OutboxRow.order_version,
    OutboxRow.payload,
    OutboxRow.created_at,
    OutboxRow.acked_at,
)


def pending(session: Session, *, after_seq: int = 0, limit: int = 500) -> list[OutboxRecord]:
    """Unacknowledged events with ``seq > after_seq``, in sequence order."""
    q = (
        select(*_RECORD_COLUMNS)
        .where(OutboxRow.acked_at.is_(None), OutboxRow.seq > after_seq)
        .order_by(OutboxRow.seq)
        .limit(limit)
    )
    rows = session.execute(q)
    return [
        OutboxRecord(seq, event_id, device, type_, kind, order, version, _payload(text), at, acked)
        for seq, event_id, device, type_, kind, order, version, text, at, acked in rows
    ]


def _payload(text: str) -> dict[str, Any]:
    """A stored payload (written by ``json.dumps``): pydantic-core's parser reads these small
    objects about three times as fast as :mod:`json`, which reads anything it refuses."""
    try:
        value = from_json(text)
    except ValueError:
        value = json.loads(text)
    return cast(dict[str, Any], value)


def mark_acked(session: Session, up_to_seq: int) -> int:
    """Mark every event with ``seq <= up_to_seq`` acknowledged; returns how many changed."""
    result = session.execute(
        update(OutboxRow)
        .where(OutboxRow.seq <= up_to_seq, OutboxRow.acked_at.is_(None))
        .values(acked_at=time.time())
        # no outbox row is held in the session: nothing to synchronise
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def stats(session: Session) -> tuple[int, float | None, int]:
    """(unacked depth, created_at of the oldest unacked event or None, last seq used)."""
    depth, oldest = session.execute(
        select(func.count(), func.min(OutboxRow.created_at)).where(OutboxRow.acked_at.is_(None))
    ).one()
    last = session.scalar(select(func.max(OutboxRow.seq))) or 0
    # a recovered store continues after the hub's record before it holds an event of it
    following = session.scalar(select(MetaRow.value).where(MetaRow.key == NEXT_SEQ))
    if following:
        last = max(int(last), int(following) - 1)
    return int(depth), oldest, int(last)


def all_records(session: Session) -> list[OutboxRecord]:
    """Every outbox row in order (for tests and diagnostics)."""
    return [
        OutboxRecord.from_row(r) for r in session.scalars(select(OutboxRow).order_by(OutboxRow.seq))
    ]


def payloads(session: Session, event_type: str, order_id: str) -> list[dict[str, Any]]:
    """Payloads of this device's events of ``event_type`` about ``order_id``, oldest first."""
    q = (
        select(OutboxRow.payload)
        .where(OutboxRow.type == event_type, OutboxRow.order_id == order_id)
        .order_by(OutboxRow.seq)
    )
    return [json.loads(p) for p in session.scalars(q)]


def unsent_ids(session: Session, after_seq: int, limit: int) -> list[str]:
    """Ids of the unacknowledged events after ``after_seq``, in sequence order."""
    q = (
        select(OutboxRow.event_id)
        .where(OutboxRow.acked_at.is_(None), OutboxRow.seq > after_seq)
        .order_by(OutboxRow.seq)
        .limit(limit)
    )
    return list(session.scalars(q))


_OUTBOX = cast(Table, OutboxRow.__table__)
_RENUMBER = (
    update(_OUTBOX)
    .where(_OUTBOX.c.seq == bindparam("old_seq"))
    .values(seq=bindparam("new_seq"), acked_at=bindparam("new_acked"))
)


def rebase(session: Session, hub_seq: int, known: set[str]) -> tuple[int, int]:
    """Continue the outbox after the hub's ``hub_seq``: the recovery of a store that does not
    continue what the hub recorded (an older copy, an emptied or new store).

    Every event that is unacknowledged or numbered above ``hub_seq`` is looked at: one whose
    id is in ``known`` is already recorded by the hub and counts as acknowledged; every other
    one is numbered again, in its order, from ``hub_seq + 1`` and will be sent. Nothing is
    deleted. Returns (events the hub holds, events renumbered).
    """
    rows = session.execute(
        select(OutboxRow.seq, OutboxRow.event_id, OutboxRow.acked_at)
        .where(or_(OutboxRow.acked_at.is_(None), OutboxRow.seq > hub_seq))
        .order_by(OutboxRow.seq)
    ).all()
    now = time.time()
    unknown = [r for r in rows if r.event_id not in known]
    held = [r for r in rows if r.event_id in known]
    moves: list[dict[str, Any]] = []
    top = int(session.scalar(select(func.max(OutboxRow.seq))) or 0)
    offset = max(top, 0) + len(rows) + 1  # out of every final number's way first
    for i, r in enumerate(unknown):
        moves.append({"old_seq": r.seq + offset, "new_seq": hub_seq + 1 + i, "new_acked": None})
    lowest = min(0, int(session.scalar(select(func.min(OutboxRow.seq))) or 0))
    for r in held:
        acked = r.acked_at if r.acked_at is not None else now
        if r.seq > hub_seq:  # held by the hub under a lower number: kept below the others
            lowest -= 1
            moves.append({"old_seq": r.seq + offset, "new_seq": lowest, "new_acked": acked})
        else:
            moves.append({"old_seq": r.seq + offset, "new_seq": r.seq, "new_acked": acked})
    if moves:
        session.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.seq.in_([r.seq for r in rows]))
            .values(seq=_OUTBOX.c.seq + offset)
        )
        session.execute(_RENUMBER, moves)
    next_seq = hub_seq + 1 + len(unknown)
    row = session.get(MetaRow, NEXT_SEQ)
    if row is None:
        session.add(MetaRow(key=NEXT_SEQ, value=str(next_seq)))
    else:
        row.value = str(next_seq)
    session.flush()
    return len(held), len(unknown)


def event_id_at(session: Session, seq: int) -> str | None:
    """The id of the event numbered ``seq`` (None: the store holds none)."""
    return session.scalar(select(OutboxRow.event_id).where(OutboxRow.seq == seq))


def reopen(session: Session, after_seq: int) -> tuple[int, int]:
    """Count every event after ``after_seq`` unacknowledged again (a hub restored from a
    backup lost them); (events reopened, the first sequence after ``after_seq`` the store
    still holds: ``after_seq + 1`` unless delivered events were pruned)."""
    first = session.scalar(select(func.min(OutboxRow.seq)).where(OutboxRow.seq > after_seq))
    result = session.execute(
        update(OutboxRow)
        .where(OutboxRow.seq > after_seq, OutboxRow.acked_at.is_not(None))
        .values(acked_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0), int(first or after_seq + 1)  # type: ignore[attr-defined]


def prune(session: Session, *, acked_before: float, keep_at_most: int) -> int:
    """Delete delivered events acknowledged before ``acked_before``, and the oldest delivered
    ones beyond ``keep_at_most``; unacknowledged events are never touched. How many went."""
    gone = session.execute(
        delete(OutboxRow)
        .where(OutboxRow.acked_at.is_not(None), OutboxRow.acked_at < acked_before)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    kept = int(session.scalar(select(func.count()).where(OutboxRow.acked_at.is_not(None))) or 0)
    if kept > keep_at_most:
        edge = session.scalar(
            select(OutboxRow.seq)
            .where(OutboxRow.acked_at.is_not(None))
            .order_by(OutboxRow.seq.desc())
            .offset(keep_at_most)
            .limit(1)
        )
        if edge is not None:
            gone += session.execute(
                delete(OutboxRow)
                .where(OutboxRow.acked_at.is_not(None), OutboxRow.seq <= edge)
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
    return int(gone or 0)


def serial_picked(session: Session, sku: str, serial: str) -> bool:
    """True when this device picked the unit ``serial`` of ``sku`` and did not put it back
    (its picks and undos in the outbox, kept for the retention period)."""
    serial_of = func.json_extract(OutboxRow.payload, "$.serial")
    sku_of = func.json_extract(OutboxRow.payload, "$.sku")
    rows = session.execute(
        select(OutboxRow.type, func.count())
        .where(OutboxRow.type.in_(("pick.confirmed", "pick.undone")))
        .where(serial_of == serial)
        .where(sku_of == sku)
        .group_by(OutboxRow.type)
    ).all()
    counts = {str(t): int(n) for t, n in rows}
    return counts.get("pick.confirmed", 0) > counts.get("pick.undone", 0)
