"""Applying the hub's push stream to the device store, one item per local transaction.

The cursor is stored in the store's meta (:data:`CURSOR_KEY`) in the same transaction as
the change it belongs to, so an item is applied exactly once even across crashes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from floor_app.domain.errors import DomainError, NotFound
from floor_app.domain.order import TERMINAL, Order
from floor_app.domain.picking import PickTask, TaskState
from floor_app.domain.stockwork import StockTask, StockTaskState
from floor_app.domain.totes import ToteState
from floor_app.hub_sync import PushApplied, PushKind
from floor_app.store import Store, UnitOfWork
from sync.protocol import (
    OrderCancelled,
    OrderSnapshot,
    PushMessage,
    ReceiptNotice,
    RosterUpdate,
    SiteReference,
    StationConfig,
    StockTaskAssigned,
    StockTaskCancelled,
    TaskAssigned,
    TaskCancelled,
    ToteContents,
)

CURSOR_KEY = "push_cursor"
#: The version of the site's reference data this device runs (once its last part is in).
SITE_VERSION_KEY = "site_version"
STATION_CONFIG_PREFIX = "station_config:"

#: the app's name for each kind of push item on the wire
PUSH_KINDS = {
    "task.assigned": PushKind.TASK_ASSIGNED,
    "task.cancelled": PushKind.TASK_CANCELLED,
    "order.snapshot": PushKind.ORDER_SNAPSHOT,
    "order.cancelled": PushKind.ORDER_CANCELLED,
    "roster": PushKind.ROSTER,
    "station.config": PushKind.STATION_CONFIG,
    "stock_task.assigned": PushKind.STOCK_TASK_ASSIGNED,
    "stock_task.cancelled": PushKind.STOCK_TASK_CANCELLED,
    "tote.contents": PushKind.TOTE_CONTENTS,
    "site.reference": PushKind.SITE_REFERENCE,
    "receipt.notice": PushKind.RECEIPT_NOTICE,
}


@dataclass(frozen=True, slots=True)
class PushOutcome:
    """What applying one push did: ``applied`` False when it was old (at or below the cursor)."""

    cursor: int
    applied: bool
    note: str = ""


def news_of(message: PushMessage) -> PushApplied:
    """What the app hears of ``message`` once it is applied."""
    item = message.item
    kind = PUSH_KINDS[item.kind]
    if isinstance(item, TaskAssigned | StockTaskAssigned):
        return PushApplied(message.cursor, kind, task_id=item.task.task_id)
    if isinstance(item, TaskCancelled | StockTaskCancelled):
        return PushApplied(
            message.cursor,
            kind,
            task_id=item.task_id,
            reason=item.reason,
            code=item.code,
            params=item.params,
        )
    if isinstance(item, OrderSnapshot):
        order = item.order
        return PushApplied(message.cursor, kind, order_id=order.order_id, order_state=order.state)
    if isinstance(item, OrderCancelled):
        return PushApplied(message.cursor, kind, order_id=item.order_id, reason=item.reason)
    return PushApplied(message.cursor, kind)


def stored_cursor(store: Store) -> int:
    """The last push cursor applied on this device (0 when none yet)."""
    return int(store.meta(CURSOR_KEY, "0") or "0")


class PushApplier:
    """Applies push messages to a store; callers must pass them in cursor order."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def apply(self, message: PushMessage) -> PushOutcome:
        """Apply ``message`` if its cursor is the next one; drop it if it is old.

        Raises ``ValueError`` if the cursor skips ahead (the caller holds it back), and
        :class:`floor_app.store.StoreError` if the store cannot write (nothing is kept).
        """
        with self.store.unit_of_work() as uow:
            current = int(uow.meta.get(CURSOR_KEY, "0") or "0")
            if message.cursor <= current:
                return PushOutcome(message.cursor, False, f"old: cursor {current} already applied")
            if message.cursor != current + 1:
                raise ValueError(f"push {message.cursor} skips ahead of {current + 1}")
            note = self._apply_item(uow, message)
            uow.meta.set(CURSOR_KEY, str(message.cursor))
            uow.commit()
        return PushOutcome(message.cursor, True, note)

    def _apply_item(self, uow: UnitOfWork, message: PushMessage) -> str:
        item = message.item
        if isinstance(item, TaskAssigned):
            return _save_task(uow, item.task.to_domain())
        if isinstance(item, OrderSnapshot):
            return _save_order(uow, item.order.to_domain())
        if isinstance(item, OrderCancelled):
            return _cancel_order(uow, item)
        if isinstance(item, TaskCancelled):
            return _cancel_task(uow, item)
        if isinstance(item, RosterUpdate):
            for user in item.users:
                uow.users.add(user.to_domain())
            return f"{len(item.users)} users"
        if isinstance(item, StationConfig):
            uow.meta.set(
                STATION_CONFIG_PREFIX + item.station, json.dumps(item.settings, sort_keys=True)
            )
            return f"station {item.station}"
        if isinstance(item, StockTaskAssigned):
            return _save_stock_task(uow, item.task.to_domain())
        if isinstance(item, StockTaskCancelled):
            return _cancel_stock_task(uow, item)
        if isinstance(item, ToteContents):
            return _tote_contents(uow, item)
        if isinstance(item, SiteReference):
            return _site_reference(uow, item)
        if isinstance(item, ReceiptNotice):
            return _receipt_notice(uow, item)
        raise TypeError(f"unhandled push item {type(item).__name__}")  # pragma: no cover


def _receipt_notice(uow: UnitOfWork, item: ReceiptNotice) -> str:
    """A notice to receive, changed, or no longer open (closed or cancelled: kept with what
    was counted here, no longer offered). A notice counted here keeps its counts."""
    pushed = item.to_domain()
    local = uow.receipts.find(item.receipt_id)
    if local is None or not any(ln.counted for ln in local.lines):
        uow.receipts.save(pushed)
        return f"receipt {item.reference} {item.state.value}"
    if not pushed.is_open:
        local.state = pushed.state
        uow.receipts.save(local)
        return f"receipt {item.reference} {item.state.value}"
    return f"receipt {item.reference}: counted here, kept as counted"


def _save_task(uow: UnitOfWork, pushed: PickTask) -> str:
    try:
        local = uow.tasks.get(pushed.task_id)
    except NotFound:
        uow.tasks.save(pushed)
        return f"task {pushed.task_id} added"
    if local.version > pushed.version:
        return (
            f"task {pushed.task_id}: local version {local.version} is newer than {pushed.version}"
        )
    local_lines = {ln.line_id: ln for ln in local.lines}
    for line in pushed.lines:
        mine = local_lines.get(line.line_id)
        if mine is not None and mine.picked + mine.short > line.picked + line.short:
            # our own events have not reached the hub yet: keep the device's progress
            line.picked, line.short, line.short_reason = mine.picked, mine.short, mine.short_reason
        if mine is not None:
            line.put_tote = mine.put_tote  # the hub does not keep puts
    for tote in local.totes:
        if tote.is_scanned and not _scanned(pushed, tote.position):
            # the tote scanned here has not reached the hub yet: keep it
            pushed.assign_tote(tote.position, tote.tote_id)
    uow.tasks.save(pushed)
    return f"task {pushed.task_id} updated to version {pushed.version}"


def _scanned(task: PickTask, position: int) -> bool:
    tote = task.tote_for(position)
    return tote is not None and tote.is_scanned


def _tote_contents(uow: UnitOfWork, item: ToteContents) -> str:
    """Totes as the hub knows them now. A tote this device is filling on a task still open
    here keeps its local state (its claim may not have reached the hub yet)."""
    pushed = [t.to_domain() for t in item.totes]
    known = uow.totes.all()
    for tote in pushed:
        local = known.get(tote.code)
        if local is None:
            continue
        tote.task_id = local.task_id if tote.order_id == local.order_id else None
        if (
            local.state is ToteState.FILLING
            and tote.state is not ToteState.HOLDING
            and local.task_id
            and _open_here(uow, local.task_id)
        ):
            tote.state, tote.order_id, tote.task_id = local.state, local.order_id, local.task_id
    uow.totes.put_many(pushed)
    if item.registry:
        uow.totes.remove(sorted(set(known) - {t.code for t in pushed}))
    return f"{len(pushed)} totes" + (" (the site's list)" if item.registry else "")


def _open_here(uow: UnitOfWork, task_id: str) -> bool:
    try:
        task = uow.tasks.get(task_id)
    except NotFound:
        return False
    return task.state in (TaskState.ASSIGNED, TaskState.IN_PROGRESS)


def _save_stock_task(uow: UnitOfWork, pushed: StockTask) -> str:
    local = uow.stock_tasks.find(pushed.task_id)
    if local is None:
        uow.stock_tasks.save(pushed)
        return f"stock task {pushed.task_id} added"
    if local.version > pushed.version:
        return (
            f"stock task {pushed.task_id}: local version {local.version} is newer than "
            f"{pushed.version}"
        )
    # our own moves may not have reached the hub yet: keep the device's progress
    pushed.moved = max(pushed.moved, local.moved)
    if not local.is_open and pushed.is_open:
        pushed.state = local.state
    uow.stock_tasks.save(pushed)
    return f"stock task {pushed.task_id} updated to version {pushed.version}"


def _cancel_stock_task(uow: UnitOfWork, item: StockTaskCancelled) -> str:
    local = uow.stock_tasks.find(item.task_id)
    if local is None:
        return f"stock task {item.task_id} is not on this device"
    if not local.is_open:
        return f"stock task {item.task_id} is already {local.state}"
    local.move_to(StockTaskState.CANCELLED)
    local.reason = item.reason
    uow.stock_tasks.save(local)
    return f"stock task {item.task_id} cancelled: {item.reason}"


def _save_order(uow: UnitOfWork, pushed: Order) -> str:
    if not uow.orders.exists(pushed.order_id):
        uow.orders.save(pushed)
        return f"order {pushed.order_id} added"
    local = uow.orders.get(pushed.order_id)
    if local.version > pushed.version:
        if pushed.traced and not local.traced:  # what was picked, for the packing slip
            local.traced = pushed.traced
            uow.orders.save(local)
        return (
            f"order {pushed.order_id}: local version {local.version} is newer than {pushed.version}"
        )
    local_lines = {ln.line_no: ln for ln in local.lines}
    for line in pushed.lines:
        mine = local_lines.get(line.line_no)
        if mine is not None:
            line.picked = max(line.picked, mine.picked)
            line.packed = max(line.packed, mine.packed)
            line.short = max(line.short, mine.short)
    if not pushed.traced:  # a snapshot without them keeps the lots and serials known here
        pushed.traced = local.traced
    uow.orders.save(pushed)
    return f"order {pushed.order_id} updated to version {pushed.version}"


def _cancel_order(uow: UnitOfWork, item: OrderCancelled) -> str:
    if not uow.orders.exists(item.order_id):
        return f"order {item.order_id} is not on this device"
    order = uow.orders.get(item.order_id)
    if order.state in TERMINAL:
        return f"order {item.order_id} is already {order.state}"
    try:
        order.cancel(item.reason)
    except DomainError as exc:  # pragma: no cover - every non-terminal state may be cancelled
        return f"order {item.order_id}: {exc.reason}"
    uow.orders.save(order)
    return f"order {item.order_id} cancelled"


def _cancel_task(uow: UnitOfWork, item: TaskCancelled) -> str:
    try:
        task = uow.tasks.get(item.task_id)
    except NotFound:
        return f"task {item.task_id} is not on this device"
    if task.state in (TaskState.DONE, TaskState.CANCELLED):
        return f"task {item.task_id} is already {task.state}"
    task.move_to(TaskState.CANCELLED)
    uow.tasks.save(task)
    return f"task {item.task_id} cancelled"


def _site_reference(uow: UnitOfWork, item: SiteReference) -> str:
    """One part of a version of the site's reference data; the device runs that version once
    the last part is in (parts come in order on the push stream)."""
    catalogue = uow.catalogue
    catalogue.remove_items(item.removed_items)
    catalogue.put_items([i.model_dump() for i in item.items])
    catalogue.remove_locations(item.removed_locations)
    catalogue.put_locations(
        [x.model_dump() for x in item.locations], uow.meta.get("site", "") or ""
    )
    catalogue.remove_cartons(item.removed_cartons)
    catalogue.put_cartons([c.model_dump() for c in item.cartons])
    if item.part == item.parts:
        uow.meta.set(SITE_VERSION_KEY, str(item.version))
    return (
        f"site data v{item.version} part {item.part}/{item.parts}: {len(item.items)} items, "
        f"{len(item.locations)} locations, {len(item.cartons)} cartons"
    )
