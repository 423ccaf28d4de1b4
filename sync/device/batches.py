"""Outbox records as event batches on the wire: the device side of ``dev/{device}/evt``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable

from floor_app.store.outbox import OutboxRecord
from sync.protocol import MAX_BATCH_EVENTS, MAX_MESSAGE_BYTES, SCHEMA_VERSION, compact_json


def batch_records(
    records: Iterable[OutboxRecord],
    device_id: str,
    *,
    max_events: int = MAX_BATCH_EVENTS,
    max_bytes: int = MAX_MESSAGE_BYTES - 1024,
) -> list[bytes]:
    """Encode consecutive outbox records as event batches, each within the count and size limits.

    Records must be consecutive sequences of one device (as :meth:`Store.pending` returns
    them). A record too large to fit alone is still sent alone (the hub dead-letters it).
    """
    out: list[bytes] = []
    head = f'{{"v":{SCHEMA_VERSION},"device_id":{json.dumps(device_id)},"sent_at":'
    # the batch around its events: the head, the time (at most 24 characters) and the list
    overhead = len(head.encode("utf-8")) + 24 + len(',"events":[]}')
    chunk: list[str] = []
    size = 0
    for record in records:
        text = _envelope_json(record)
        nbytes = len(text.encode("utf-8"))
        if chunk and (len(chunk) >= max_events or size + nbytes + overhead > max_bytes):
            out.append(_join(head, chunk))
            chunk, size = [], 0
        chunk.append(text)
        size += nbytes + 1
    if chunk:
        out.append(_join(head, chunk))
    return out


def _envelope_json(r: OutboxRecord) -> str:
    return compact_json(
        {
            "seq": r.seq,
            "event_id": r.event_id,
            "device_id": r.device_id,
            "type": r.type,
            "kind": r.kind,
            "order_id": r.order_id,
            "order_version": r.order_version,
            "payload": r.payload,
            "created_at": r.created_at,
        }
    )


def _join(head: str, chunk: list[str]) -> bytes:
    return f'{head}{time.time()!r},"events":[{",".join(chunk)}]}}'.encode()
