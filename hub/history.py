"""A device's history is checked, never assumed (docs/protocol.md, "stale stores").

The hub's inbox holds every event it recorded from a device, by (device, sequence), with
its id and payload. Three checks use it:

* a resend under a sequence the hub already holds must be the same event (the same id and
  the same payload digest); otherwise the device's store does not continue the hub's record
  (a copy restored from before its last events, an emptied or replaced store): the hub
  marks the device stale, applies nothing more from it, sends no ack, dead-letters the
  event with both versions and tells the device (:class:`~sync.protocol.StoreStale`);
* an event id the hub already holds under another sequence is refused (never applied
  twice);
* at connect, a store whose newest sequence is below the hub's, or a store the hub has not
  seen under this device id while the hub holds events of the device, is stale too.

A stale device recovers with a :class:`~sync.protocol.StoreRecovery`: the hub answers which
of the store's events it holds and lists, for a supervisor, the ones it recorded that the
store does not hold; the store then continues after the hub's last sequence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, select, update

from sync.protocol import (
    EventEnvelope,
    HistoryEvent,
    StoreHistory,
    StoreRecovery,
    StoreStale,
    SyncRequest,
    compact_json,
)

from . import dead_letters
from .batch_reader import BadEvent, Record
from .outbound import Outbound
from .tables import DeviceCursorRow, InboxRow, table_of

CURSORS = table_of(DeviceCursorRow)
INBOX = table_of(InboxRow)

#: dead-letter codes
STALE_STORE = "stale_store"
REUSED_EVENT_ID = "reused_event_id"
STORE_RECOVERED = "store_recovered"

#: an event id the hub holds under another sequence (an outcome code, never sent as a
#: rejection: the event's effect is already recorded once)
REUSED_CODE = "event.reused_id"

#: ids looked up per statement (well under every database's parameter limit)
_CHUNK = 500

_RECORDED = (
    select(INBOX.c.seq, INBOX.c.event_id, INBOX.c.type, INBOX.c.payload)
    .where(INBOX.c.device_id == bindparam("device"))
    .where(INBOX.c.seq.between(bindparam("first"), bindparam("last")))
)
_IDS_HELD = (
    select(INBOX.c.event_id, INBOX.c.seq)
    .where(INBOX.c.device_id == bindparam("device"))
    .where(INBOX.c.event_id.in_(bindparam("ids", expanding=True)))
)


def payload_digest(payload_text: str) -> str:
    """The digest of an event's payload as the hub records it (compact JSON)."""
    return hashlib.sha256(payload_text.encode("utf-8", "surrogatepass")).hexdigest()


def record_text(record: Record) -> str:
    """An event's payload as the hub records it (a bad event: its excerpt)."""
    if isinstance(record, BadEvent):
        return record.excerpt
    return compact_json(record.payload)


@dataclass(frozen=True, slots=True)
class Conflict:
    """The first resent event that differs from the one the hub recorded."""

    seq: int
    hub_event_id: str
    hub_type: str
    hub_payload: str
    sent: Record

    def reason(self) -> str:
        sent = self.sent
        return (
            f"sequence {self.seq} was recorded as event {self.hub_event_id} ({self.hub_type}); "
            f"the device sent event {sent.event_id} ({sent.type or '?'}) under it again"
        )


def first_conflict(conn: Connection, device_id: str, resent: Sequence[Record]) -> Conflict | None:
    """The first of ``resent`` (sequences the hub holds) that is not the recorded event."""
    if not resent:
        return None
    recorded = {
        row.seq: row
        for row in conn.execute(
            _RECORDED,
            {"device": device_id, "first": resent[0].seq, "last": resent[-1].seq},
        )
    }
    for record in resent:
        row = recorded.get(record.seq)
        if row is None:
            continue  # recorded before the hub kept its inbox (nothing to compare)
        same = row.event_id == record.event_id
        if same and isinstance(record, EventEnvelope):
            same = payload_digest(row.payload) == payload_digest(record_text(record))
        if not same:
            return Conflict(record.seq, row.event_id, row.type, row.payload, record)
    return None


def event_id_at(conn: Connection, device_id: str, seq: int) -> str:
    """The id of the event recorded from ``device_id`` under ``seq`` ("" when none is)."""
    if seq <= 0:
        return ""
    value = conn.execute(
        select(INBOX.c.event_id).where(INBOX.c.device_id == device_id).where(INBOX.c.seq == seq)
    ).scalar()
    return str(value or "")


def held_ids(conn: Connection, device_id: str, event_ids: Sequence[str]) -> dict[str, int]:
    """Which of ``event_ids`` the hub holds from ``device_id``, with their sequences."""
    held: dict[str, int] = {}
    unique = sorted(set(event_ids))
    for i in range(0, len(unique), _CHUNK):
        for row in conn.execute(_IDS_HELD, {"device": device_id, "ids": unique[i : i + _CHUNK]}):
            held[row.event_id] = int(row.seq)
    return held


def mark_stale(
    conn: Connection, out: Outbound, stale: StoreStale, *, raw: bytes, topic: str, now: float
) -> None:
    """Record that ``stale.device_id``'s store does not continue the hub's record: nothing
    more is applied from it until it recovers; the device and the dead letters are told."""
    conn.execute(
        update(CURSORS)
        .where(CURSORS.c.device_id == stale.device_id)
        .values(stale=stale.model_dump_json())
    )
    dead_letters.record(
        conn,
        out,
        dead_letters.letter(topic, raw, STALE_STORE, stale.reason, stale.device_id),
        now,
    )
    out.publish(out.topics.ack(stale.device_id), stale)


def conflict_stale(device_id: str, hub_seq: int, store_seq: int, conflict: Conflict) -> StoreStale:
    """The word to a device whose resend differs from the recorded event."""
    return StoreStale(
        device_id=device_id,
        cause="conflict",
        hub_seq=hub_seq,
        store_seq=store_seq,
        conflict_seq=conflict.seq,
        reason=(
            f"this device's store does not hold the {hub_seq} events the hub recorded from "
            f"{device_id}: {conflict.reason()}"
        )[:500],
    )


def connect_check(conn: Connection, request: SyncRequest) -> StoreStale | None:
    """Check a (re)connecting device's store against the hub's record: the stale word, or
    None when the store continues it (then its identity is remembered)."""
    device = request.device_id
    row = conn.execute(
        select(CURSORS.c.last_seq, CURSORS.c.store_id, CURSORS.c.stale)
        .where(CURSORS.c.device_id == device)
        .with_for_update()
    ).first()
    if row is None:
        return None
    if row.stale:
        return StoreStale.model_validate_json(row.stale)
    hub_seq = int(row.last_seq)
    if hub_seq > request.last_seq and not _made_after(conn, request):
        return StoreStale(
            device_id=device,
            cause="behind",
            hub_seq=hub_seq,
            store_seq=request.last_seq,
            reason=(
                f"this device's store ends at event {request.last_seq} but the hub recorded "
                f"{hub_seq} from {device}: the store is an older copy, emptied or new"
            ),
        )
    if request.store_id and row.store_id and row.store_id != request.store_id and hub_seq > 0:
        return StoreStale(
            device_id=device,
            cause="other_store",
            hub_seq=hub_seq,
            store_seq=request.last_seq,
            reason=(
                f"this device's store ({request.store_id}) is not the one the hub recorded "
                f"{hub_seq} events of {device} from ({row.store_id})"
            ),
        )
    if request.store_id and row.store_id != request.store_id:
        conn.execute(
            update(CURSORS).where(CURSORS.c.device_id == device).values(store_id=request.store_id)
        )
    return None


def _made_after(conn: Connection, request: SyncRequest) -> bool:
    """True when every event the hub holds beyond the request's ``last_seq`` was made after
    the request was sent (the device's own clock on both): a device sends the events it
    makes meanwhile without waiting for the answer, and the hub may apply them first."""
    first = conn.execute(
        select(func.min(INBOX.c.device_at))
        .where(INBOX.c.device_id == request.device_id)
        .where(INBOX.c.seq > request.last_seq)
    ).scalar()
    return first is not None and float(first) > request.sent_at


def recover(
    conn: Connection, out: Outbound, request: StoreRecovery, *, raw: bytes, topic: str, now: float
) -> StoreHistory | None:
    """A stale device's recovery (None: the device is not registered): which of its events
    the hub holds, the hub's events the store lacks (dead-lettered for a supervisor), and the
    store's identity remembered; the device is no longer stale."""
    device = request.device_id
    hub_seq = conn.execute(
        select(CURSORS.c.last_seq).where(CURSORS.c.device_id == device).with_for_update()
    ).scalar()
    if hub_seq is None:
        return None
    held = held_ids(conn, device, request.event_ids)
    mine = set(request.event_ids)
    lacking = (
        (INBOX.c.device_id == device)
        & (INBOX.c.seq > request.acked_seq)
        & INBOX.c.event_id.not_in(sorted(mine))
    )
    count = int(conn.execute(select(func.count()).where(lacking)).scalar() or 0)
    missing = [
        HistoryEvent(
            seq=row.seq,
            event_id=row.event_id,
            type=row.type,
            order_id=row.order_id,
            device_at=row.device_at,
        )
        for row in conn.execute(
            select(INBOX.c.seq, INBOX.c.event_id, INBOX.c.type, INBOX.c.order_id, INBOX.c.device_at)
            .where(lacking)
            .order_by(INBOX.c.seq)
            .limit(500)
        )
    ]
    conn.execute(
        update(CURSORS)
        .where(CURSORS.c.device_id == device)
        .values(store_id=request.store_id, stale="")
    )
    history = StoreHistory(
        device_id=device,
        hub_seq=int(hub_seq),
        known=sorted(held),
        missing=missing,
        missing_count=count,
        at=now,
    )
    listed = ", ".join(
        f"{e.seq} {e.type}{' ' + e.order_id if e.order_id else ''}" for e in missing[:50]
    )
    reason = (
        f"{device} recovered its store{f' (by {request.user})' if request.user else ''}: "
        f"it continues after event {hub_seq}; {len(held)} of its {len(mine)} unsent events "
        f"were already recorded; {count} events the hub recorded from {device} are not in "
        f"the store (confirmed by an earlier copy of it)"
        + (f": {listed}" + (" ..." if count > 50 else "") if count else "")
    )
    dead_letters.record(
        conn, out, dead_letters.letter(topic, raw, STORE_RECOVERED, reason, device), now
    )
    out.publish(out.topics.ack(device), history)
    return history
