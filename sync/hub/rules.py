"""The hub's rules for facts and claims, as pure functions (no database, no MQTT).

* Facts move an order forward along the happy path (:func:`advance`), never back, and never
  out of ``held``, ``cancelled`` or ``shipped``: the fact is recorded either way.
* Claims are checked against the hub's state: :func:`task_claim_refusal` and
  :func:`order_claim_refusal` return the reason a claim is refused (shown to the user on
  the device), or None when it is granted.
"""

from __future__ import annotations

import time

from floor_app.domain.errors import IllegalTransition
from floor_app.domain.order import STAGES, TERMINAL, Order, OrderState
from floor_app.domain.picking import TaskState

S = OrderState


def _stage(state: OrderState) -> int:
    """Position on the happy path; ``short`` counts as ``picking``."""
    return STAGES.index(S.PICKING if state is S.SHORT else state)


def advance(order: Order, target: OrderState, reason: str = "") -> list[OrderState]:
    """Move ``order`` forward to ``target`` through every stage in between.

    Returns the states entered (empty when nothing moved): an order already at or past
    ``target``, held, or finished stays where it is. ``short`` may resume ``picking``.
    """
    entered: list[OrderState] = []
    if target not in STAGES or order.state is target:
        return entered
    if order.state in TERMINAL or order.state is S.HELD:
        return entered
    if order.state is S.SHORT and target is S.PICKING:
        order.transition(S.PICKING, reason)
        return [S.PICKING]
    current, goal = _stage(order.state), STAGES.index(target)
    if goal <= current:
        return entered
    steps = STAGES[current + 1 : goal + 1]
    for step in steps:
        try:
            order.transition(step, reason)
        except IllegalTransition:
            break
        entered.append(step)
    return entered


def fully_picked_clean(order: Order) -> bool:
    """True when every unit is picked and nothing is short (the order can go to packing)."""
    return all(ln.open_to_pick <= 0 for ln in order.lines) and not any(
        ln.short for ln in order.lines
    )


def lease_holder(
    lease_device: str | None, lease_expires_at: float | None, now: float
) -> str | None:
    """The device holding the lease now (None when there is no lease or it ran out)."""
    if lease_device is None:
        return None
    if lease_expires_at is not None and lease_expires_at < now:
        return None
    return lease_device


def _clock(at: float) -> str:
    return time.strftime("%H:%M", time.localtime(at))


def task_claim_refusal(
    *,
    task_id: str,
    known: bool,
    state: TaskState | None,
    hub_version: int,
    claim_version: int,
    lease_device: str | None,
    lease_expires_at: float | None,
    device_id: str,
    now: float,
) -> str | None:
    """Why ``device_id``'s claim on a task (``task.started``) is refused, or None.

    Refused: an unknown task; a task that is done or cancelled; a task leased to another
    device whose lease has not run out; a claim based on an older version of the task than
    the hub holds (the device has not seen the latest change, e.g. a reassignment).
    """
    if not known or state is None:
        return f"task {task_id} is not known to the hub"
    if state in (TaskState.DONE, TaskState.CANCELLED):
        return f"task {task_id} is {state.value}; it cannot be started"
    holder = lease_holder(lease_device, lease_expires_at, now)
    if holder is not None and holder != device_id:
        until = f" until {_clock(lease_expires_at)}" if lease_expires_at else ""
        return f"task {task_id} is leased to device {holder}{until}"
    if claim_version < hub_version:
        return (
            f"task {task_id} changed since this device saw it "
            f"(version {claim_version}, the hub has {hub_version}); wait for the update"
        )
    return None


def order_claim_refusal(
    *,
    order_id: str,
    order: Order | None,
    claim_version: int,
    external_version: int,
    required: OrderState | None = None,
    forbidden: tuple[OrderState, ...] = (),
) -> str | None:
    """Why a claim on an order is refused, or None.

    Refused: an unknown order; a finished order (shipped, cancelled); an order not in the
    ``required`` state or in a ``forbidden`` one; a claim based on a version older than the
    hub's last change of its own (allocation, reallocation, cancellation).
    """
    if order is None:
        return f"order {order_id} is not known to the hub"
    if order.state in TERMINAL:
        return f"order {order_id} is {order.state.value}; nothing can change it any more"
    if required is not None and order.state is not required:
        return f"order {order_id} is {order.state.value}, not {required.value}"
    if order.state in forbidden:
        return f"order {order_id} is already {order.state.value}"
    if claim_version < external_version:
        return (
            f"order {order_id} changed since this device saw it (version {claim_version}, "
            f"the hub changed it at version {external_version}); wait for the update"
        )
    return None
