"""Pick tasks, pick lines, batches, totes and shortages.

A :class:`PickTask` is the work one picker does in one tour: lines in route order, each
naming a location, a SKU, a quantity and the tote (position on the cart) it goes into.
The picker first scans the physical tote for each position (:meth:`PickTask.assign_tote`);
where the task fills more than one tote, puts are confirmed by scanning the tote
(:class:`PutConfirmation`). Picking counts up; a shortage records what could not be
picked and why.
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

#: The way a task goes when nothing goes wrong; facts about it move it along this.
TASK_PATH: tuple[TaskState, ...] = (
    TaskState.OPEN,
    TaskState.ASSIGNED,
    TaskState.IN_PROGRESS,
    TaskState.DONE,
)


class PutConfirmation(StrEnum):
    """Which puts a tote scan confirms when a task fills more than one tote (a site setting)."""

    EVERY_LINE = "every_line"
    """Each line's units are confirmed by scanning the tote they went into."""
    FIRST_PUT = "first_put"
    """Only the first put into each tote is confirmed by a scan."""


@dataclass(frozen=True, slots=True)
class Tote:
    """A tote on a picking cart; ``position`` is what the picker is told ("put in tote 3").

    ``tote_id`` is the physical tote's code (``T0001``), "" until the picker scans one for
    the position; ``destination`` is the order's pack station, where the hub named one.
    """

    tote_id: str
    position: int
    order_id: str | None = None
    destination: str = ""

    @property
    def is_scanned(self) -> bool:
        """True once a physical tote was scanned for this position."""
        return bool(self.tote_id)


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
    #: the tote a scan confirmed this line's units went into ("" until then)
    put_tote: str = ""
    #: a lot-tracked item: the lot held at the location and its expiry (ISO date or "")
    lot_tracked: bool = False
    lot: str = ""
    expiry: str = ""
    #: a serial-tracked item: every unit's serial number is scanned (GS1 AI 21)
    serial_tracked: bool = False

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
            raise QuantityError(
                f"quantity must be positive, got {qty}",
                code="qty.not_positive",
                params={"qty": qty},
            )
        if qty > self.open_qty:
            raise QuantityError(
                f"{qty} is more than the {self.open_qty} still open on this line",
                hint="put the extra back on the shelf",
                code="pick.more_than_open",
                params={"qty": qty, "open": self.open_qty},
            )
        self.picked += qty

    def undo(self, qty: int) -> None:
        """Take back ``qty`` units confirmed earlier (the picker's undo)."""
        if qty <= 0 or qty > self.picked:
            raise QuantityError(
                f"cannot undo {qty}: only {self.picked} picked on this line",
                code="pick.undo_too_many",
                params={"qty": qty, "picked": self.picked},
            )
        self.picked -= qty

    def report_short(self, qty: int, reason: ShortReason) -> None:
        """Record that ``qty`` of the open units cannot be picked, and why."""
        if qty <= 0 or qty > self.open_qty:
            raise QuantityError(
                f"short quantity must be 1..{self.open_qty}, got {qty}",
                code="pick.short_qty",
                params={"qty": qty, "open": self.open_qty},
            )
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
                f"pick task {self.task_id} is {self.state}; cannot become {target}",
                code="task.transition",
                params={
                    "task": self.task_id,
                    "task_state": self.state.value,
                    "to_task_state": target.value,
                },
            )
        self.state = target
        self.version += 1

    def advance(self, target: TaskState) -> None:
        """Move forward along :data:`TASK_PATH` to ``target`` through the states between (a
        fact about the task moves it too); a task at or past ``target``, or cancelled,
        stays."""
        if self.state not in TASK_PATH or target not in TASK_PATH:
            return
        here, goal = TASK_PATH.index(self.state), TASK_PATH.index(target)
        for step in TASK_PATH[here + 1 : goal + 1]:
            self.move_to(step)

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
        raise DomainError(
            f"pick task {self.task_id} has no line {line_id}",
            code="task.no_line",
            params={"task": self.task_id, "line": line_id},
        )

    def skip(self, line_id: str) -> None:
        """Move a line to the end of the route (come back to it later)."""
        line = self.line(line_id)
        if line.is_done:
            raise DomainError(
                f"line {line_id} is already done; nothing to skip",
                code="pick.skip_done",
                params={"line": line_id},
            )
        line.sequence = max(ln.sequence for ln in self.lines) + 1

    def tote_for(self, position: int) -> Tote | None:
        """The tote at cart ``position``, if one is assigned."""
        return next((t for t in self.totes if t.position == position), None)

    # -- totes and puts --------------------------------------------------------------------

    def totes_to_scan(self) -> list[Tote]:
        """The positions still waiting for a physical tote, in cart order (a task that
        names no totes has none)."""
        return sorted((t for t in self.totes if not t.is_scanned), key=lambda t: t.position)

    def assign_tote(self, position: int, code: str) -> Tote:
        """Put the physical tote ``code`` at cart ``position``; the tote as it is now."""
        tote = self.tote_for(position)
        if tote is None:
            raise DomainError(
                f"pick task {self.task_id} has no tote {position}",
                code="pick.no_tote_position",
                params={"task": self.task_id, "position": position},
            )
        other = next((t for t in self.totes if t.tote_id == code and t.position != position), None)
        if other is not None:
            raise DomainError(
                f"tote {code} is already tote {other.position} of this task",
                hint="take another empty tote",
                code="pick.tote_twice",
                params={"tote": code, "position": other.position},
            )
        placed = Tote(code, position, tote.order_id, tote.destination)
        self.totes = [placed if t.position == position else t for t in self.totes]
        return placed

    def release_tote(self, position: int) -> None:
        """The tote at ``position`` must be scanned again (the hub refused it): the puts
        confirmed into it are to be confirmed into the next one."""
        tote = self.tote_for(position)
        if tote is None or not tote.is_scanned:
            return
        self.totes = [
            Tote("", position, t.order_id, t.destination) if t.position == position else t
            for t in self.totes
        ]
        for line in self.lines:
            if line.tote_position == position:
                line.put_tote = ""

    @property
    def fills_several_totes(self) -> bool:
        """True when the lines go into more than one tote."""
        return len({ln.tote_position for ln in self.lines}) > 1

    def put_due(self, line: PickLine, mode: PutConfirmation) -> bool:
        """True when ``line``'s units are picked and a scan of their tote must confirm the
        put before the picker moves on."""
        if not self.totes or not self.fills_several_totes:
            return False
        if line.picked <= 0 or not line.is_done or line.put_tote:
            return False
        tote = self.tote_for(line.tote_position)
        if tote is None or not tote.is_scanned:
            return False  # its tote is scanned first
        if mode is PutConfirmation.FIRST_PUT:
            return not any(
                ln.put_tote for ln in self.lines if ln.tote_position == line.tote_position
            )
        return True

    def pending_put(self, mode: PutConfirmation) -> PickLine | None:
        """The first line, in route order, whose put waits for its tote scan."""
        return next((ln for ln in self.ordered_lines() if self.put_due(ln, mode)), None)

    def confirm_put(self, line_id: str, code: str) -> Tote:
        """A scan of tote ``code`` confirms the put of ``line_id``'s units; its tote."""
        line = self.line(line_id)
        tote = self.tote_for(line.tote_position)
        if tote is None or not tote.is_scanned:
            raise DomainError(
                f"tote {line.tote_position} of this task has no tote scanned yet",
                code="pick.tote_not_scanned",
                params={"position": line.tote_position},
            )
        if code != tote.tote_id:
            raise DomainError(
                f"wrong tote: {code} — this goes in tote {tote.position} ({tote.tote_id})",
                hint=f"put it in {tote.tote_id} and scan that tote",
                code="pick.wrong_tote",
                params={"tote": code, "position": tote.position, "expected": tote.tote_id},
            )
        line.put_tote = code
        return tote

    def ready_to_close(self, mode: PutConfirmation) -> bool:
        """True when every line is picked or short and every put due is confirmed."""
        return self.is_complete and self.pending_put(mode) is None

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
