"""Supervisor decisions: every applied event that records one (a short approved, a hold
released, a weight accepted outside tolerance, a task given to another picker, a count
difference seen; :func:`floor_app.domain.decisions.decision_of`) becomes a row of
``decisions`` with its reason code, who, on which device and when. After a batch that
recorded any, the newest :data:`LOG_LENGTH` are published, retained, on ``decisions`` for
the supervisors' boards (:class:`sync.protocol.DecisionLog`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from floor_app.domain.decisions import decision_of
from floor_app.domain.events import DomainEvent
from sync.protocol import DecisionEntry, DecisionLog, EventEnvelope

from ..bulk import insert_rows
from ..tables import DecisionRow, table_of
from .batch import Batch, Handlers, Outcome

DECISIONS = table_of(DecisionRow)

#: The decision log holds this many decisions, newest first.
LOG_LENGTH = 100


class Decisions(Handlers):
    """The decisions of one batch; written and published in :meth:`flush`."""

    def __init__(self, batch: Batch) -> None:
        super().__init__(batch)
        self.rows: list[dict[str, Any]] = []

    def seen(self, env: EventEnvelope, event: DomainEvent, outcome: Outcome) -> None:
        """``event`` (of ``env``) was handled with ``outcome``: keep its decision, if any."""
        if outcome.kind != "applied":
            return
        decision = decision_of(event)
        if decision is None:
            return
        b = self.batch
        self.rows.append(
            {
                "event_id": env.event_id,
                "kind": decision.kind.value,
                "subject": decision.subject[:64],
                "reason": decision.reason[:64],
                "user_id": decision.user[:64],
                "detail": decision.detail[:200],
                "device_id": b.device_id,
                "seq": env.seq,
                "device_at": env.created_at,
                "at": b.now,
            }
        )

    def flush(self) -> None:
        if not self.rows:
            return
        conn = self.batch.conn
        insert_rows(conn, DECISIONS, self.rows)
        out = self.batch.out
        out.publish(out.topics.decisions, decision_log(conn, self.batch.now), retain=True)


def decision_log(conn: Connection, now: float, limit: int = LOG_LENGTH) -> DecisionLog:
    """The newest ``limit`` decisions recorded, newest first."""
    rows = conn.execute(select(DECISIONS).order_by(DECISIONS.c.id.desc()).limit(limit))
    return DecisionLog(
        decisions=[
            DecisionEntry.model_validate(
                {
                    "event_id": r.event_id,
                    "kind": r.kind,
                    "subject": r.subject,
                    "reason": r.reason,
                    "user": r.user_id,
                    "detail": r.detail,
                    "device_id": r.device_id,
                    "at": r.device_at,
                }
            )
            for r in rows
        ],
        at=now,
    )
