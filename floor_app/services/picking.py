"""Picking use cases: start a task, scan its totes, confirm picks and puts, undo, report
shorts, skip, complete.

A task that names totes is picked into physical totes the picker scans first (or the cart
they stand on): each must be one of the site's totes and free
(:class:`~floor_app.domain.totes.ToteBusy` names the order a busy one still holds). Where
the task fills more than one tote, puts are confirmed by a scan of the tote, as the site's
``put_confirmation`` says. Completing the task says where each tote goes
(:class:`~floor_app.domain.totes.ToteDrop`).

Each call is one unit of work: the task, the order's local copy, the totes and the outbox
events are committed together, or nothing is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from floor_app.domain.codes import CodeKind, ScannedCode, classify
from floor_app.domain.errors import DomainError, NotFound
from floor_app.domain.events import (
    PickConfirmed,
    PickUndone,
    ShortReported,
    TaskCompleted,
    TaskStarted,
    ToteAssigned,
    TotePut,
)
from floor_app.domain.lots import LotRule, PickedLot, check_pick_lot, check_pick_serial
from floor_app.domain.order import OrderState
from floor_app.domain.picking import (
    PickLine,
    PickTask,
    PutConfirmation,
    Shortage,
    ShortReason,
    TaskState,
    Tote,
)
from floor_app.domain.totes import SiteTote, ToteDrop, ToteState, drops_of
from floor_app.store import Store, UnitOfWork, outbox
from floor_app.store.outbox import OutboxRecord

from .errors import reports_store_failures
from .pick_writes import PickWrites, StaleTask


@dataclass(frozen=True, slots=True)
class PickResult:
    """What a confirmed action left behind: the task as it is now and the event recorded
    (for a completed task, ``drops`` says where each of its totes goes)."""

    task: PickTask
    event: OutboxRecord
    drops: tuple[ToteDrop, ...] = ()


@dataclass(frozen=True, slots=True)
class TotesScanned:
    """Totes scanned at the start of a task: the task as it is now, the positions given a
    tote by this scan and the events recorded."""

    task: PickTask
    totes: tuple[Tote, ...]
    events: tuple[OutboxRecord, ...]


@reports_store_failures
class PickingService:
    """The picker's use cases (``put_confirmation`` and ``staging``: the site's settings)."""

    def __init__(
        self,
        store: Store,
        *,
        put_confirmation: PutConfirmation = PutConfirmation.EVERY_LINE,
        staging: str = "STAGE-01",
        lot_rule: LotRule = LotRule.EXACT,
    ) -> None:
        self.store = store
        self.put_confirmation = put_confirmation
        self.staging = staging
        self.lot_rule = lot_rule

    def task(self, task_id: str) -> PickTask:
        """Load a task (read only)."""
        with self.store.unit_of_work() as uow:
            return uow.tasks.get(task_id)

    def open_tasks(self, user: str | None = None) -> list[PickTask]:
        """Tasks assigned to this device (or ``user``) that are not done, in id order."""
        with self.store.unit_of_work() as uow:
            ids = uow.tasks.ids(TaskState.ASSIGNED, TaskState.IN_PROGRESS)
            tasks = [uow.tasks.get(i) for i in ids]
        return [t for t in tasks if user is None or t.assigned_to in (None, user)]

    def start(self, task_id: str, user: str) -> PickResult:
        """Start (or resume) a task as ``user``."""
        with self.store.unit_of_work() as uow:
            task = uow.tasks.get(task_id)
            if task.state is TaskState.CANCELLED:
                raise DomainError(
                    f"task {task_id} was cancelled",
                    hint="pick another task",
                    code="task.cancelled",
                    params={"task": task_id},
                )
            if task.state is TaskState.DONE:
                raise DomainError(
                    f"task {task_id} is already done",
                    code="task.already_done",
                    params={"task": task_id},
                )
            if task.state is TaskState.ASSIGNED:
                task.move_to(TaskState.IN_PROGRESS)
            task.assigned_to = user
            uow.tasks.save(task)
            event = uow.emit(TaskStarted(task=task_id, user=user, task_version=task.version))
            uow.commit()
        return PickResult(task, event)

    def confirm(
        self,
        task_id: str,
        line_id: str,
        qty: int,
        user: str,
        *,
        task: PickTask | None = None,
        lot: PickedLot | None = None,
        serial: str = "",
    ) -> PickResult:
        """Confirm ``qty`` units of a line picked into its tote (of lot ``lot``: a line of a
        lot-tracked item needs it, checked by :func:`~floor_app.domain.lots.check_pick_lot`;
        one unit with its ``serial`` for a serial-tracked item, see :meth:`serial_of_scan`).

        ``task`` is the caller's copy of the task (a screen keeps it between scans): the
        hot path then reads only the task's state and writes with targeted, guarded
        UPDATEs (see :mod:`floor_app.services.pick_writes`). A stale copy is reloaded
        once. The state change and its outbox event commit together, or nothing does.
        """
        return self._count(task_id, line_id, qty, user, task, undo=False, lot=lot, serial=serial)

    def lot_of_scan(
        self, line: PickLine, code: ScannedCode, today: dt.date | None = None
    ) -> PickedLot:
        """The lot a scan of ``line``'s item picks (its GS1 lot and expiry, AI 10 and 17);
        raises :class:`DomainError` saying why it may not be picked (no lot, the wrong lot,
        an expired lot)."""
        return check_pick_lot(
            line, code.batch, code.expiry, today or dt.date.today(), self.lot_rule
        )

    def serial_of_scan(self, line: PickLine, code: ScannedCode) -> str:
        """The serial number a scan of ``line``'s item picks (GS1 AI 21; "" when the item is
        not serial-tracked); raises :class:`DomainError` when the scan has none or that
        unit was already picked here."""
        if not line.serial_tracked:
            return ""
        picked = False
        if code.serial:
            with self.store.read() as session:
                picked = outbox.serial_picked(session, line.sku, code.serial)
        return check_pick_serial(line, code.serial, picked)

    def undo(
        self,
        task_id: str,
        line_id: str,
        qty: int,
        user: str,
        *,
        task: PickTask | None = None,
        lot: PickedLot | None = None,
        serial: str = "",
    ) -> PickResult:
        """Take back units confirmed earlier (they go back on the shelf), of the lot and
        serial number they were picked as."""
        return self._count(task_id, line_id, qty, user, task, undo=True, lot=lot, serial=serial)

    def _count(
        self,
        task_id: str,
        line_id: str,
        qty: int,
        user: str,
        cached: PickTask | None,
        *,
        undo: bool,
        lot: PickedLot | None = None,
        serial: str = "",
    ) -> PickResult:
        for attempt in (1, 2):
            with self.store.unit_of_work() as uow:
                writes = PickWrites(uow.session)
                if cached is None or attempt == 2:
                    task = self._active(uow, task_id)
                else:
                    task = cached
                    if writes.task_state(task_id) != TaskState.IN_PROGRESS.value:
                        task = self._active(uow, task_id)  # raises with the reason
                line = task.line(line_id)
                if not undo:
                    self._ready_to_pick(task, line)
                    if lot is None:  # a lot-tracked line: the scan's lot is missing
                        check_pick_lot(line, None, None, dt.date.today())
                # a serial-tracked line: one unit, with its serial
                check_pick_serial(line, serial if qty == 1 else None, picked=False)
                before = (line.picked, line.short)
                (line.undo if undo else line.confirm)(qty)
                delta = -qty if undo else qty
                try:
                    writes.count_line(task_id, line_id, before, line.picked)
                    writes.order_picked(line.order_id, line.order_line_no, delta)
                    writes.adjust_stock(line.location, line.sku, -delta)
                    placed = task.tote_for(line.tote_position)
                    event = uow.emit(
                        _count_event(
                            task_id,
                            line,
                            qty,
                            user,
                            undo=undo,
                            tote=placed.tote_id if placed else "",
                            lot=lot,
                            serial=serial,
                        )
                    )
                    uow.commit()
                except StaleTask:
                    line.picked, line.short = before
                    continue  # the caller's copy was stale: reload and try once more
                except BaseException:
                    line.picked, line.short = before
                    raise
            return PickResult(task, event)
        raise DomainError(  # pragma: no cover - a freshly loaded task is not stale
            f"task {task_id} keeps changing under this device",
            hint="open it again",
            code="task.keeps_changing",
            params={"task": task_id},
        )

    def report_short(
        self, task_id: str, line_id: str, qty: int, reason: ShortReason, user: str
    ) -> PickResult:
        """Report ``qty`` units of a line as not pickable, with a reason."""
        with self.store.unit_of_work() as uow:
            task = self._active(uow, task_id)
            line = task.line(line_id)
            line.report_short(qty, reason)
            uow.tasks.save_line(task_id, line)
            uow.tasks.add_shortage(
                Shortage(
                    line.order_id, line.sku, line.location, qty, reason, user, task_id, line_id
                )
            )
            order = uow.orders.get(line.order_id)
            order.line(line.order_line_no).short += qty
            if order.state is OrderState.ALLOCATED:
                order.transition(OrderState.PICKING)
            if order.state is OrderState.PICKING:
                order.transition(OrderState.SHORT, f"{qty} x {line.sku} {reason}")
            uow.orders.save(order)
            event = uow.emit(
                ShortReported(
                    task=task_id,
                    line=line_id,
                    order=line.order_id,
                    sku=line.sku,
                    location=line.location,
                    qty=qty,
                    reason=reason.value,
                    user=user,
                )
            )
            uow.commit()
        return PickResult(task, event)

    def skip(self, task_id: str, line_id: str) -> PickTask:
        """Move a line to the end of the route (no event: it changes nothing physical)."""
        with self.store.unit_of_work() as uow:
            task = self._active(uow, task_id)
            task.skip(line_id)
            uow.tasks.save(task)
            uow.commit()
        return task

    def complete(self, task_id: str, user: str) -> PickResult:
        """Close a task whose lines are all picked or short and whose puts are confirmed;
        each tote then holds its order on the way to its destination (or is empty)."""
        with self.store.unit_of_work() as uow:
            task = self._active(uow, task_id)
            if not task.is_complete:
                done, total = task.progress
                raise DomainError(
                    f"task {task_id} has {total - done} open lines",
                    hint="pick or short them",
                    code="task.open_lines",
                    params={"task": task_id, "open": total - done},
                )
            pending = task.pending_put(self.put_confirmation)
            if pending is not None:
                raise self._put_first(task, pending)
            task.move_to(TaskState.DONE)
            uow.tasks.save(task)
            drops = drops_of(task, lambda o: self._order_state(uow, o), self.staging)
            for drop in drops:
                site_tote = uow.totes.get(drop.tote) if drop.tote else None
                if site_tote is None or site_tote.task_id != task_id:
                    continue  # not this task's any more (the hub refused it)
                if drop.units:
                    site_tote.hold(drop.destination)
                else:
                    site_tote.release()
                uow.totes.save(site_tote)
            event = uow.emit(TaskCompleted(task=task_id, user=user))
            uow.commit()
        return PickResult(task, event, tuple(drops))

    # -- totes -------------------------------------------------------------------------------

    def assign_totes(self, task_id: str, scanned: str, user: str) -> TotesScanned:
        """A tote (or a cart of totes) scanned at the start of a task: the next position
        waiting for a tote gets it (a cart's totes go to the positions in cart order).

        Refused when the code is not one of the site's totes or carts (once this device
        knows them), when a tote still holds an order not packed yet (:class:`ToteBusy`),
        or is already on this task. Each tote placed is a ``tote.assigned`` claim.
        """
        code = classify(scanned)
        if code.kind not in (CodeKind.TOTE, CodeKind.CART):
            raise DomainError(
                f"{code.value} is a {code.kind.value} code, not a tote or a cart",
                hint="scan an empty tote (T…) or a cart (CART-…)",
                code="pick.not_tote_or_cart",
                params={"code": code.value, "kind": code.kind.value},
            )
        with self.store.unit_of_work() as uow:
            task = self._active(uow, task_id)
            waiting = task.totes_to_scan()
            if not waiting:
                raise DomainError(
                    f"every tote of task {task_id} is scanned already",
                    code="pick.totes_done",
                    params={"task": task_id},
                )
            if code.kind is CodeKind.TOTE:
                pairs = [(waiting[0], self._site_tote(uow, code.value))]
            else:
                on_cart = uow.totes.on_cart(code.value)
                if not on_cart:
                    raise NotFound(
                        f"{code.value} is not one of the site's carts",
                        code="pick.unknown_cart",
                        params={"cart": code.value},
                    )
                if len(on_cart) < len(waiting):
                    raise DomainError(
                        f"cart {code.value} carries {len(on_cart)} totes; "
                        f"this task needs {len(waiting)}",
                        hint="scan the totes one by one",
                        code="pick.cart_too_small",
                        params={"cart": code.value, "has": len(on_cart), "needs": len(waiting)},
                    )
                pairs = list(zip(waiting, on_cart, strict=False))
            placed: list[Tote] = []
            events: list[OutboxRecord] = []
            for position, site_tote in pairs:
                order_id = position.order_id or ""
                placed.append(task.assign_tote(position.position, site_tote.code))
                held_state = self._order_state(uow, site_tote.order_id)
                site_tote.check_free_for(order_id, task_id, held_state)
                site_tote.fill(order_id, task_id)
                uow.totes.save(site_tote)
                events.append(
                    uow.emit(
                        ToteAssigned(
                            task=task_id,
                            tote=site_tote.code,
                            position=position.position,
                            order=order_id,
                            user=user,
                        )
                    )
                )
            uow.tasks.save_totes(task)
            uow.commit()
        return TotesScanned(task, tuple(placed), tuple(events))

    def confirm_put(self, task_id: str, line_id: str, scanned: str, user: str) -> PickResult:
        """A scan of the tote confirms that a line's picked units went into it."""
        code = classify(scanned)
        if code.kind is not CodeKind.TOTE:
            raise DomainError(
                f"{code.value} is a {code.kind.value} code, not a tote",
                hint="scan the tote you put the items in",
                code="pick.not_tote",
                params={"code": code.value, "kind": code.kind.value},
            )
        with self.store.unit_of_work() as uow:
            task = self._active(uow, task_id)
            line = task.line(line_id)
            if not task.put_due(line, self.put_confirmation):
                raise DomainError(
                    f"no put of line {line_id} waits for a tote scan",
                    code="pick.no_put_due",
                    params={"line": line_id},
                )
            tote = task.confirm_put(line_id, code.value)
            uow.tasks.save_line(task_id, line)
            event = uow.emit(
                TotePut(
                    task=task_id,
                    line=line_id,
                    tote=tote.tote_id,
                    order=line.order_id,
                    qty=line.picked,
                    user=user,
                )
            )
            uow.commit()
        return PickResult(task, event)

    def put_due(self, task: PickTask) -> PickLine | None:
        """The line of ``task`` whose put waits for a tote scan, under the site's setting."""
        return task.pending_put(self.put_confirmation)

    def free_totes(self, limit: int = 3, *, every: int = 1, offset: int = 0) -> list[str]:
        """Up to ``limit`` free loose totes this device knows, by code; with ``every``, only
        those whose number leaves ``offset`` divided by it (a picker's own share)."""
        with self.store.unit_of_work() as uow:
            free = uow.totes.in_state(ToteState.FREE, limit=100_000, loose=True)
        share = [t.code for t in free if int(t.code[1:]) % every == offset % every]
        return share[:limit]

    def free_cart(self, size: int) -> str | None:
        """A cart whose first ``size`` totes are all free, if this device knows one."""
        with self.store.unit_of_work() as uow:
            for cart, totes in uow.totes.carts().items():
                if len(totes) >= size and all(t.state is ToteState.FREE for t in totes[:size]):
                    return cart
        return None

    def tote_refused(
        self, task_id: str, position: int, tote: str, holder: str | None = None
    ) -> bool:
        """The hub refused tote ``tote`` at ``position`` of ``task_id``: the position waits
        for another tote (and its puts for that tote); with ``holder``, the order the hub
        says the tote still holds, the tote is noted as holding it (not offered as empty
        until the hub says it is free). False when nothing was to change."""
        with self.store.unit_of_work() as uow:
            try:
                task = uow.tasks.get(task_id)
            except NotFound:
                return False
            placed = task.tote_for(position)
            if placed is None or placed.tote_id != tote:
                return False
            task.release_tote(position)
            uow.tasks.save_totes(task)
            for line in task.lines:
                if line.tote_position == position:
                    uow.tasks.save_line(task_id, line)
            site_tote = uow.totes.get(tote)
            if site_tote is not None and site_tote.task_id == task_id:
                site_tote.release()
                if holder:  # busy with another picker's order this device had not heard of
                    site_tote.fill(holder, "")
                    site_tote.hold("")
                uow.totes.save(site_tote)
            uow.commit()
        return True

    def _site_tote(self, uow: UnitOfWork, code: str) -> SiteTote:
        tote = uow.totes.get(code)
        if tote is not None:
            return tote
        if uow.totes.count():
            raise NotFound(
                f"{code} is not one of the site's totes",
                hint="take a tote of this site's stack",
                code="pick.unknown_tote",
                params={"tote": code},
            )
        return SiteTote(code)  # no tote list heard of yet: the hub checks the code

    @staticmethod
    def _order_state(uow: UnitOfWork, order_id: str | None) -> OrderState | None:
        if not order_id or not uow.orders.exists(order_id):
            return None
        return uow.orders.get(order_id).state

    def _ready_to_pick(self, task: PickTask, line: PickLine) -> None:
        """Refuse a pick while the task's totes are not all scanned, or another line's put
        waits for its tote scan."""
        if task.totes_to_scan():
            raise DomainError(
                f"task {task.task_id} has totes still to scan",
                hint="scan an empty tote for each position first",
                code="pick.totes_to_scan",
                params={"task": task.task_id},
            )
        pending = task.pending_put(self.put_confirmation)
        if pending is not None and pending.line_id != line.line_id:
            raise self._put_first(task, pending)

    @staticmethod
    def _put_first(task: PickTask, line: PickLine) -> DomainError:
        tote = task.tote_for(line.tote_position)
        code = tote.tote_id if tote else "?"
        return DomainError(
            f"the put of {line.sku} into tote {line.tote_position} ({code}) is not confirmed",
            hint=f"scan tote {code} first",
            code="pick.put_first",
            params={"sku": line.sku, "position": line.tote_position, "tote": code},
        )

    @staticmethod
    def _active(uow: UnitOfWork, task_id: str) -> PickTask:
        task = uow.tasks.get(task_id)
        if task.state is TaskState.CANCELLED:
            raise DomainError(
                f"task {task_id} was cancelled by the hub",
                hint="take the picked goods to the returns area",
                code="task.cancelled_by_hub",
                params={"task": task_id},
            )
        if task.state is not TaskState.IN_PROGRESS:
            raise DomainError(
                f"task {task_id} is {task.state}, not in progress",
                hint="start it first",
                code="task.not_in_progress",
                params={"task": task_id, "task_state": task.state.value},
            )
        return task


def _count_event(
    task_id: str,
    line: PickLine,
    qty: int,
    user: str,
    *,
    undo: bool,
    tote: str = "",
    lot: PickedLot | None = None,
    serial: str = "",
) -> PickConfirmed | PickUndone:
    if undo:
        return PickUndone(
            task=task_id,
            line=line.line_id,
            order=line.order_id,
            sku=line.sku,
            location=line.location,
            qty=qty,
            user=user,
            lot=lot.lot if lot else line.lot,
            serial=serial,
        )
    return PickConfirmed(
        task=task_id,
        line=line.line_id,
        order=line.order_id,
        sku=line.sku,
        location=line.location,
        qty=qty,
        tote_position=line.tote_position,
        user=user,
        tote=tote,
        lot=lot.lot if lot else "",
        lot_substituted=lot.substituted if lot else False,
        serial=serial,
    )
