"""Stock work on the floor: replenishment, put-away, cycle counts and returns.

A :class:`StockTask` is one piece of stock work the hub gives a device: move units from a
source to a destination (``replenish``: reserve to pick face; ``putaway``: tote, station
or returns desk back to a storage location), or count a location (``count``, blind: the
expected quantity never reaches the device). Every unit that changes place on the floor is
one :class:`floor_app.domain.events.StockMoved` (or a count, or a received return) so the
hub applies it exactly once, in the transaction of its inbox row.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from .errors import DomainError, IllegalTransition, QuantityError, Reason
from .order import Order, OrderState


class StockTaskKind(StrEnum):
    """What a stock task asks for."""

    REPLENISH = "replenish"
    PUTAWAY = "putaway"
    COUNT = "count"


class StockTaskState(StrEnum):
    """Where a stock task is (the same life as a pick task)."""

    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


STOCK_TASK_TRANSITIONS: dict[StockTaskState, frozenset[StockTaskState]] = {
    StockTaskState.OPEN: frozenset({StockTaskState.ASSIGNED, StockTaskState.CANCELLED}),
    StockTaskState.ASSIGNED: frozenset(
        {
            StockTaskState.IN_PROGRESS,
            StockTaskState.OPEN,
            StockTaskState.DONE,
            StockTaskState.CANCELLED,
        }
    ),
    StockTaskState.IN_PROGRESS: frozenset(
        {StockTaskState.DONE, StockTaskState.ASSIGNED, StockTaskState.CANCELLED}
    ),
    StockTaskState.DONE: frozenset(),
    StockTaskState.CANCELLED: frozenset(),
}


class ReturnGrade(StrEnum):
    """How a returned item was judged at the returns desk."""

    RESALEABLE = "resaleable"
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"


class StockReason(StrEnum):
    """The cause of a stock change (ledger and exceptions)."""

    PICK = "pick"
    UNDO = "undo"
    SHORT = "short"
    REPLENISH = "replenish"
    PUTAWAY = "putaway"
    RETURN = "return"
    QUARANTINE = "quarantine"
    COUNT = "count"
    LOAD = "load"
    RECEIPT = "receipt"


@dataclass(slots=True)
class StockTask:
    """One piece of stock work.

    ``qty`` is what to move (0 for a count); ``moved`` counts units confirmed at the
    destination. ``from_location`` may be a place that is not a storage location (a tote,
    a station, the returns desk) for put-away. ``lot`` and ``expiry`` (ISO date or "") are
    those of the source stock and travel with the units. ``sku`` is "" for a count of
    everything at a location. ``attempt`` is 1 for a first count, 2 for a recount (which
    must be done by another user than ``not_user``).
    """

    task_id: str
    kind: StockTaskKind
    sku: str
    gtin: str
    from_location: str
    to_location: str
    qty: int = 0
    moved: int = 0
    lot: str = ""
    expiry: str = ""
    urgent: bool = False
    reason: str = ""
    state: StockTaskState = StockTaskState.ASSIGNED
    version: int = 1
    assigned_to: str | None = None
    attempt: int = 1
    not_user: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if self.qty < 0 or self.moved < 0:
            raise QuantityError(f"stock task {self.task_id}: quantities cannot be negative")
        if self.kind is not StockTaskKind.COUNT and self.qty <= 0:
            raise QuantityError(f"stock task {self.task_id}: a move needs a positive quantity")
        if self.kind is StockTaskKind.COUNT and not self.from_location:
            raise DomainError(f"count task {self.task_id} names no location")

    @classmethod
    def from_record(cls, record: Any) -> StockTask:
        """The task from any object with its fields as attributes (a table row); fields the
        object lacks keep their defaults."""
        values = {f.name: getattr(record, f.name) for f in fields(cls) if hasattr(record, f.name)}
        values["kind"] = StockTaskKind(values["kind"])
        values["state"] = StockTaskState(values.get("state", StockTaskState.ASSIGNED))
        return cls(**values)

    @property
    def open_qty(self) -> int:
        """Units still to move (0 for a count)."""
        return max(0, self.qty - self.moved)

    @property
    def is_open(self) -> bool:
        """True while the task still has work."""
        return self.state not in (StockTaskState.DONE, StockTaskState.CANCELLED)

    def move_to(self, target: StockTaskState) -> None:
        """Change state along :data:`STOCK_TASK_TRANSITIONS` (bumps ``version``)."""
        if target == self.state:
            return
        if target not in STOCK_TASK_TRANSITIONS[self.state]:
            raise IllegalTransition(
                f"stock task {self.task_id}: cannot go from {self.state} to {target}",
                code="task.stock_transition",
                params={
                    "task": self.task_id,
                    "task_state": self.state.value,
                    "to_task_state": target.value,
                },
            )
        self.state = target
        self.version += 1

    def confirm_move(self, qty: int) -> None:
        """Record ``qty`` units placed at the destination (never more than open)."""
        if qty <= 0:
            raise QuantityError(
                f"a move needs a positive quantity, got {qty}",
                code="qty.not_positive",
                params={"qty": qty},
            )
        if qty > self.open_qty:
            raise QuantityError(
                f"{qty} is more than the {self.open_qty} still to move on {self.task_id}",
                code="move.more_than_open",
                params={"qty": qty, "open": self.open_qty, "task": self.task_id},
            )
        self.moved += qty

    def finish(self, user: str) -> None:
        """``user`` ended the task (all moved, counted, or closed short)."""
        if self.state is StockTaskState.ASSIGNED:
            self.move_to(StockTaskState.IN_PROGRESS)
        self.move_to(StockTaskState.DONE)
        self.assigned_to = user

    def take_back(self, qty: int, why: str, *, reopen: bool = True) -> None:
        """The hub refused ``qty`` units recorded here as moved (0: it refused closing the
        task): they are to move again, and a task done by them is open again (not with
        ``reopen=False``: the task was closed afterwards). A cancelled task stays
        cancelled."""
        if qty < 0:
            raise QuantityError(f"cannot take back {qty} units")
        self.moved = max(0, self.moved - qty)
        if reopen and self.state is StockTaskState.DONE:
            self.state = StockTaskState.IN_PROGRESS
        self.reason = why[:500]
        self.version += 1


# -- returns ------------------------------------------------------------------------------

#: Order states whose packed units may come back (the parcel left packing).
RETURNABLE_STATES = frozenset({OrderState.PACKED, OrderState.LABELLED, OrderState.SHIPPED})
#: Location kinds resaleable units go back to.
STORAGE_KINDS = frozenset({"pick", "reserve"})
QUARANTINE_KIND = "quarantine"


def shipped_units(order: Order) -> dict[str, int]:
    """SKU -> units that left in the order's parcel (packed)."""
    out: dict[str, int] = {}
    for line in order.lines:
        if line.packed > 0:
            out[line.sku] = out.get(line.sku, 0) + line.packed
    return out


def parcel_refusal(order: Order) -> Reason | None:
    """Why nothing of ``order`` can come back (None: its parcel left packing)."""
    if order.state not in RETURNABLE_STATES:
        return Reason(
            f"order {order.order_id} is {order.state.value}: only a parcel that left packing "
            "can come back; give it to a supervisor",
            "return.not_returnable",
            {"order": order.order_id, "order_state": order.state.value},
        )
    return None


def return_refusal(order: Order, sku: str, qty: int, returned_before: int) -> Reason | None:
    """Why ``qty`` units of ``sku`` cannot be received back on ``order`` (None: they can),
    ``returned_before`` units of it having come back already."""
    if qty <= 0:
        return Reason(
            f"a return needs a positive quantity, got {qty}",
            "return.qty_not_positive",
            {"qty": qty},
        )
    refusal = parcel_refusal(order)
    if refusal:
        return refusal
    shipped = shipped_units(order).get(sku, 0)
    if shipped <= 0:
        return Reason(
            f"{sku} was not shipped on order {order.order_id}: set the item aside for a supervisor",
            "return.not_shipped",
            {"sku": sku, "order": order.order_id},
        )
    if returned_before + qty > shipped:
        return Reason(
            f"{shipped} x {sku} were shipped on order {order.order_id} and {returned_before} "
            f"came back already: {qty} more is more than was sent",
            "return.more_than_shipped",
            {
                "shipped": shipped,
                "sku": sku,
                "order": order.order_id,
                "returned": returned_before,
                "qty": qty,
            },
        )
    return None


def place_refusal(grade: ReturnGrade, location: str, kind: str | None) -> Reason | None:
    """Why a unit of ``grade`` cannot go to ``location`` of ``kind`` (None when the location
    does not exist); None when it can."""
    if kind is None:
        return Reason(
            f"location {location} does not exist on this site",
            "location.unknown",
            {"location": location},
        )
    if grade is ReturnGrade.RESALEABLE and kind not in STORAGE_KINDS:
        return Reason(
            f"{location} is a {kind} location: resaleable units go to a storage location",
            "return.not_storage",
            {"location": location, "location_kind": kind},
        )
    if grade is not ReturnGrade.RESALEABLE and kind != QUARANTINE_KIND:
        return Reason(
            f"{location} is not a quarantine location: {grade.value} units go to quarantine",
            "return.not_quarantine",
            {"location": location, "grade": grade.value},
        )
    return None
