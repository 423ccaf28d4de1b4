"""Reading an event batch at the edge, event by event.

The protocol's :class:`~sync.protocol.EventBatch` validates a batch as a whole. The hub
reads it in two layers so that one bad event cannot block the sequence behind it
(docs/protocol.md, "exactly once, in order"): the batch itself (size, JSON, version, the
device named by the topic, readable and contiguous sequences) must be sound or the whole
message is dead-lettered; each event is then validated on its own, and one that fails
becomes a :class:`BadEvent`, recorded as rejected at its sequence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from sync.protocol import MAX_BATCH_EVENTS, EventEnvelope, ProtocolError, check_device, load_json

BATCH_KEYS = frozenset({"v", "device_id", "sent_at", "events"})


@dataclass(frozen=True, slots=True)
class BadEvent:
    """An event whose sequence is readable but which failed validation."""

    seq: int
    event_id: str
    type: str
    reason: str
    excerpt: str

    @property
    def order_id(self) -> None:
        """A bad event names no order the hub would trust."""
        return None


Record = EventEnvelope | BadEvent


@dataclass(frozen=True, slots=True)
class ReceivedBatch:
    """A sound batch: its device, when it was sent, and its records in sequence order."""

    device_id: str
    sent_at: float
    records: list[Record]


def _short(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "event"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def _text(value: Any, limit: int = 40) -> str:
    return value[:limit] if isinstance(value, str) else ""


def read_batch(raw: bytes, topic_device: str | None) -> ReceivedBatch:
    """Read ``raw`` from ``dev/{topic_device}/evt``; raise :class:`ProtocolError` when the
    batch as a whole is unusable (then nothing of it is applied)."""
    data = load_json(raw)
    unknown = sorted(set(data) - BATCH_KEYS)
    if unknown:
        raise ProtocolError("invalid", f"EventBatch: unknown field {unknown[0]!r}")
    device = data.get("device_id")
    if not isinstance(device, str) or not device:
        raise ProtocolError("invalid", "EventBatch: device_id is missing or not a string")
    check_device(topic_device, device)
    events = data.get("events")
    if not isinstance(events, list) or not events:
        raise ProtocolError("invalid", "EventBatch: events must be a non-empty list")
    if len(events) > MAX_BATCH_EVENTS:
        raise ProtocolError(
            "invalid", f"EventBatch: {len(events)} events; at most {MAX_BATCH_EVENTS} allowed"
        )
    sent_at = data.get("sent_at", 0.0)
    if isinstance(sent_at, bool) or not isinstance(sent_at, int | float):
        raise ProtocolError("invalid", "EventBatch: sent_at must be a number")
    records: list[Record] = []
    for index, event in enumerate(events):
        seq = event.get("seq") if isinstance(event, dict) else None
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
            raise ProtocolError("invalid", f"EventBatch: event {index} has no readable seq")
        if index and seq != records[-1].seq + 1:
            raise ProtocolError(
                "invalid",
                f"EventBatch: sequences are not contiguous ({records[-1].seq + 1} expected, "
                f"{seq} found)",
            )
        assert isinstance(event, dict)
        if event.get("device_id") != device:
            raise ProtocolError(
                "device_mismatch",
                f"event {seq} names device {event.get('device_id')!r}, the batch {device!r}",
            )
        try:
            records.append(EventEnvelope.model_validate(event))
        except ValidationError as exc:
            records.append(
                BadEvent(
                    seq=seq,
                    event_id=_text(event.get("event_id")),
                    type=_text(event.get("type")),
                    reason=_short(exc),
                    excerpt=json.dumps(event, ensure_ascii=False)[:2048],
                )
            )
    return ReceivedBatch(device, float(sent_at), records)
