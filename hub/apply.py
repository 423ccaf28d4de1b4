"""Event apply: one received batch, one database transaction, exactly once and in order.

:func:`apply_batch` runs inside the caller's transaction and has no effect outside it, so
it can be used without MQTT (tests, benchmarks) and retried after a lost deadlock:

1. lock the device's inbox cursor (``SELECT ... FOR UPDATE``: two hub workers sharing one
   subscription serialise on it, per device);
2. split the batch: sequences at or below the cursor are duplicates (counted, not
   applied, but each must be the event recorded under its sequence, else the device's
   store is stale: :mod:`hub.history`); the contiguous run after it is fresh (an event id
   recorded before is refused); anything after a gap is held back and a resend from the
   gap is asked for;
3. apply each fresh event (:mod:`hub.handlers`) and record it in the inbox with its
   outcome (``applied``, ``refused``, ``rejected``);
4. advance the cursor, and write every outgoing message (refusals, rejections, order
   statuses, pushes, dead letters, the cumulative ack) to the hub outbox.

The caller commits, and only then publishes the messages and acknowledges the MQTT message.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, bindparam, select, update

from sync.protocol import (
    Ack,
    ClaimRefused,
    EventEnvelope,
    EventRejected,
    ResendRequest,
    StoreStale,
    Topics,
    compact_json,
)

from . import dead_letters, history
from .batch_reader import BadEvent, Record
from .bulk import insert_rows
from .errors import UnknownDevice
from .handlers import BatchWork, HandlerSettings, Outcome
from .outbound import Outbound, OutMessage
from .tables import DeviceCursorRow, InboxRow, table_of

CURSORS = table_of(DeviceCursorRow)
INBOX = table_of(InboxRow)

ApplySettings = HandlerSettings


@dataclass
class ApplyResult:
    """What one batch did. ``acked_up_to`` is the cumulative ack sent after commit."""

    device_id: str
    acked_up_to: int
    applied: int = 0
    duplicates: int = 0
    held: int = 0
    gap_from: int | None = None
    refused: int = 0
    rejected: int = 0
    outcomes: list[tuple[int, Outcome]] = field(default_factory=list)
    types: Counter[str] = field(default_factory=Counter)
    messages: list[OutMessage] = field(default_factory=list)
    #: the device's store does not continue the hub's record: nothing was applied
    stale: StoreStale | None = None


# Statements built once: the hot path only binds values (SQLAlchemy then skips building
# and hashing a new statement for every batch).
_LOCK_CURSOR = (
    select(CURSORS.c.last_seq, CURSORS.c.stale)
    .where(CURSORS.c.device_id == bindparam("device"))
    .with_for_update()
)
_ADVANCE_CURSOR = (
    update(CURSORS)
    .where(CURSORS.c.device_id == bindparam("device"))
    .values(
        last_seq=bindparam("last_seq"),
        applied=CURSORS.c.applied + bindparam("n_applied"),
        duplicates_ignored=CURSORS.c.duplicates_ignored + bindparam("n_duplicates"),
        refused=CURSORS.c.refused + bindparam("n_refused"),
        rejected=CURSORS.c.rejected + bindparam("n_rejected"),
        gaps=CURSORS.c.gaps + bindparam("n_gaps"),
        batches=CURSORS.c.batches + 1,
        last_batch_at=bindparam("at"),
    )
)


def lock_cursor(conn: Connection, device_id: str) -> tuple[int, str] | None:
    """Lock ``device_id``'s inbox cursor row: its last sequence and why its store is stale
    ("" while it is not); None for an unknown device."""
    row = conn.execute(_LOCK_CURSOR, {"device": device_id}).first()
    return None if row is None else (int(row.last_seq), str(row.stale or ""))


def _both_versions(conflict: history.Conflict) -> bytes:
    """The dead letter of a conflicting resend: the hub's event and the device's."""
    sent = conflict.sent
    return compact_json(
        {
            "hub": {
                "seq": conflict.seq,
                "event_id": conflict.hub_event_id,
                "type": conflict.hub_type,
                "payload": conflict.hub_payload,
            },
            "device": {
                "seq": sent.seq,
                "event_id": sent.event_id,
                "type": sent.type,
                "payload": history.record_text(sent),
            },
        }
    ).encode()


def split(records: Sequence[Record], last: int) -> tuple[int, list[Record], list[Record]]:
    """(duplicates, fresh contiguous records after ``last``, records held behind a gap)."""
    duplicates = sum(1 for r in records if r.seq <= last)
    fresh: list[Record] = []
    held: list[Record] = []
    expect = last + 1
    for r in records:
        if r.seq <= last:
            continue
        if not held and r.seq == expect:
            fresh.append(r)
            expect += 1
        else:
            held.append(r)
    return duplicates, fresh, held


def apply_batch(
    conn: Connection,
    device_id: str,
    records: Sequence[Record],
    *,
    site: str,
    now: float | None = None,
    settings: ApplySettings | None = None,
) -> ApplyResult:
    """Apply one batch of ``device_id``'s events in the caller's transaction.

    Raises :class:`UnknownDevice` if the device is not registered (nothing is written).
    """
    now = time.time() if now is None else now
    cursor = lock_cursor(conn, device_id)
    if cursor is None:
        raise UnknownDevice(
            f"device {device_id!r} is not registered with the hub",
            hint="add it with: floor-hub devices add DEVICE --role picker|packer|supervisor",
        )
    last, stale_text = cursor
    topics = Topics(site)
    out = Outbound(topics)
    ack_topic = topics.ack(device_id)
    if stale_text:  # nothing more is applied until the device recovers its store
        result = ApplyResult(device_id, last, duplicates=len(records))
        result.stale = StoreStale.model_validate_json(stale_text)
        out.publish(ack_topic, result.stale)
        result.messages = out.flush(conn, now)
        return result
    duplicates, fresh, held = split(records, last)
    conflict = history.first_conflict(conn, device_id, [r for r in records if r.seq <= last])
    if conflict is not None:
        result = ApplyResult(device_id, last, duplicates=duplicates)
        result.stale = history.conflict_stale(device_id, last, records[-1].seq, conflict)
        history.mark_stale(
            conn,
            out,
            result.stale,
            raw=_both_versions(conflict),
            topic=topics.evt(device_id),
            now=now,
        )
        result.messages = out.flush(conn, now)
        return result
    result = ApplyResult(device_id, last, duplicates=duplicates, held=len(held))
    reused = history.held_ids(conn, device_id, [r.event_id for r in fresh if r.event_id])
    work = BatchWork(conn, device_id, now, out, settings or HandlerSettings())
    work.load(r for r in fresh if isinstance(r, EventEnvelope) and r.event_id not in reused)
    inbox: list[dict[str, object]] = []
    for record in fresh:
        if record.event_id and record.event_id in reused:
            outcome = Outcome.rejected(
                f"event {record.event_id} was recorded under sequence "
                f"{reused[record.event_id]}: not applied again",
                code=history.REUSED_CODE,
            )
        elif isinstance(record, BadEvent):
            outcome = Outcome.rejected(record.reason)
        else:
            outcome = work.apply(record)
        if record.event_id:
            reused.setdefault(record.event_id, record.seq)  # twice in one batch: once
        result.outcomes.append((record.seq, outcome))
        result.types[record.type or "?"] += 1
        inbox.append(_inbox_row(device_id, record, outcome, now))
        if outcome.kind == "refused":
            result.refused += 1
            out.publish(
                ack_topic,
                ClaimRefused(
                    device_id=device_id,
                    seq=record.seq,
                    event_id=record.event_id,
                    type=record.type,
                    order_id=record.order_id,
                    task_id=outcome.task_id,
                    reason=outcome.note or "refused",
                    current_version=outcome.current_version,
                    code=outcome.code,
                    params=dict(outcome.params),
                ),
            )
        elif outcome.kind == "rejected":
            result.rejected += 1
            reason = f"event {record.seq} ({record.type or '?'}): {outcome.note}"
            if outcome.code != history.REUSED_CODE:  # the device takes back what it did
                out.publish(
                    ack_topic,
                    EventRejected(
                        device_id=device_id,
                        seq=record.seq,
                        event_id=record.event_id,
                        reason=reason,
                        code=outcome.code,
                        params=dict(outcome.params),
                    ),
                )
            raw = (
                record.excerpt
                if isinstance(record, BadEvent)
                else compact_json(record.model_dump(mode="json"))
            )
            dead_letters.record(
                conn,
                out,
                dead_letters.letter(
                    topics.evt(device_id),
                    raw.encode(),
                    history.REUSED_EVENT_ID
                    if outcome.code == history.REUSED_CODE
                    else dead_letters.REJECTED_EVENT,
                    reason,
                    device_id,
                ),
                now,
            )
    work.flush()
    insert_rows(conn, INBOX, inbox)
    result.applied = len(fresh)
    result.acked_up_to = fresh[-1].seq if fresh else last
    if held:
        result.gap_from = result.acked_up_to + 1
    conn.execute(
        _ADVANCE_CURSOR,
        {
            "device": device_id,
            "last_seq": result.acked_up_to,
            "n_applied": result.applied,
            "n_duplicates": duplicates,
            "n_refused": result.refused,
            "n_rejected": result.rejected,
            "n_gaps": 1 if held else 0,
            "at": now,
        },
    )
    upto_id = fresh[-1].event_id if fresh else history.event_id_at(conn, device_id, last)
    out.publish(
        ack_topic,
        Ack(device_id=device_id, up_to_seq=result.acked_up_to, at=now, event_id=upto_id),
    )
    if result.gap_from is not None:
        out.publish(
            ack_topic,
            ResendRequest(
                device_id=device_id,
                from_seq=result.gap_from,
                reason=f"sequence {held[0].seq} arrived but {result.gap_from} is the next one",
                at=now,
            ),
        )
    result.messages = out.flush(conn, now)
    return result


def _inbox_row(device_id: str, record: Record, outcome: Outcome, now: float) -> dict[str, object]:
    if isinstance(record, BadEvent):
        return {
            "device_id": device_id,
            "seq": record.seq,
            "event_id": record.event_id,
            "type": record.type[:40],
            "kind": "",
            "order_id": None,
            "order_version": None,
            "payload": record.excerpt,
            "device_at": 0.0,
            "received_at": now,
            "outcome": outcome.kind,
            "note": outcome.note[:1000],
        }
    return {
        "device_id": device_id,
        "seq": record.seq,
        "event_id": record.event_id,
        "type": record.type,
        "kind": record.kind,
        "order_id": record.order_id,
        "order_version": record.order_version,
        "payload": compact_json(record.payload),
        "device_at": record.created_at,
        "received_at": now,
        "outcome": outcome.kind,
        "note": outcome.note[:1000],
    }
