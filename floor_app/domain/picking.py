"""Pick tasks, pick lines, batches, totes and shortages.

A :class:`PickTask` is the work one picker does in one tour: lines in route order, each
naming a location, a SKU, a quantity and the tote (position on the cart) it goes into.
Picking counts up; a shortage records what could not be picked and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .errors import DomainError, IllegalTransition, QuantityError


class ShortReason(StrEnum):
    """Why a picker could not pick the full quantity."""

    EMPTY = "empty"
    DAMAGED = "damaged"
    NOT_FOUND = "not_found"


class TaskState(StrEnum):
    """Where a pick task is."""

    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


TASK_TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    TaskState.OPEN: frozenset({TaskState.ASSIGNED, TaskState.CANCELLED}),
    TaskState.ASSIGNED: frozenset({TaskState.IN_PROGRESS, TaskState.OPEN, TaskState.CANCELLED}),
    TaskState.IN_PROGRESS: frozenset({TaskState.DONE, TaskState.ASSIGNED, TaskState.CANCELLED}),
    TaskState.DONE: frozenset(),
    TaskState.CANCELLED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Tote:
    """A tote on a picking cart; ``position`` is what the picker is told ("put in tote 3")."""

    tote_id: str
    position: int
    order_id: str | None = None


@dataclass(slots=True)
class PickLine:
    """One location visit: pick ``qty`` of ``sku`` from ``location`` into tote ``tote_position``."""

    line_id: str
    order_id: str
    order_line_no: int
    sku: str
    gtin: str
    location: str
    qty: int
    tote_position: int = 1
    sequence: int = 0
    picked: int = 0
    short: int = 0
    short_reason: ShortReason | None = None

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise QuantityError(
                f"pick line {self.line_id}: quantity must be positive, got {self.qty}"
            )

    @property
    def open_qty(self) -> int:
        """Units still to pick on this line."""
        return self.qty - self.picked - self.short

    @property
    def is_done(self) -> bool:
        """True when nothing remains open on this line."""
        return self.open_qty == 0

    def confirm(self, qty: int) -> None:
        """Count ``qty`` units as picked; never more than is open."""
        if qty <= 0:
            raise QuantityError(f"quantity must be positive, got {qty}")
        if qty > self.open_qty:
            raise QuantityError(
                f"{qty} is more than the {self.open_qty} still open on this line",
                hint="put the extra back on the shelf",
            )
        self.picked += qty

    def undo(self, qty: int) -> None:
        """Take back ``qty`` units confirmed earlier (the picker's undo)."""
        if qty <= 0 or qty > self.picked:
            raise QuantityError(f"cannot undo {qty}: only {self.picked} picked on this line")
        self.picked -= qty

    def report_short(self, qty: int, reason: ShortReason) -> None:
        """Record that ``qty`` of the open units cannot be picked, and why."""
        if qty <= 0 or qty > self.open_qty:
            raise QuantityError(f"short quantity must be 1..{self.open_qty}, got {qty}")
        self.short += qty
        self.short_reason = reason


@dataclass(slots=True)
class PickTask:
    """One picker's tour: lines in route order and the totes they go into."""

    task_id: str
    lines: list[PickLine]
    batch_id: str | None = None
    zone: str = ""
    state: TaskState = TaskState.OPEN
    assigned_to: str | None = None
    version: int = 1
    totes: list[Tote] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.lines:
            raise DomainError(f"pick task {self.task_id} has no lines")
        for i, line in enumerate(sorted(self.lines, key=lambda ln: ln.sequence)):
            line.sequence = i

    def move_to(self, target: TaskState) -> None:
        """Change state or raise :class:`IllegalTransition`."""
        if target not in TASK_TRANSITIONS[self.state]:
            raise IllegalTransition(
                f"pick task {self.task_id} is {self.state}; cannot become {target}"
            )
        self.state = target
        self.version += 1

    def ordered_lines(self) -> list[PickLine]:
        """Lines in the order they are walked."""
        return sorted(self.lines, key=lambda ln: ln.sequence)

    def next_line(self) -> PickLine | None:
        """The first line in route order with something open, or None when done."""
        for line in self.ordered_lines():
            if not line.is_done:
                return line
        return None

    def line(self, line_id: str) -> PickLine:
        """The line with ``line_id``."""
        for ln in self.lines:
            if ln.line_id == line_id:
                return ln
        raise DomainError(f"pick task {self.task_id} has no line {line_id}")

    def skip(self, line_id: str) -> None:
        """Move a line to the end of the route (come back to it later)."""
        line = self.line(line_id)
        if line.is_done:
            raise DomainError(f"line {line_id} is already done; nothing to skip")
        line.sequence = max(ln.sequence for ln in self.lines) + 1

    def tote_for(self, position: int) -> Tote | None:
        """The tote at cart ``position``, if one is assigned."""
        return next((t for t in self.totes if t.position == position), None)

    @property
    def is_complete(self) -> bool:
        """True when every line is picked or short."""
        return all(ln.is_done for ln in self.lines)

    @property
    def progress(self) -> tuple[int, int]:
        """(lines done, lines in all)."""
        return sum(1 for ln in self.lines if ln.is_done), len(self.lines)


@dataclass(frozen=True, slots=True)
class PickBatch:
    """Orders grouped to be picked in one tour onto one cart, each order in its own tote."""

    batch_id: str
    order_ids: tuple[str, ...]
    tote_positions: dict[str, int]

    def __post_init__(self) -> None:
        twice = sorted({o for o in self.order_ids if self.order_ids.count(o) > 1})
        if twice:
            raise DomainError(f"batch {self.batch_id}: order {twice[0]} is listed twice")
        if set(self.tote_positions) != set(self.order_ids):
            raise DomainError(f"batch {self.batch_id}: every order needs exactly one tote position")
        if len(set(self.tote_positions.values())) != len(self.order_ids):
            raise DomainError(f"batch {self.batch_id}: two orders share a tote position")


@dataclass(frozen=True, slots=True)
class Shortage:
    """A shortage report: what could not be picked where, by whom and why."""

    order_id: str
    sku: str
    location: str
    qty: int
    reason: ShortReason
    reported_by: str
    task_id: str = ""
    line_id: str = ""

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise QuantityError(f"short quantity must be positive, got {self.qty}")
