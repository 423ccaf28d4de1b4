"""Messages a hub transaction wants to send: collected while it runs, written to the hub's
outbox table in the same transaction, published only after the commit.

Pushes get their per-device cursor when the transaction is flushed, devices in sorted
order, so two transactions pushing to the same devices lock the push streams in the same
order and never deadlock. An order's status is published once per transaction, with the
state it ended in (every step is kept in ``order_history``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from sync.protocol import OrderStatus, PushItem, PushMessage, ReceiptStatus, Topics, encode

from .bulk import insert_rows
from .database import run_transaction
from .tables import OutboxMessageRow, PushRow, PushStreamRow, table_of

T = TypeVar("T")

OUTBOX = table_of(OutboxMessageRow)
PUSHES = table_of(PushRow)
STREAMS = table_of(PushStreamRow)


@dataclass(frozen=True, slots=True)
class OutMessage:
    """One message to publish after commit; ``outbox_id`` is its hub_outbox row."""

    topic: str
    payload: bytes
    retain: bool = False
    outbox_id: int | None = None


@dataclass
class Outbound:
    """The messages of one transaction, in the order they were made."""

    topics: Topics
    messages: list[OutMessage] = field(default_factory=list)
    pushes: dict[str, list[PushItem]] = field(default_factory=dict)
    statuses: dict[str, OrderStatus] = field(default_factory=dict)
    receipts: dict[str, ReceiptStatus] = field(default_factory=dict)

    def publish(self, topic: str, message: BaseModel, *, retain: bool = False) -> None:
        """Send ``message`` on ``topic`` after commit."""
        self.messages.append(OutMessage(topic, encode(message), retain))

    def push(self, device_id: str, item: PushItem) -> None:
        """Append ``item`` to ``device_id``'s push stream (numbered at flush)."""
        self.pushes.setdefault(device_id, []).append(item)

    def order_status(self, status: OrderStatus) -> None:
        """Publish ``status`` (retained) on the order's status topic; the last one wins."""
        self.statuses.pop(status.order_id, None)
        self.statuses[status.order_id] = status

    def receipt_status(self, status: ReceiptStatus) -> None:
        """Publish ``status`` (retained) on the receipt's status topic; the last one wins."""
        self.receipts.pop(status.receipt_id, None)
        self.receipts[status.receipt_id] = status

    @property
    def empty(self) -> bool:
        """True when nothing would be sent."""
        return not (self.messages or self.pushes or self.statuses or self.receipts)

    def flush(self, conn: Connection, now: float | None = None) -> list[OutMessage]:
        """Number the pushes, write pushes and outbox rows; the messages with their row ids."""
        now = time.time() if now is None else now
        out = list(self.messages)
        for status in self.statuses.values():
            out.append(
                OutMessage(self.topics.order_status(status.order_id), encode(status), retain=True)
            )
        for receipt in self.receipts.values():
            out.append(
                OutMessage(
                    self.topics.receipt_status(receipt.receipt_id), encode(receipt), retain=True
                )
            )
        for device_id in sorted(self.pushes):
            items = self.pushes[device_id]
            first = _take_cursors(conn, device_id, len(items))
            rows = []
            for offset, item in enumerate(items):
                cursor = first + offset
                body = encode(PushMessage(device_id=device_id, cursor=cursor, item=item))
                rows.append(
                    {
                        "device_id": device_id,
                        "cursor": cursor,
                        "kind": item.kind,
                        "body": body,
                        "created_at": now,
                    }
                )
                out.append(OutMessage(self.topics.push(device_id), body))
            insert_rows(conn, PUSHES, rows)
        self.messages, self.pushes, self.statuses = [], {}, {}
        if not out:
            return []
        ids = write_outbox(conn, out, now)
        return [
            OutMessage(m.topic, m.payload, m.retain, row_id)
            for m, row_id in zip(out, ids, strict=True)
        ]


_TAKE_CURSORS = (
    update(STREAMS)
    .where(STREAMS.c.device_id == bindparam("device"))
    .values(last_cursor=STREAMS.c.last_cursor + bindparam("count"))
    .returning(STREAMS.c.last_cursor)
)


def _take_cursors(conn: Connection, device_id: str, count: int) -> int:
    """Reserve ``count`` consecutive push cursors for ``device_id``; the first of them."""
    row = conn.execute(_TAKE_CURSORS, {"device": device_id, "count": count}).first()
    if row is None:
        conn.execute(insert(STREAMS).values(device_id=device_id, last_cursor=count))
        return 1
    return int(row[0]) - count + 1


def write_outbox(conn: Connection, messages: list[OutMessage], now: float) -> list[int]:
    """Insert ``messages`` into hub_outbox; their ids, in order."""
    rows = [
        {"topic": m.topic, "payload": m.payload, "retain": m.retain, "created_at": now}
        for m in messages
    ]
    return insert_rows(conn, OUTBOX, rows, returning="id")


def pending_outbox(conn: Connection, older_than: float, limit: int = 1000) -> list[OutMessage]:
    """Outbox rows written before ``older_than`` and not yet confirmed, oldest first."""
    rows = conn.execute(
        select(OUTBOX.c.id, OUTBOX.c.topic, OUTBOX.c.payload, OUTBOX.c.retain)
        .where(OUTBOX.c.created_at < older_than)
        .order_by(OUTBOX.c.id)
        .limit(limit)
    ).all()
    return [OutMessage(r.topic, bytes(r.payload), bool(r.retain), int(r.id)) for r in rows]


def delete_outbox(conn: Connection, ids: list[int]) -> None:
    """Forget outbox rows the broker has acknowledged."""
    for start in range(0, len(ids), 500):
        conn.execute(OUTBOX.delete().where(OUTBOX.c.id.in_(ids[start : start + 500])))


def transact(
    engine: Engine, topics: Topics, work: Callable[[Connection, Outbound], T], what: str = ""
) -> tuple[T, list[OutMessage]]:
    """Run ``work(conn, out)`` in one transaction (retried on conflicts); its result and the
    messages it made, which are in the outbox and may be published: the commit is done."""

    def run(conn: Connection) -> tuple[T, list[OutMessage]]:
        out = Outbound(topics)
        result = work(conn, out)
        return result, out.flush(conn)

    return run_transaction(engine, run, what=what)
