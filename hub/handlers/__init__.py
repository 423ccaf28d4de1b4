"""Applying floor events to the hub's state, inside the transaction of one received batch.

:class:`BatchWork` loads everything a batch touches up front (orders, then tasks, locked
in that order), hands each event, in sequence order, to the handlers of its aggregate
(:data:`BatchWork.routes`, the one place events are dispatched by type; an applied event
may also concern the totes holding its goods, :data:`BatchWork.follow_ups`), and writes what
changed once at the end (:meth:`BatchWork.flush`). The handlers share the batch
(:class:`~hub.handlers.batch.Batch`) and apply events to :mod:`floor_app.domain` objects:

* orders (claims ``order.held``, ``order.released``, ``order.short_approved``):
  :mod:`.orders`; carriers (``order.carrier_changed``): :mod:`.carriers`;
* picks (``pick.confirmed``, ``pick.undone``, ``pick.short``): :mod:`.picks`; pick tasks
  (``task.started``, ``task.reassigned``, ``task.completed``): :mod:`.pick_tasks`;
* packing and labels (``pack.completed``, ``label.printed``, ``label.confirmed``):
  :mod:`.packing`, :mod:`.labels`; returns (``return.received``): :mod:`.returns`;
* stock moves (``stock.moved``, ``stock_task.closed``): :mod:`.stock_moves`; counts
  (``stock.counted``, ``count.acknowledged``): :mod:`.counts`; logins (``user.*``):
  :mod:`.people`; receiving (``receipt.*``): :mod:`.receipts`;
* totes (``tote.assigned``, a claim; ``tote.put``, ``tote.released``; and what picks,
  completed tasks and packed parcels mean for the totes holding them): :mod:`.totes`.

Whatever aggregate an applied event belongs to, a supervisor decision it records (with its
reason code) is kept by :mod:`.decisions`.

**Facts** are never refused: a fact about a cancelled order is recorded and creates
compensating work (a put-away stock task, :mod:`hub.compensation`). **Claims** are checked
by :mod:`hub.rules` and refused with a reason when stale. A domain error while applying an
event rejects that event with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection

from floor_app.domain.errors import DomainError
from floor_app.domain.events import (
    EVENT_TYPES,
    CarrierChanged,
    CountAcknowledged,
    HoldReleased,
    LabelConfirmed,
    LabelPrinted,
    OrderHeld,
    PackCompleted,
    PickConfirmed,
    PickUndone,
    ReceiptClosed,
    ReceiptCounted,
    ReceiptVarianceExplained,
    ReturnReceived,
    ShortApproved,
    ShortReported,
    StockCounted,
    StockMoved,
    StockTaskClosed,
    TaskCompleted,
    TaskReassigned,
    TaskStarted,
    ToteAssigned,
    TotePut,
    ToteReleased,
    UserLoggedIn,
    UserLoggedOut,
)
from sync.protocol import EventEnvelope

from ..outbound import Outbound
from ..receiving.receipts import lock_receipts
from .batch import Batch, Handlers, HandlerSettings, Outcome
from .carriers import Carriers
from .counts import Counts
from .decisions import Decisions
from .labels import Labels
from .orders import Orders
from .packing import Packing
from .people import People
from .pick_tasks import PickTasks, orders_of
from .picks import Picks
from .receipts import Receipts
from .returns import Returns
from .stock_moves import StockMoves, refill_after
from .totes import Totes

__all__ = ["BatchWork", "HandlerSettings", "Outcome"]

#: The handler of one event type: takes the event, says what applying it did.
Handler = Callable[[Any], Outcome]
#: What an applied event also means for another aggregate: a note ("" for none).
FollowUp = Callable[[Any], str]


class BatchWork:
    """The handlers of one batch, and the events dispatched to them by type."""

    def __init__(
        self,
        conn: Connection,
        device_id: str,
        now: float,
        out: Outbound,
        settings: HandlerSettings | None = None,
    ) -> None:
        self.batch = batch = Batch(conn, device_id, now, out, settings or HandlerSettings())
        self.labels = labels = Labels(batch)
        self.picks = picks = Picks(batch)
        packing, people, tasks = Packing(batch), People(batch), PickTasks(batch)
        orders, carriers, self.returns = Orders(batch), Carriers(batch), Returns(batch)
        counts, moves, receipts = Counts(batch), StockMoves(batch), Receipts(batch)
        self.decisions = decisions = Decisions(batch)
        self.totes = totes = Totes(batch)
        #: the handlers with rows of their own, in the order they are written
        self.writers: tuple[Handlers, ...] = (labels, picks, packing, people, decisions, totes)
        self.routes: dict[str, Handler] = {
            PickConfirmed.TYPE: picks.confirmed,
            PickUndone.TYPE: picks.undone,
            ShortReported.TYPE: picks.short,
            TaskStarted.TYPE: tasks.started,
            TaskReassigned.TYPE: tasks.reassigned,
            TaskCompleted.TYPE: tasks.completed,
            PackCompleted.TYPE: packing.completed,
            LabelPrinted.TYPE: labels.printed,
            LabelConfirmed.TYPE: labels.confirmed,
            ReturnReceived.TYPE: self.returns.received,
            UserLoggedIn.TYPE: people.logged_in,
            UserLoggedOut.TYPE: people.logged_out,
            StockCounted.TYPE: counts.counted,
            CountAcknowledged.TYPE: counts.acknowledged,
            StockMoved.TYPE: moves.moved,
            StockTaskClosed.TYPE: moves.closed,
            OrderHeld.TYPE: orders.held,
            HoldReleased.TYPE: orders.released,
            ShortApproved.TYPE: orders.short_approved,
            CarrierChanged.TYPE: carriers.changed,
            ToteAssigned.TYPE: totes.assigned,
            TotePut.TYPE: totes.put,
            ToteReleased.TYPE: totes.released,
            ReceiptCounted.TYPE: receipts.counted,
            ReceiptVarianceExplained.TYPE: receipts.explained,
            ReceiptClosed.TYPE: receipts.closed,
        }
        #: what an applied event also means for the totes holding its goods
        self.follow_ups: dict[str, FollowUp] = {
            PickConfirmed.TYPE: totes.picked,
            TaskCompleted.TYPE: totes.task_done,
            PackCompleted.TYPE: totes.packed,
        }

    def load(self, events: Iterable[EventEnvelope]) -> None:
        """Lock and load the orders, tasks, receipts and label jobs the events name."""
        events = list(events)
        order_ids: set[str] = set()
        task_ids: set[str] = set()
        jobs: set[str] = set()
        completed: set[str] = set()
        parcels: set[str] = set()
        totes: set[str] = set()
        packed: set[str] = set()
        for env in events:
            if env.order_id:
                order_ids.add(env.order_id)
                if env.type == ReturnReceived.TYPE:
                    parcels.add(env.order_id)
                elif env.type == PackCompleted.TYPE:
                    packed.add(env.order_id)
            payload = env.payload
            tote = payload.get("tote")
            if isinstance(tote, str) and tote:
                totes.add(tote)
            task = payload.get("task")
            if isinstance(task, str):
                task_ids.add(task)
                if env.type == TaskCompleted.TYPE:
                    completed.add(task)
            for key in ("job", "reprint_of"):
                job = payload.get(key)
                if isinstance(job, str) and job:
                    jobs.add(job)
        conn = self.batch.conn
        if completed:  # completing a task may release its orders' unpicked units
            order_ids.update(orders_of(conn, completed))
        if parcels:  # a return may name its order by the parcel's tracking number
            order_ids.update(self.returns.find_orders(parcels))
        self.batch.load(order_ids, task_ids)
        self.totes.load(totes, completed, packed)
        # receipts after site totes and before stock rows (hub/tables.py): the deliveries
        # counted in this batch and those whose put-away tasks it moves
        received = {
            str(env.payload["receipt"])
            for env in events
            if env.type.startswith("receipt.") and isinstance(env.payload.get("receipt"), str)
        }
        received |= {r.origin_ref for r in self.batch.stock_tasks.values() if r.origin == "receipt"}
        lock_receipts(conn, received)
        if jobs:
            self.labels.load(jobs)

    def apply(self, env: EventEnvelope) -> Outcome:
        """Apply one event; domain errors become a rejection with the reason."""
        self.batch.begin(env)
        handler = self.routes.get(env.type)
        if handler is None:  # pragma: no cover - the envelope only admits known types
            return Outcome.rejected(
                f"the hub has no handler for {env.type}",
                code="hub.unknown_event",
                params={"type": env.type},
            )
        try:
            # the envelope's payload was validated strictly at the edge (batch_reader):
            # build the event without validating it a second time
            event = EVENT_TYPES[env.type](**env.payload)
        except TypeError as exc:
            return Outcome.rejected(
                f"{env.type} payload does not fit the event: {exc}",
                code="hub.bad_event",
                params={"type": env.type},
            )
        try:
            outcome = handler(event)
            follow_up = self.follow_ups.get(env.type)
            applied = follow_up is not None and outcome.kind == "applied"
            note = follow_up(event) if applied and follow_up is not None else ""
        except DomainError as exc:
            return Outcome.rejected(exc.reason, code=exc.code, params=exc.params)
        if note:
            outcome = Outcome.applied(f"{outcome.note}; {note}" if outcome.note else note)
        self.decisions.seen(env, event, outcome)
        return outcome

    def flush(self) -> None:
        """Write everything this batch changed; make status and push messages."""
        changed = self.batch.save()
        refill_after(self.batch, self.picks.shortages)
        for writer in self.writers:
            writer.flush()
        self.batch.publish(changed)
