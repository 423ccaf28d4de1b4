"""Applying floor events to the hub's state, inside the transaction of one received batch.

:class:`BatchWork` loads everything a batch touches up front (orders, then tasks, locked
in that order), applies each event to :mod:`floor_app.domain` objects in sequence order,
and writes what changed once at the end (:meth:`BatchWork.flush`).

* **Facts** (``pick.confirmed``, ``pick.undone``, ``pick.short``, ``task.completed``,
  ``pack.completed``, ``label.printed``, ``label.confirmed``, ``user.*``) are never refused.
  A fact about a cancelled order is recorded and creates compensating work (a put-away
  stock task, :mod:`sync.hub.compensation`); units picked beyond the order's quantity go
  back the same way.
* **Claims** (``task.started``, ``task.reassigned``, ``order.held``, ``order.released``,
  ``order.short_approved``, ``order.carrier_changed``) are checked by :mod:`sync.hub.rules`
  and refused with a reason when stale.
* A label job is keyed by its ``job`` id: a second ``label.printed`` for the same job is
  recorded in the inbox but never applied again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

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
    ReturnReceived,
    ShortApproved,
    ShortReported,
    StockCounted,
    StockMoved,
    StockTaskClosed,
    TaskCompleted,
    TaskReassigned,
    TaskStarted,
    UserLoggedIn,
    UserLoggedOut,
)
from floor_app.domain.order import TERMINAL, OrderLine, OrderState
from floor_app.domain.picking import TASK_TRANSITIONS, ShortReason, TaskState
from floor_app.domain.stockwork import StockReason
from sync.protocol import (
    EventEnvelope,
    OrderCancelled,
    OrderModel,
    OrderSnapshot,
    OrderStatus,
    TaskCancelled,
    compact_json,
)

from . import compensation, counts, returns
from .bulk import insert_rows
from .carriers import change_carrier
from .counts import CountSettings
from .leases import lease, push_task
from .outbound import Outbound
from .repositories import (
    PICK_LINES,
    OrderRecord,
    TaskRecord,
    load_orders,
    load_tasks,
    save_orders,
    save_tasks,
)
from .rules import advance, fully_picked_clean, order_claim_refusal, task_claim_refusal
from .stock import RESERVATIONS, Cause, StockChanges, Taken, add_reservations, reserve_units
from .stock_moves import refill_after, stock_moved, stock_task_closed
from .stock_tasks import StockTaskRecord, load_stock_tasks
from .stock_tasks import push as push_stock_task
from .stock_tasks import save as save_stock_tasks
from .tables import (
    DeviceRow,
    LabelJobRow,
    PackRecordRow,
    ShortageRow,
    UserSessionRow,
    table_of,
)
from .task_building import TaskStop, gtins, load_locations, make_task

DEVICES = table_of(DeviceRow)
LABELS = table_of(LabelJobRow)
PACKS = table_of(PackRecordRow)
SHORTAGES = table_of(ShortageRow)
SESSIONS = table_of(UserSessionRow)

RETURNS_LOCATION = "RET-01"

_LABELS_BY_JOB = select(LABELS.c.job_id, LABELS.c.state, LABELS.c.order_id).where(
    LABELS.c.job_id.in_(bindparam("jobs", expanding=True))
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What applying one event did: ``applied``, ``refused`` (a claim) or ``rejected``."""

    kind: str
    note: str = ""
    task_id: str | None = None
    current_version: int | None = None

    @staticmethod
    def applied(note: str = "") -> Outcome:
        return Outcome("applied", note)

    @staticmethod
    def refused(
        reason: str, *, task_id: str | None = None, current_version: int | None = None
    ) -> Outcome:
        return Outcome("refused", reason, task_id, current_version)

    @staticmethod
    def rejected(reason: str) -> Outcome:
        return Outcome("rejected", reason)


@dataclass(frozen=True, slots=True)
class HandlerSettings:
    """Knobs of event apply."""

    #: Lease length given or renewed by a device's activity on a task (seconds).
    lease_s: float = 30 * 60.0
    #: Reallocate short units from other locations when stock allows.
    reallocate_shorts: bool = True
    #: Count tolerance, ABC frequencies, counts after shortages (:mod:`sync.hub.counts`).
    counts: CountSettings = field(default_factory=CountSettings)


@dataclass
class BatchWork:
    """The working set of one batch: loaded rows, pending writes and outgoing messages."""

    conn: Connection
    device_id: str
    now: float
    out: Outbound
    settings: HandlerSettings = field(default_factory=HandlerSettings)
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    new_tasks: list[TaskRecord] = field(default_factory=list)
    stock: StockChanges = field(default_factory=StockChanges)
    stock_tasks: dict[str, StockTaskRecord] = field(default_factory=dict)
    new_stock_tasks: list[StockTaskRecord] = field(default_factory=list)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    label_inserts: dict[str, dict[str, Any]] = field(default_factory=dict)
    label_updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    shortages: list[dict[str, Any]] = field(default_factory=list)
    putaways: compensation.PutAways | None = None
    packs: list[dict[str, Any]] = field(default_factory=list)
    sessions: dict[str, tuple[str, str] | None] = field(default_factory=dict)
    reached_picked: set[str] = field(default_factory=set)
    status_reason: dict[str, str] = field(default_factory=dict)
    tracked: dict[str, str] = field(default_factory=dict)
    seq: int = 0

    # -- loading ---------------------------------------------------------------------------

    def load(self, events: Iterable[EventEnvelope]) -> None:
        """Lock and load the orders, tasks and label jobs the events name."""
        order_ids: set[str] = set()
        task_ids: set[str] = set()
        jobs: set[str] = set()
        completed: set[str] = set()
        parcels: set[str] = set()
        for env in events:
            if env.order_id:
                order_ids.add(env.order_id)
                if env.type == ReturnReceived.TYPE:
                    parcels.add(env.order_id)
            payload = env.payload
            task = payload.get("task")
            if isinstance(task, str):
                task_ids.add(task)
                if env.type == TaskCompleted.TYPE:
                    completed.add(task)
            for key in ("job", "reprint_of"):
                job = payload.get(key)
                if isinstance(job, str) and job:
                    jobs.add(job)
        if completed:  # completing a task may release its orders' unpicked units
            order_ids.update(
                self.conn.execute(
                    select(PICK_LINES.c.order_id)
                    .where(PICK_LINES.c.task_id.in_(sorted(completed)))
                    .distinct()
                ).scalars()
            )
        if parcels:  # a return may name its order by the parcel's tracking number
            self.tracked = returns.orders_by_tracking(self.conn, parcels)
            order_ids.update(self.tracked.values())
        self.orders = load_orders(self.conn, order_ids, lock=True)
        self.tasks = load_tasks(self.conn, task_ids, lock=True)
        stock_task_ids = task_ids - set(self.tasks)
        if stock_task_ids:
            self.stock_tasks = load_stock_tasks(self.conn, stock_task_ids, lock=True)
        if jobs:
            for row in self.conn.execute(_LABELS_BY_JOB, {"jobs": sorted(jobs)}):
                self.labels[row.job_id] = {"state": row.state, "order_id": row.order_id}

    # -- dispatch --------------------------------------------------------------------------

    def apply(self, env: EventEnvelope) -> Outcome:
        """Apply one event; domain errors become a rejection with the reason."""
        self.seq = env.seq
        self.stock.now = self.now
        self.stock.cause = Cause(
            env.type,
            self.device_id,
            env.seq,
            str(env.payload.get("task") or env.order_id or ""),
            str(env.payload.get("user") or ""),
        )
        handler = HANDLERS.get(env.type)
        if handler is None:  # pragma: no cover - the envelope only admits known types
            return Outcome.rejected(f"the hub has no handler for {env.type}")
        try:
            # the envelope's payload was validated strictly at the edge (batch_reader):
            # build the event without validating it a second time
            event = EVENT_TYPES[env.type](**env.payload)
        except TypeError as exc:
            return Outcome.rejected(f"{env.type} payload does not fit the event: {exc}")
        try:
            return handler(self, event)
        except DomainError as exc:
            return Outcome.rejected(exc.reason)

    # -- helpers ---------------------------------------------------------------------------

    def _order_line(
        self, rec: OrderRecord, task_id: str, line_id: str, sku: str
    ) -> OrderLine | None:
        """The order line a pick line belongs to (by the task, else by SKU), if any."""
        task = self.tasks.get(task_id)
        line = task.line(line_id) if task else None
        if line is not None and line.order_id == rec.order_id:
            for ln in rec.order.lines:
                if ln.line_no == line.order_line_no:
                    return ln
        return rec.line_for_sku(sku)

    def _move(self, rec: OrderRecord, target: OrderState, reason: str) -> None:
        rec.change_source = self.device_id
        entered = advance(rec.order, target, reason)
        if entered:
            self.status_reason[rec.order_id] = reason
        if OrderState.PICKED in entered:
            self.reached_picked.add(rec.order_id)

    def _put(self) -> compensation.PutAways:
        if self.putaways is None:
            self.putaways = compensation.PutAways(self.conn)
        return self.putaways

    def _return(
        self, rec_id: str, sku: str, qty: int, from_place: str, to: str, reason: str
    ) -> None:
        """Compensating work: a put-away task for ``qty`` of ``sku`` from ``from_place``
        back to ``to`` (origin ``cancelled`` or ``surplus``)."""
        origin = compensation.CANCELLED if "cancelled" in reason else compensation.SURPLUS
        made = self._put().add(rec_id, sku, qty, from_place, to, origin=origin, reason=reason)
        if made is not None:
            self.new_stock_tasks.append(made)

    def _renew(self, task: TaskRecord | None) -> None:
        if task is not None and task.lease_device == self.device_id:
            task.lease_expires_at = self.now + self.settings.lease_s

    def _task_to(self, task: TaskRecord, target: TaskState) -> None:
        """Move a task forward through the states between (facts move tasks too)."""
        path = {
            TaskState.OPEN: [TaskState.ASSIGNED, TaskState.IN_PROGRESS, TaskState.DONE],
            TaskState.ASSIGNED: [TaskState.IN_PROGRESS, TaskState.DONE],
            TaskState.IN_PROGRESS: [TaskState.DONE],
        }.get(task.task.state, [])
        if target not in path:
            return
        for step in path[: path.index(target) + 1]:
            if step in TASK_TRANSITIONS[task.task.state]:
                task.task.move_to(step)

    # -- facts: picking --------------------------------------------------------------------

    def pick_confirmed(self, ev: PickConfirmed) -> Outcome:
        if ev.qty <= 0:
            return Outcome.rejected(f"pick quantity must be positive, got {ev.qty}")
        notes = []
        task = self.tasks.get(ev.task)
        line = task.line(ev.line) if task else None
        if task is None:
            notes.append(f"task {ev.task} is not known to the hub")
        elif line is None:
            notes.append(f"task {ev.task} has no line {ev.line}")
        else:
            line.picked += ev.qty
            self._renew(task)
        self.stock.move(ev.location, ev.sku, -ev.qty, StockReason.PICK)
        rec = self.orders.get(ev.order)
        if rec is None:
            notes.append(f"order {ev.order} is not known to the hub")
            return Outcome.applied("; ".join(notes))
        oline = self._order_line(rec, ev.task, ev.line, ev.sku)
        if oline is None:
            notes.append(f"order {ev.order} has no line of {ev.sku}: the units go back")
            tote = f"tote {ev.tote_position} of task {ev.task}"
            self._return(rec.order_id, ev.sku, ev.qty, tote, ev.location, "not in the order")
            return Outcome.applied("; ".join(notes))
        taken = min(ev.qty, max(0, rec.reserved.get(oline.line_no, 0)))
        if taken:
            where = line.location if line is not None else ev.location
            rec.reserved[oline.line_no] -= taken
            self.stock.reserve(where, ev.sku, -taken)
            self.stock.consume(rec.order_id, oline.line_no, where, taken)
        oline.picked += ev.qty
        tote = f"tote {ev.tote_position} of task {ev.task}"
        if rec.order.state is OrderState.CANCELLED:
            self._return(rec.order_id, ev.sku, ev.qty, tote, ev.location, "order cancelled")
            notes.append("order is cancelled: the units go back to stock")
            return Outcome.applied("; ".join(notes))
        surplus = min(ev.qty, oline.picked + oline.short - oline.qty)
        if surplus > 0:
            self._return(
                rec.order_id, ev.sku, surplus, tote, ev.location, "picked more than ordered"
            )
            notes.append(f"{surplus} picked beyond the order: the units go back to stock")
        self._move(rec, OrderState.PICKING, f"picked by {ev.user}")
        if fully_picked_clean(rec.order):
            self._move(rec, OrderState.PICKED, "every unit picked")
        return Outcome.applied("; ".join(notes))

    def pick_undone(self, ev: PickUndone) -> Outcome:
        if ev.qty <= 0:
            return Outcome.rejected(f"undo quantity must be positive, got {ev.qty}")
        task = self.tasks.get(ev.task)
        line = task.line(ev.line) if task else None
        if line is not None:
            line.picked = max(0, line.picked - ev.qty)
            self._renew(task)
        self.stock.move(ev.location, ev.sku, ev.qty, StockReason.UNDO)
        rec = self.orders.get(ev.order)
        if rec is None:
            return Outcome.applied(f"order {ev.order} is not known to the hub")
        oline = self._order_line(rec, ev.task, ev.line, ev.sku)
        if oline is None:
            return Outcome.applied(f"order {ev.order} has no line of {ev.sku}")
        oline.picked = max(0, oline.picked - ev.qty)
        if rec.order.state in (OrderState.CANCELLED, OrderState.SHIPPED):
            return Outcome.applied(f"order is {rec.order.state.value}")
        back = min(ev.qty, max(0, oline.open_to_pick - rec.reserved.get(oline.line_no, 0)))
        if back:  # the units are on the shelf again, still promised to this order
            rec.reserved[oline.line_no] = rec.reserved.get(oline.line_no, 0) + back
            self.stock.reserve(ev.location, ev.sku, back)
            self.stock.consume(rec.order_id, oline.line_no, ev.location, -back)
        return Outcome.applied()

    def pick_short(self, ev: ShortReported) -> Outcome:
        if ev.qty <= 0:
            return Outcome.rejected(f"short quantity must be positive, got {ev.qty}")
        try:
            reason = ShortReason(ev.reason)
        except ValueError:
            known = ", ".join(r.value for r in ShortReason)
            return Outcome.rejected(f"short reason {ev.reason!r} is not one of {known}")
        task = self.tasks.get(ev.task)
        line = task.line(ev.line) if task else None
        if line is not None:
            line.short += ev.qty
            line.short_reason = reason
            self._renew(task)
        # the units are not where the stock said: take them off (on hand and promised)
        self.stock.move(ev.location, ev.sku, -ev.qty, StockReason.SHORT)
        counts.after_shortage(self, ev.location, ev.sku)
        rec = self.orders.get(ev.order)
        shortage: dict[str, Any] = {
            "order_id": ev.order,
            "sku": ev.sku,
            "location": ev.location,
            "qty": ev.qty,
            "reason": reason.value,
            "user": ev.user,
            "task_id": ev.task,
            "line_id": ev.line,
            "device_id": self.device_id,
            "seq": self.seq,
            "reallocated": 0,
            "resolution": "",
            "at": self.now,
        }
        self.shortages.append(shortage)
        if rec is None:
            shortage["resolution"] = "order not known to the hub"
            return Outcome.applied(str(shortage["resolution"]))
        oline = self._order_line(rec, ev.task, ev.line, ev.sku)
        if oline is None:
            shortage["resolution"] = f"order {ev.order} has no line of {ev.sku}"
            return Outcome.applied(str(shortage["resolution"]))
        taken = min(ev.qty, max(0, rec.reserved.get(oline.line_no, 0)))
        if taken:
            where = line.location if line is not None else ev.location
            rec.reserved[oline.line_no] -= taken
            self.stock.reserve(where, ev.sku, -taken)
            self.stock.consume(rec.order_id, oline.line_no, where, taken)
        if rec.order.state in (OrderState.CANCELLED, OrderState.SHIPPED, OrderState.HELD):
            shortage["resolution"] = f"order is {rec.order.state.value}"
            return Outcome.applied(str(shortage["resolution"]))
        moved = self._reallocate(rec, oline, ev) if self.settings.reallocate_shorts else 0
        shortage["reallocated"] = moved
        left = ev.qty - moved
        self._move(rec, OrderState.PICKING, f"short reported by {ev.user}")
        if left > 0:
            oline.short += left
            rec.change_source = self.device_id
            if rec.order.state is OrderState.PICKING:
                rec.order.transition(OrderState.SHORT, f"{left} x {ev.sku} {reason.value}")
                self.status_reason[rec.order_id] = f"{left} x {ev.sku} short ({reason.value})"
            shortage["resolution"] = (
                f"{moved} reallocated, {left} short: waiting for a supervisor"
                if moved
                else "no stock elsewhere: waiting for a supervisor"
            )
        else:
            shortage["resolution"] = f"reallocated from other locations ({moved})"
        return Outcome.applied(str(shortage["resolution"]))

    def _reallocate(self, rec: OrderRecord, oline: OrderLine, ev: ShortReported) -> int:
        """Reserve the short units elsewhere and give them to this device as a new task."""
        taken = self._reserve_line(rec, oline, ev.qty, exclude=[ev.location])
        if not taken:
            return 0
        locations = load_locations(self.conn, [t.location for t in taken])
        stops = [
            TaskStop(rec.order_id, oline.line_no, oline.sku, locations[t.location], t.qty)
            for t in taken
            if t.location in locations
        ]
        moved = sum(t.qty for t in taken)
        rec.external_version = rec.order.version
        if stops:
            task = make_task(
                self.conn,
                stops,
                gtins(self.conn, [oline.sku]),
                priority=rec.order.priority,
                now=self.now,
                origin="reallocation",
            )
            lease(task, self.device_id, self.now, self.settings.lease_s)
            self.new_tasks.append(task)
        return moved

    def task_completed(self, ev: TaskCompleted) -> Outcome:
        task = self.tasks.get(ev.task)
        if task is None:
            return Outcome.applied(f"task {ev.task} is not known to the hub")
        if task.task.state is TaskState.CANCELLED:
            return Outcome.applied("task was cancelled; the picked units go back to stock")
        if task.task.state is TaskState.DONE:
            return Outcome.applied(f"task {ev.task} is already done")
        self._task_to(task, TaskState.DONE)
        task.lease_expires_at = None
        return Outcome.applied(self._release_unpicked(task))

    def _release_unpicked(self, task: TaskRecord) -> str:
        """Units of a finished task's lines neither picked nor reported short: their
        reservation leaves the task, and they are reserved again for allocation to batch
        into a new task; what cannot be reserved any more is short, as with a shortage."""
        rows = {
            (r.order_id, r.line_no, r.location): int(r.qty)
            for r in self.conn.execute(
                select(RESERVATIONS).where(RESERVATIONS.c.task_id == task.task_id)
            )
        }
        released: list[tuple[OrderRecord, OrderLine, int]] = []
        for ln in task.task.lines:
            left = ln.qty - ln.picked - ln.short
            rec = self.orders.get(ln.order_id)
            oline = (
                next((o for o in rec.order.lines if o.line_no == ln.order_line_no), None)
                if rec
                else None
            )
            if left <= 0 or rec is None or oline is None:
                continue
            key = (rec.order_id, oline.line_no, ln.location)
            held = min(left, rows.get(key, 0), rec.reserved.get(oline.line_no, 0))
            if held > 0:
                rows[key] -= held
                rec.reserved[oline.line_no] -= held
                self.stock.reserve(ln.location, ln.sku, -held)
                self.stock.consume(rec.order_id, oline.line_no, ln.location, held)
            need = min(left, oline.open_to_pick - rec.reserved.get(oline.line_no, 0))
            if need > 0 and rec.order.state not in TERMINAL:
                released.append((rec, oline, need))
        if not released:
            return ""
        self.stock.flush(self.conn)  # the released units are free before they are taken again
        notes = []
        for rec, oline, units in released:
            moved = self._reserve_again(rec, oline, units)
            left = units - moved
            if left:
                oline.short += left
                reason = f"{left} x {oline.sku} not picked and no stock free"
                self._move(rec, OrderState.PICKING, reason)
                if rec.order.state is OrderState.PICKING:
                    rec.order.transition(OrderState.SHORT, reason)
                self.status_reason[rec.order_id] = f"{reason}: waiting for a supervisor"
            notes.append(
                f"{rec.order_id} line {oline.line_no}: {moved} back to allocation"
                + (f", {left} short" if left else "")
            )
        return "unpicked units: " + "; ".join(notes)

    def _reserve_again(self, rec: OrderRecord, oline: OrderLine, units: int) -> int:
        """Reserve ``units`` of an order line again, not yet on a task; how many were."""
        busy = self.conn.execute(
            select(RESERVATIONS.c.location)
            .where(RESERVATIONS.c.order_id == rec.order_id)
            .where(RESERVATIONS.c.line_no == oline.line_no)
            .where(RESERVATIONS.c.task_id.is_not(None))
            .where(RESERVATIONS.c.qty > 0)
        ).scalars()
        return sum(t.qty for t in self._reserve_line(rec, oline, units, exclude=list(busy)))

    def _reserve_line(
        self, rec: OrderRecord, oline: OrderLine, units: int, *, exclude: list[str]
    ) -> list[Taken]:
        """Reserve up to ``units`` of an order line (not at ``exclude``), on no task yet."""
        taken = reserve_units(self.conn, oline.sku, units, exclude=exclude)
        add_reservations(
            self.conn,
            [
                {
                    "order_id": rec.order_id,
                    "line_no": oline.line_no,
                    "location": t.location,
                    "sku": oline.sku,
                    "qty": t.qty,
                    "task_id": None,
                    "at": self.now,
                }
                for t in taken
            ],
        )
        rec.reserved[oline.line_no] = rec.reserved.get(oline.line_no, 0) + sum(t.qty for t in taken)
        self.stock.touched.update((t.location, oline.sku) for t in taken)
        return taken

    # -- facts: stock work (sync.hub.stock_moves) -------------------------------------------

    def stock_moved(self, ev: StockMoved) -> Outcome:
        return Outcome.applied(stock_moved(self, ev))

    def stock_task_closed(self, ev: StockTaskClosed) -> Outcome:
        return Outcome.applied(stock_task_closed(self, ev))

    # -- facts: packing and labels ---------------------------------------------------------

    def pack_completed(self, ev: PackCompleted) -> Outcome:
        self.packs.append(
            {
                "order_id": ev.order,
                "station": ev.station,
                "carton": ev.carton,
                "weight_g": ev.weight_g,
                "user": ev.user,
                "weight_override_by": ev.weight_override_by,
                "device_id": self.device_id,
                "seq": self.seq,
                "at": self.now,
            }
        )
        rec = self.orders.get(ev.order)
        if rec is None:
            return Outcome.applied(f"order {ev.order} is not known to the hub")
        for ln in rec.order.lines:
            ln.packed = max(ln.packed, ln.picked)
        if rec.order.state is OrderState.CANCELLED:
            changed, new = compensation.parcel_packed(
                self.conn, self.out, self._put(), rec, ev.station, RETURNS_LOCATION
            )
            for task in changed:
                self.stock_tasks.setdefault(task.task_id, task)
            self.new_stock_tasks.extend(new)
            return Outcome.applied("order is cancelled: unpack and return the units to stock")
        self._move(rec, OrderState.PACKED, f"packed at {ev.station} by {ev.user}")
        return Outcome.applied()

    def label_printed(self, ev: LabelPrinted) -> Outcome:
        if ev.job in self.labels:
            return Outcome.applied(f"label job {ev.job} is already recorded; not applied again")
        row = {
            "job_id": ev.job,
            "order_id": ev.order,
            "tracking": ev.tracking,
            "carrier": ev.carrier,
            "state": "printed",
            "user": ev.user,
            "device_id": self.device_id,
            "seq": self.seq,
            "reprint_of": ev.reprint_of,
            "reprint_reason": ev.reprint_reason,
            "printed_at": self.now,
            "confirmed_at": None,
        }
        self.labels[ev.job] = {"state": "printed", "order_id": ev.order}
        self.label_inserts[ev.job] = row
        if ev.reprint_of and ev.reprint_of in self.labels:
            self._label_state(ev.reprint_of, "voided")
        rec = self.orders.get(ev.order)
        if rec is None:
            return Outcome.applied(f"order {ev.order} is not known to the hub")
        rec.tracking = ev.tracking
        if rec.order.state is OrderState.CANCELLED:
            return Outcome.applied("order is cancelled: void this label")
        return Outcome.applied()

    def _label_state(self, job: str, state: str, **extra: Any) -> None:
        self.labels[job]["state"] = state
        if job in self.label_inserts:
            self.label_inserts[job].update(state=state, **extra)
        else:
            self.label_updates.setdefault(job, {}).update(state=state, **extra)

    def label_confirmed(self, ev: LabelConfirmed) -> Outcome:
        note = ""
        if ev.job in self.labels:
            if self.labels[ev.job]["state"] != "confirmed":
                self._label_state(ev.job, "confirmed", confirmed_at=self.now)
        else:
            note = f"label job {ev.job} was confirmed before its print was recorded"
            self.labels[ev.job] = {"state": "confirmed", "order_id": ev.order}
            self.label_inserts[ev.job] = {
                "job_id": ev.job,
                "order_id": ev.order,
                "tracking": ev.tracking,
                "carrier": "",
                "state": "confirmed",
                "user": ev.user,
                "device_id": self.device_id,
                "seq": self.seq,
                "reprint_of": "",
                "reprint_reason": "",
                "printed_at": self.now,
                "confirmed_at": self.now,
            }
        rec = self.orders.get(ev.order)
        if rec is None:
            return Outcome.applied(note or f"order {ev.order} is not known to the hub")
        rec.tracking = ev.tracking
        if rec.order.state is OrderState.CANCELLED:
            return Outcome.applied("order is cancelled: take the parcel off the outbound flow")
        self._move(rec, OrderState.LABELLED, f"label {ev.tracking} scanned back")
        return Outcome.applied(note)

    # -- facts: returns ---------------------------------------------------------------------

    def return_received(self, ev: ReturnReceived) -> Outcome:
        rec = self.orders.get(ev.order) or self.orders.get(self.tracked.get(ev.order, ""))
        try:
            note = returns.receive(
                self.conn,
                self.out,
                self.stock,
                rec,
                ev,
                device_id=self.device_id,
                seq=self.seq,
                now=self.now,
            )
        except returns.ReturnRefused as exc:
            return Outcome.rejected(exc.reason)
        return Outcome.applied(note)

    # -- facts: people -----------------------------------------------------------------------

    def logged_in(self, ev: UserLoggedIn) -> Outcome:
        self.sessions[self.device_id] = (ev.user, ev.role)
        return Outcome.applied()

    def logged_out(self, ev: UserLoggedOut) -> Outcome:
        self.sessions[self.device_id] = None
        return Outcome.applied()

    # -- facts: stock counts -----------------------------------------------------------------

    def stock_counted(self, ev: StockCounted) -> Outcome:
        return counts.apply_count(self, ev)

    def count_acknowledged(self, ev: CountAcknowledged) -> Outcome:
        return counts.acknowledge(self, ev)

    # -- claims ------------------------------------------------------------------------------

    def task_started(self, ev: TaskStarted) -> Outcome:
        task = self.tasks.get(ev.task)
        refusal = task_claim_refusal(
            task_id=ev.task,
            known=task is not None,
            state=task.task.state if task else None,
            hub_version=task.task.version if task else 0,
            claim_version=ev.task_version,
            lease_device=task.lease_device if task else None,
            lease_expires_at=task.lease_expires_at if task else None,
            device_id=self.device_id,
            now=self.now,
        )
        if refusal is not None or task is None:
            return Outcome.refused(
                refusal or f"task {ev.task} is not known to the hub",
                task_id=ev.task,
                current_version=task.task.version if task else None,
            )
        previous = task.lease_device
        lease(task, self.device_id, self.now, self.settings.lease_s)
        self._task_to(task, TaskState.IN_PROGRESS)
        task.task.assigned_to = ev.user
        if previous and previous != self.device_id:
            self.out.push(
                previous,
                TaskCancelled(
                    task_id=task.task_id,
                    reason=f"device {self.device_id} took the task over (your lease ran out)",
                    task_version=task.task.version,
                ),
            )
        return Outcome.applied()

    def task_reassigned(self, ev: TaskReassigned) -> Outcome:
        task = self.tasks.get(ev.task)
        if task is None:
            return Outcome.refused(f"task {ev.task} is not known to the hub", task_id=ev.task)
        if task.task.state in (TaskState.DONE, TaskState.CANCELLED):
            return Outcome.refused(
                f"task {ev.task} is {task.task.state.value}; it cannot be reassigned",
                task_id=ev.task,
                current_version=task.task.version,
            )
        if ev.task_version < task.task.version:
            return Outcome.refused(
                f"task {ev.task} changed since it was seen (version {ev.task_version}, "
                f"the hub has {task.task.version})",
                task_id=ev.task,
                current_version=task.task.version,
            )
        target = self.conn.execute(
            select(SESSIONS.c.device_id).where(SESSIONS.c.user_id == ev.to_user).limit(1)
        ).scalar()
        previous = task.lease_device
        if task.task.state is TaskState.IN_PROGRESS:
            task.task.move_to(TaskState.ASSIGNED)
        else:
            task.bump()
        task.task.assigned_to = ev.to_user
        if previous and previous != target:
            self.out.push(
                previous,
                TaskCancelled(
                    task_id=task.task_id,
                    reason=f"reassigned to {ev.to_user} by {ev.user}",
                    task_version=task.task.version,
                ),
            )
        if target:
            lease(task, str(target), self.now, self.settings.lease_s)
            push_task(self.out, self.conn, task, str(target))
        else:
            task.lease_device, task.lease_expires_at = None, None
        return Outcome.applied("" if target else f"{ev.to_user} is not logged in on any device")

    def _order_claim(
        self,
        order_id: str,
        version: int,
        *,
        required: OrderState | None = None,
        forbidden: tuple[OrderState, ...] = (),
    ) -> tuple[OrderRecord | None, Outcome | None]:
        rec = self.orders.get(order_id)
        refusal = order_claim_refusal(
            order_id=order_id,
            order=rec.order if rec else None,
            claim_version=version,
            external_version=rec.external_version if rec else 0,
            required=required,
            forbidden=forbidden,
        )
        if refusal is not None:
            return rec, Outcome.refused(refusal, current_version=rec.order.version if rec else None)
        return rec, None

    def order_held(self, ev: OrderHeld) -> Outcome:
        rec, refused = self._order_claim(ev.order, ev.order_version, forbidden=(OrderState.HELD,))
        if refused is not None or rec is None:
            return refused or Outcome.refused(f"order {ev.order} is not known to the hub")
        rec.change_source = self.device_id
        rec.order.hold(ev.reason or f"held by {ev.user}")
        self.status_reason[rec.order_id] = f"held by {ev.user}: {ev.reason}"
        return Outcome.applied()

    def hold_released(self, ev: HoldReleased) -> Outcome:
        rec, refused = self._order_claim(ev.order, ev.order_version, required=OrderState.HELD)
        if refused is not None or rec is None:
            return refused or Outcome.refused(f"order {ev.order} is not known to the hub")
        rec.change_source = self.device_id
        rec.order.release()
        self.status_reason[rec.order_id] = f"released by {ev.user}"
        if rec.order.state is OrderState.PICKED:
            self.reached_picked.add(rec.order_id)
        return Outcome.applied()

    def short_approved(self, ev: ShortApproved) -> Outcome:
        rec, refused = self._order_claim(ev.order, ev.order_version, required=OrderState.SHORT)
        if refused is not None or rec is None:
            return refused or Outcome.refused(f"order {ev.order} is not known to the hub")
        if any(ln.open_to_pick > 0 for ln in rec.order.lines):
            return Outcome.refused(
                f"order {ev.order} still has units to pick; wait until its tasks are done",
                current_version=rec.order.version,
            )
        rec.change_source = self.device_id
        rec.order.transition(OrderState.PICKED, f"short approved by {ev.user}")
        self.status_reason[rec.order_id] = f"short approved by {ev.user}"
        self.reached_picked.add(rec.order_id)
        return Outcome.applied()

    def carrier_changed(self, ev: CarrierChanged) -> Outcome:
        rec, refused = self._order_claim(ev.order, ev.order_version)
        if refused is None and rec is not None:
            refusal = change_carrier(
                self.conn, rec, ev.carrier, ev.service, user=ev.user, reason=ev.reason, now=self.now
            )
            if refusal is None:
                rec.change_source = self.device_id
                self.status_reason[rec.order_id] = (
                    f"carrier {ev.carrier} {ev.service} chosen by {ev.user}: {ev.reason}"
                )
                return Outcome.applied()
            refused = Outcome.refused(refusal, current_version=rec.order.version)
        if rec is not None:  # the device goes back to the hub's choice
            self.out.push(self.device_id, OrderSnapshot(order=OrderModel.from_domain(rec.order)))
        return refused or Outcome.refused(f"order {ev.order} is not known to the hub")

    # -- writing -----------------------------------------------------------------------------

    def flush(self) -> None:
        """Write everything this batch changed; make status and push messages."""
        conn, now = self.conn, self.now
        changed_state = [
            rec
            for rec in self.orders.values()
            if rec.order.state != rec.loaded_header[0] or rec.order_id in self.status_reason
        ]
        save_orders(conn, self.orders.values(), now=now)
        save_tasks(conn, list(self.tasks.values()) + self.new_tasks, now=now)
        save_stock_tasks(conn, list(self.stock_tasks.values()) + self.new_stock_tasks, now=now)
        self.stock.flush(conn)
        refill_after(self)
        insert_rows(conn, LABELS, list(self.label_inserts.values()))
        for job, values in self.label_updates.items():
            conn.execute(update(LABELS).where(LABELS.c.job_id == job).values(**values))
        insert_rows(conn, SHORTAGES, self.shortages)
        insert_rows(conn, PACKS, self.packs)
        for device, session in self.sessions.items():
            conn.execute(delete(SESSIONS).where(SESSIONS.c.device_id == device))
            if session is not None:
                conn.execute(
                    insert(SESSIONS).values(
                        device_id=device, user_id=session[0], role=session[1], since=now
                    )
                )
        for rec in changed_state:
            self.out.order_status(
                OrderStatus(
                    order_id=rec.order_id,
                    state=rec.order.state,
                    version=rec.order.version,
                    reason=self.status_reason.get(rec.order_id, "")[:500],
                    device_id=self.device_id,
                )
            )
        for task in self.new_tasks:
            if task.lease_device:
                push_task(self.out, conn, task, task.lease_device)
        for stock_task in self.new_stock_tasks:
            if stock_task.lease_device:
                push_stock_task(self.out, stock_task, stock_task.lease_device)
        self._push_to_stations()

    def _push_to_stations(self) -> None:
        """Orders that became picked go to their pack station's devices."""
        picked = [
            self.orders[o]
            for o in sorted(self.reached_picked)
            if o in self.orders and self.orders[o].pack_station
        ]
        if not picked:
            return
        stations = sorted({rec.pack_station for rec in picked})
        devices: dict[str, list[str]] = {}
        for row in self.conn.execute(
            select(DEVICES.c.device_id, DEVICES.c.station)
            .where(DEVICES.c.station.in_(stations))
            .where(DEVICES.c.active.is_(True))
        ):
            devices.setdefault(row.station, []).append(row.device_id)
        for rec in picked:
            for device in sorted(devices.get(rec.pack_station, [])):
                self.out.push(device, OrderSnapshot(order=OrderModel.from_domain(rec.order)))


def cancelled_push(rec: OrderRecord, reason: str) -> OrderCancelled:
    """The push item telling a device that an order was cancelled."""
    return OrderCancelled(order_id=rec.order_id, reason=reason, order_version=rec.order.version)


def payload_json(payload: dict[str, Any]) -> str:
    """An event payload as stored in the inbox."""
    return compact_json(payload)


Handler = Callable[[BatchWork, Any], Outcome]

HANDLERS: dict[str, Handler] = {
    PickConfirmed.TYPE: BatchWork.pick_confirmed,
    PickUndone.TYPE: BatchWork.pick_undone,
    ShortReported.TYPE: BatchWork.pick_short,
    TaskCompleted.TYPE: BatchWork.task_completed,
    PackCompleted.TYPE: BatchWork.pack_completed,
    LabelPrinted.TYPE: BatchWork.label_printed,
    LabelConfirmed.TYPE: BatchWork.label_confirmed,
    ReturnReceived.TYPE: BatchWork.return_received,
    UserLoggedIn.TYPE: BatchWork.logged_in,
    UserLoggedOut.TYPE: BatchWork.logged_out,
    StockCounted.TYPE: BatchWork.stock_counted,
    CountAcknowledged.TYPE: BatchWork.count_acknowledged,
    TaskStarted.TYPE: BatchWork.task_started,
    TaskReassigned.TYPE: BatchWork.task_reassigned,
    OrderHeld.TYPE: BatchWork.order_held,
    HoldReleased.TYPE: BatchWork.hold_released,
    ShortApproved.TYPE: BatchWork.short_approved,
    CarrierChanged.TYPE: BatchWork.carrier_changed,
    StockMoved.TYPE: BatchWork.stock_moved,
    StockTaskClosed.TYPE: BatchWork.stock_task_closed,
}


def handled_types() -> frozenset[str]:
    """Event types the hub applies."""
    return frozenset(HANDLERS)
