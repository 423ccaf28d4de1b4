"""Dead letters: every message the hub refuses at the edge is recorded, counted and
published on ``floor/v1/{site}/dlq`` with its reason. Nothing is dropped silently."""

from __future__ import annotations

import time

from sqlalchemy import Connection, insert

from sync.protocol import DeadLetter, ProtocolError

from .outbound import Outbound
from .tables import DeadLetterRow, table_of

DEAD_LETTERS = table_of(DeadLetterRow)

#: Codes the hub adds to the protocol's validation codes.
UNKNOWN_DEVICE = "unknown_device"
REJECTED_EVENT = "rejected_event"
INTAKE_REJECTED = "intake_rejected"
DUPLICATE_ORDER = "duplicate_order"
WRONG_TOPIC = "wrong_topic"
CANCEL_REJECTED = "cancel_rejected"


def letter(
    topic: str,
    raw: bytes,
    code: str,
    reason: str,
    device_id: str | None = None,
) -> DeadLetter:
    """A dead letter from the hub about ``raw`` received on ``topic``."""
    return DeadLetter.about("hub", topic, raw, _Reason(code, reason), device_id=device_id)


class _Reason(ProtocolError):
    """A protocol error with a code of the hub's own (``unknown_device`` ...)."""

    def __init__(self, code: str, reason: str) -> None:
        ValueError.__init__(self, f"{code}: {reason}")
        self.code = code  # type: ignore[assignment]
        self.reason = reason


def record(conn: Connection, out: Outbound, dead: DeadLetter, now: float | None = None) -> None:
    """Store ``dead`` (it is counted by ``floor-hub stats``) and publish it on the dlq topic."""
    conn.execute(
        insert(DEAD_LETTERS).values(
            topic=dead.topic[:200],
            code=dead.code[:32],
            reason=dead.reason,
            device_id=dead.device_id,
            excerpt=dead.payload_excerpt,
            size=dead.payload_size,
            at=time.time() if now is None else now,
        )
    )
    out.publish(out.topics.dlq, dead)
