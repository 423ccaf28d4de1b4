"""Moving stock on the device: refills (``replenish``) and put-aways (``putaway``).

The flow is the one the floor knows from picking: scan the source, scan each unit taken
(or type how many), scan the destination. Each trip from source to destination is one
:class:`~floor_app.domain.events.StockMoved`, recorded with the task's local progress and
the local stock in one unit of work, so a move made offline reaches the hub exactly once.

* A refill goes from a reserve location to the pick face the hub named, and nowhere else.
* A put-away takes units from a place that is not storage (a tote, a pack station, the
  returns desk, a parcel) to the suggested storage location or another one that is storage
  (pick face or reserve).
* A task that cannot be finished (the source is empty, the units are damaged or not there)
  is closed with the reason: one :class:`~floor_app.domain.events.StockTaskClosed`; the
  hub keeps what was moved and refills or counts from there.

What the device cannot know (how many units the source really holds, what other devices
took from it) the hub checks; a move it refuses comes back with its reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from floor_app.domain.codes import CodeKind, ScannedCode
from floor_app.domain.errors import DomainError, NotFound, QuantityError, Reason
from floor_app.domain.events import StockMoved, StockTaskClosed
from floor_app.domain.sku import Sku
from floor_app.domain.stockwork import STORAGE_KINDS, StockTask, StockTaskKind, StockTaskState
from floor_app.store import Store, UnitOfWork
from floor_app.store.outbox import OutboxRecord

from .errors import reports_store_failures

MOVE_KINDS = (StockTaskKind.REPLENISH, StockTaskKind.PUTAWAY)
#: meta key (+ the event's seq) of what a move changed in the local stock: "taken,added"
#: (the source never goes below 0, so what was taken may be less than the units moved)
MOVE_APPLIED_PREFIX = "stock_move_applied:"


@reports_store_failures
class MoveService:
    """The stock mover's use cases (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def open_moves(self) -> list[StockTask]:
        """Refills and put-aways on this device that are not done (urgent first)."""
        with self.store.unit_of_work() as uow:
            return uow.stock_tasks.open(*MOVE_KINDS)

    def task(self, task_id: str) -> StockTask:
        """Load a move task (read only)."""
        with self.store.unit_of_work() as uow:
            return _move_task(uow, task_id)

    def start(self, task_id: str, user: str) -> StockTask:
        """Start (or resume) ``task_id`` as ``user``."""
        with self.store.unit_of_work() as uow:
            task = _open(uow, task_id)
            if task.state is StockTaskState.ASSIGNED:
                task.move_to(StockTaskState.IN_PROGRESS)
            task.assigned_to = user
            uow.stock_tasks.save(task)
            uow.commit()
        return task

    # -- checks of each scan -----------------------------------------------------------------

    @staticmethod
    def source_refusal(task: StockTask, code: ScannedCode, raw: str) -> Reason | None:
        """Why the scan is not the task's source (None: it is)."""
        if task.from_location in (code.value, raw.strip()):
            return None
        return Reason(
            f"you scanned {code.value}: this task takes from {task.from_location}",
            "move.wrong_source",
            {"scanned": code.value, "source": task.from_location},
        )

    def item(self, task: StockTask, code: ScannedCode) -> Sku:
        """The SKU of a unit taken from the source; only the task's SKU is."""
        if code.kind is not CodeKind.PRODUCT:
            raise DomainError(
                f"{code.value} is a {code.kind.value} code, not an item",
                hint=f"scan the barcode on the {task.sku} you take",
                code="move.not_item",
                params={"code": code.value, "code_kind": code.kind.value, "sku": task.sku},
            )
        with self.store.unit_of_work() as uow:
            try:
                sku = uow.catalogue.sku_by_gtin(code.value)
            except NotFound:
                raise DomainError(
                    f"no SKU has the barcode {code.value.lstrip('0')}",
                    hint="leave it where it is and tell a supervisor",
                    code="move.unknown_item",
                    params={"code": code.value.lstrip("0")},
                ) from None
        if sku.sku != task.sku:
            raise DomainError(
                f"{sku.sku} is not the item of this task ({task.sku})",
                hint=f"leave {sku.sku} where it is; take only {task.sku}",
                code="move.other_sku",
                params={"scanned": sku.sku, "sku": task.sku},
            )
        return sku

    def sku(self, task: StockTask) -> Sku | None:
        """The task's SKU as this device's catalogue knows it."""
        with self.store.unit_of_work() as uow:
            try:
                return uow.catalogue.sku(task.sku)
            except NotFound:
                return None

    # -- recording ---------------------------------------------------------------------------

    def serial_tracked(self, sku: str) -> bool:
        """True when each unit of ``sku`` is moved with its serial number."""
        with self.store.unit_of_work() as uow:
            return uow.catalogue.tracking(sku)[1]

    def move(
        self,
        task_id: str,
        qty: int,
        to_location: str,
        user: str,
        serials: Sequence[str] = (),
    ) -> OutboxRecord:
        """``qty`` units were put at ``to_location``: record the move (one event; one per
        unit of a serial-tracked item, each with its ``serials`` number) and the local
        stock; the task is done when nothing is left to move. The last event."""
        if qty <= 0:
            raise QuantityError(
                f"a move needs a positive quantity, got {qty}",
                hint="scan the units you took",
                code="move.qty_not_positive",
                params={"qty": qty},
            )
        if serials and len(serials) != qty:
            raise QuantityError(
                f"{qty} units carried with {len(serials)} serial numbers",
                hint="scan each unit's serial number (AI 21)",
                code="move.serials_count",
                params={"qty": qty, "serials": len(serials)},
            )
        with self.store.unit_of_work() as uow:
            task = _open(uow, task_id)
            if qty > task.open_qty:
                raise QuantityError(
                    f"{qty} is more than the {task.open_qty} still to move on {task_id}",
                    hint=f"take {task.open_qty} and put the rest back",
                    code="move.more_than_open_take",
                    params={"qty": qty, "open": task.open_qty, "task": task_id},
                )
            kind = uow.catalogue.location_kind(to_location)
            refusal = _destination_refusal(task, to_location, kind)
            if refusal:
                raise DomainError.of(refusal, hint=_destination_hint(task))
            trips = [(1, s) for s in serials] if serials else [(qty, "")]
            for units, serial in trips:
                event = self._trip(uow, task, units, to_location, user, serial)
            task.confirm_move(qty)
            if task.state is StockTaskState.ASSIGNED:
                task.move_to(StockTaskState.IN_PROGRESS)
            task.assigned_to = user
            if task.open_qty == 0:
                task.finish(user)
            uow.stock_tasks.save(task)
            uow.commit()
        return event

    @staticmethod
    def _trip(
        uow: UnitOfWork, task: StockTask, qty: int, to_location: str, user: str, serial: str
    ) -> OutboxRecord:
        """One ``stock.moved`` and its local stock change (noted with it, for a refusal)."""
        event = uow.emit(
            StockMoved(
                task=task.task_id,
                sku=task.sku,
                from_location=task.from_location,
                to_location=to_location,
                qty=qty,
                reason=task.kind.value,
                user=user,
                lot=task.lot,
                serial=serial,
            )
        )
        taken = 0
        if uow.catalogue.location_kind(task.from_location) in STORAGE_KINDS:
            before = uow.catalogue.stock(task.from_location, task.sku)
            taken = before - uow.catalogue.adjust_stock(task.from_location, task.sku, -qty)
        uow.catalogue.adjust_stock(to_location, task.sku, qty)
        uow.meta.set(f"{MOVE_APPLIED_PREFIX}{event.seq}", f"{taken},{qty}")
        return event

    def close(self, task_id: str, reason: str, user: str) -> OutboxRecord:
        """End ``task_id`` with less than asked, saying why (one event)."""
        if not reason.strip():
            raise DomainError("closing a task needs a reason", code="move.close_reason")
        with self.store.unit_of_work() as uow:
            task = _open(uow, task_id)
            event = uow.emit(StockTaskClosed(task=task_id, reason=reason, user=user))
            task.finish(user)
            task.reason = reason
            uow.stock_tasks.save(task)
            uow.commit()
        return event


def _destination_refusal(task: StockTask, location: str, kind: str | None) -> Reason | None:
    """Why the units cannot be put at ``location`` of ``kind`` (None: they can)."""
    if location == task.from_location:
        return Reason(
            f"{location} is where the units come from: put them somewhere else",
            "move.from_source",
            {"location": location},
        )
    if task.kind is StockTaskKind.REPLENISH and location != task.to_location:
        return Reason(
            f"this refill goes to the pick face {task.to_location}, not {location}",
            "move.refill_face",
            {"face": task.to_location, "location": location},
        )
    if kind is None:
        return Reason(
            f"location {location} does not exist on this site",
            "location.unknown",
            {"location": location},
        )
    if kind not in STORAGE_KINDS:
        return Reason(
            f"{location} is a {kind} location: put the units in a storage location",
            "move.not_storage",
            {"location": location, "location_kind": kind},
        )
    return None


def _destination_hint(task: StockTask) -> str:
    if task.kind is StockTaskKind.REPLENISH:
        return f"take the units to {task.to_location} and scan its label"
    if task.to_location:
        return f"put them in {task.to_location} (or another storage location) and scan it"
    return "put them in a storage location and scan its label"


def _move_task(uow: UnitOfWork, task_id: str) -> StockTask:
    task = uow.stock_tasks.get(task_id)
    if task.kind not in MOVE_KINDS:
        raise DomainError(
            f"{task_id} is a {task.kind.value} task, not a move",
            code="move.not_move",
            params={"task": task_id},
        )
    return task


def _open(uow: UnitOfWork, task_id: str) -> StockTask:
    task = _move_task(uow, task_id)
    if task.state is StockTaskState.CANCELLED:
        raise DomainError(
            f"task {task_id} was cancelled by the hub",
            hint=task.reason or "take another task",
            code="move.cancelled",
            params={"task": task_id},
        )
    if task.state is StockTaskState.DONE:
        raise DomainError(
            f"task {task_id} is already done", code="task.already_done", params={"task": task_id}
        )
    return task
