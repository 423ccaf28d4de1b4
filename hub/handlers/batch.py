"""What the handlers of one received batch share: :class:`Batch`, and :class:`Outcome`.

The batch loads what its events touch up front (orders, then pick tasks, then stock tasks,
locked in that order), the handlers change those objects in sequence order, and
:meth:`Batch.save` writes each table once at the end (decision 0255): no handler reads or
writes per event what the batch holds. Each aggregate's handlers (:class:`Handlers`) keep
their own pending rows and write them in :meth:`Handlers.flush`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection, select

from floor_app.domain.errors import Param, Reason
from floor_app.domain.order import OrderState
from sync.protocol import EventEnvelope, OrderModel, OrderSnapshot, OrderStatus

from ..compensation import CANCELLED, SURPLUS, PutAways
from ..counts import CountSettings
from ..intake import IntakeLimits
from ..leases import push_task
from ..lots import lots_of_orders, traced_of
from ..outbound import Outbound
from ..repositories import OrderRecord, TaskRecord, load_orders, load_tasks, save_orders, save_tasks
from ..stock import Cause, StockChanges
from ..stock_tasks import StockTaskRecord, load_stock_tasks
from ..stock_tasks import push as push_stock_task
from ..stock_tasks import save as save_stock_tasks
from ..tables import DeviceRow, table_of

DEVICES = table_of(DeviceRow)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What applying one event did: ``applied``, ``refused`` (a claim) or ``rejected``; for
    the last two, ``note`` is the reason in English and ``code`` and ``params`` say it for
    the device's catalogue (:class:`floor_app.domain.errors.Reason`)."""

    kind: str
    note: str = ""
    task_id: str | None = None
    current_version: int | None = None
    code: str = ""
    params: Mapping[str, Param] = field(default_factory=dict)

    @staticmethod
    def applied(note: str = "") -> Outcome:
        return Outcome("applied", note)

    @staticmethod
    def refused(
        reason: str | Reason,
        *,
        task_id: str | None = None,
        current_version: int | None = None,
        code: str = "",
        params: Mapping[str, Param] | None = None,
    ) -> Outcome:
        why = _reason(reason, code, params)
        return Outcome("refused", why.text, task_id, current_version, why.code, why.params)

    @staticmethod
    def rejected(
        reason: str | Reason, *, code: str = "", params: Mapping[str, Param] | None = None
    ) -> Outcome:
        why = _reason(reason, code, params)
        return Outcome("rejected", why.text, code=why.code, params=why.params)


def _reason(reason: str | Reason, code: str, params: Mapping[str, Param] | None) -> Reason:
    if isinstance(reason, Reason):
        return reason
    return Reason(reason, code, dict(params or {}))


@dataclass(frozen=True, slots=True)
class HandlerSettings:
    """Knobs of event apply."""

    #: Lease length given or renewed by a device's activity on a task (seconds).
    lease_s: float = 30 * 60.0
    #: Reallocate short units from other locations when stock allows.
    reallocate_shorts: bool = True
    #: Count tolerance, ABC frequencies, counts after shortages (:mod:`hub.counts`).
    counts: CountSettings = field(default_factory=CountSettings)
    #: The most one order may ask for at intake (:mod:`hub.intake`).
    intake: IntakeLimits = field(default_factory=IntakeLimits)
    #: Where a closed receipt's good units go first (:mod:`hub.receiving.putaway`).
    putaway: str = "pick_face"


@dataclass
class Batch:
    """One batch's working set: the device, the clock, the loaded orders and tasks, the
    stock changes, new tasks and the messages going out."""

    conn: Connection
    device_id: str
    now: float
    out: Outbound
    settings: HandlerSettings = field(default_factory=HandlerSettings)
    #: the sequence number of the event being applied
    seq: int = 0
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    stock_tasks: dict[str, StockTaskRecord] = field(default_factory=dict)
    new_tasks: list[TaskRecord] = field(default_factory=list)
    new_stock_tasks: list[StockTaskRecord] = field(default_factory=list)
    stock: StockChanges = field(default_factory=StockChanges)
    #: order id -> the reason published with its status
    status_reason: dict[str, str] = field(default_factory=dict)
    #: orders that became picked: they go to their pack station's devices
    reached_picked: set[str] = field(default_factory=set)
    putaways: PutAways | None = None

    def load(self, order_ids: set[str], task_ids: set[str]) -> None:
        """Lock and load the orders, then the tasks (pick tasks, else stock tasks)."""
        self.orders = load_orders(self.conn, order_ids, lock=True)
        self.tasks = load_tasks(self.conn, task_ids, lock=True)
        stock_task_ids = task_ids - set(self.tasks)
        if stock_task_ids:
            self.stock_tasks = load_stock_tasks(self.conn, stock_task_ids, lock=True)

    def begin(self, env: EventEnvelope) -> None:
        """The event ``env`` is applied next: its stock changes are written with it."""
        self.seq = env.seq
        self.stock.now = self.now
        self.stock.cause = Cause(
            env.type,
            self.device_id,
            env.seq,
            str(env.payload.get("task") or env.order_id or ""),
            str(env.payload.get("user") or ""),
        )

    # -- what several aggregates do -----------------------------------------------------

    def move_order(self, rec: OrderRecord, target: OrderState, reason: str) -> None:
        """A fact moves the order forward to ``target`` (:meth:`Order.advance`)."""
        rec.change_source = self.device_id
        entered = rec.order.advance(target, reason)
        if entered:
            self.status_reason[rec.order_id] = reason
        if OrderState.PICKED in entered:
            self.reached_picked.add(rec.order_id)

    def put_aways(self) -> PutAways:
        """The put-away tasks this batch creates (:mod:`hub.compensation`)."""
        if self.putaways is None:
            self.putaways = PutAways(self.conn)
        return self.putaways

    def put_back(
        self, order_id: str, sku: str, qty: int, from_place: str, to: str, reason: str
    ) -> None:
        """Compensating work: a put-away task for ``qty`` of ``sku`` from ``from_place``
        back to ``to`` (origin ``cancelled`` or ``surplus``)."""
        origin = CANCELLED if "cancelled" in reason else SURPLUS
        made = self.put_aways().add(
            order_id, sku, qty, from_place, to, origin=origin, reason=reason
        )
        if made is not None:
            self.new_stock_tasks.append(made)

    def renew(self, task: TaskRecord | None) -> None:
        """The device's activity on ``task`` renews its lease."""
        if task is not None and task.lease_device == self.device_id:
            task.lease_expires_at = self.now + self.settings.lease_s

    # -- writing ------------------------------------------------------------------------

    def save(self) -> list[OrderRecord]:
        """Write the orders, tasks, stock tasks and stock; the orders with a status to
        publish (their state changed, or a handler gave a reason)."""
        conn, now = self.conn, self.now
        changed = [
            rec
            for rec in self.orders.values()
            if rec.order.state != rec.loaded_header[0] or rec.order_id in self.status_reason
        ]
        save_orders(conn, self.orders.values(), now=now)
        save_tasks(conn, list(self.tasks.values()) + self.new_tasks, now=now)
        save_stock_tasks(conn, list(self.stock_tasks.values()) + self.new_stock_tasks, now=now)
        self.stock.flush(conn)
        return changed

    def publish(self, changed: list[OrderRecord]) -> None:
        """The statuses of ``changed`` orders; new tasks pushed to their devices."""
        lots = lots_of_orders(self.conn, [rec.order_id for rec in changed])
        for rec in changed:
            self.out.order_status(
                OrderStatus(
                    order_id=rec.order_id,
                    state=rec.order.state,
                    version=rec.order.version,
                    reason=self.status_reason.get(rec.order_id, "")[:500],
                    device_id=self.device_id,
                    lots=lots.get(rec.order_id, []),
                )
            )
        for task in self.new_tasks:
            if task.lease_device:
                push_task(self.out, self.conn, task, task.lease_device)
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
        traced = traced_of(self.conn, [rec.order for rec in picked])
        for rec in picked:
            order = replace(rec.order, traced=traced.get(rec.order_id, []))
            for device in sorted(devices.get(rec.pack_station, [])):
                self.out.push(device, OrderSnapshot(order=OrderModel.from_domain(order)))


class Handlers:
    """The handlers of one aggregate's events, for one batch."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch

    def flush(self) -> None:
        """Write what the handlers gathered in this batch (after :meth:`Batch.save`)."""
