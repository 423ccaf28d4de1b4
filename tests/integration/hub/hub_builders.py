"""Builders for hub tests: event envelopes as they arrive on the wire, batches, orders."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Engine, select

from floor_app.domain.events import DomainEvent, PickConfirmed
from sync.hub import ApplyResult, apply_batch, run_transaction
from sync.hub.batch_reader import Record
from sync.hub.tables import InboxRow, OrderRow, PickLineRow, PickTaskRow, table_of
from sync.protocol import EventEnvelope

SITE = "dc1"


def envelope(
    device: str, seq: int, event: DomainEvent, *, order_version: int | None = None
) -> EventEnvelope:
    """The envelope of ``event`` as a device would send it (validated like the hub does)."""
    return EventEnvelope.model_validate(
        {
            "seq": seq,
            "event_id": f"01TEST{device.upper().replace('-', '')}{seq:012d}"[:26],
            "device_id": device,
            "type": event.TYPE,
            "kind": event.KIND,
            "order_id": event.order_id,
            "order_version": order_version,
            "payload": event.payload(),
            "created_at": time.time(),
        }
    )


def batch_bytes(device: str, records: list[EventEnvelope], **extra: Any) -> bytes:
    """An EventBatch message (bytes) holding ``records``."""
    body = {
        "v": 1,
        "device_id": device,
        "sent_at": time.time(),
        "events": [r.model_dump(mode="json") for r in records],
        **extra,
    }
    return json.dumps(body).encode()


def pick(
    order: str,
    sku: str,
    *,
    task: str = "PT-X",
    line: str = "L1",
    qty: int = 1,
    location: str = "A01-01-1A",
    tote: int = 1,
) -> PickConfirmed:
    """A pick.confirmed event."""
    return PickConfirmed(
        task=task,
        line=line,
        order=order,
        sku=sku,
        location=location,
        qty=qty,
        tote_position=tote,
        user="alice",
    )


def apply(engine: Engine, device: str, records: list[Record], **kwargs: Any) -> ApplyResult:
    """Apply one batch in its own transaction."""
    return run_transaction(
        engine, lambda conn: apply_batch(conn, device, records, site=SITE, **kwargs)
    )


def order_row(engine: Engine, order_id: str) -> Any:
    """The stored order row."""
    orders = table_of(OrderRow)
    with engine.connect() as conn:
        return conn.execute(select(orders).where(orders.c.order_id == order_id)).one()


def inbox_seqs(engine: Engine, device: str) -> list[int]:
    """Sequences recorded for ``device``, in order."""
    inbox = table_of(InboxRow)
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(inbox.c.seq).where(inbox.c.device_id == device).order_by(inbox.c.seq)
            ).scalars()
        )


def task_of_order(engine: Engine, order_id: str) -> Any:
    """(task row, its lines for ``order_id``) of the task picking ``order_id``."""
    lines = table_of(PickLineRow)
    tasks = table_of(PickTaskRow)
    with engine.connect() as conn:
        own = conn.execute(
            select(lines).where(lines.c.order_id == order_id).order_by(lines.c.sequence)
        ).all()
        task = conn.execute(select(tasks).where(tasks.c.task_id == own[0].task_id)).one()
    return task, own
