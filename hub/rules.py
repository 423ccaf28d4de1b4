"""The hub's rules for claims, as pure functions (no database, no MQTT).

Claims are checked against the hub's state: :func:`task_claim_refusal` and
:func:`order_claim_refusal` return the reason a claim is refused (shown to the user on the
device), or None when it is granted. (Facts move an order forward with the domain's
:meth:`floor_app.domain.order.Order.advance`, never back, and never out of ``held``,
``cancelled`` or ``shipped``: the fact is recorded either way.)
"""

from __future__ import annotations

import time

from floor_app.domain.errors import Reason
from floor_app.domain.order import TERMINAL, Order, OrderState
from floor_app.domain.picking import TaskState


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
) -> Reason | None:
    """Why ``device_id``'s claim on a task (``task.started``) is refused, or None.

    Refused: an unknown task; a task that is done or cancelled; a task leased to another
    device whose lease has not run out; a claim based on an older version of the task than
    the hub holds (the device has not seen the latest change, e.g. a reassignment).
    """
    if not known or state is None:
        return Reason(
            f"task {task_id} is not known to the hub", "hub.unknown_task", {"task": task_id}
        )
    if state in (TaskState.DONE, TaskState.CANCELLED):
        return Reason(
            f"task {task_id} is {state.value}; it cannot be started",
            "hub.task_finished",
            {"task": task_id, "task_state": state.value},
        )
    holder = lease_holder(lease_device, lease_expires_at, now)
    if holder is not None and holder != device_id:
        until = f" until {_clock(lease_expires_at)}" if lease_expires_at else ""
        return Reason(
            f"task {task_id} is leased to device {holder}{until}",
            "hub.task_leased",
            {"task": task_id, "device": holder},
        )
    if claim_version < hub_version:
        return Reason(
            f"task {task_id} changed since this device saw it "
            f"(version {claim_version}, the hub has {hub_version}); wait for the update",
            "hub.task_changed",
            {"task": task_id, "version": claim_version, "hub_version": hub_version},
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
) -> Reason | None:
    """Why a claim on an order is refused, or None.

    Refused: an unknown order; a finished order (shipped, cancelled); an order not in the
    ``required`` state or in a ``forbidden`` one; a claim based on a version older than the
    hub's last change of its own (allocation, reallocation, cancellation).
    """
    if order is None:
        return Reason(
            f"order {order_id} is not known to the hub", "hub.unknown_order", {"order": order_id}
        )
    if order.state in TERMINAL:
        return Reason(
            f"order {order_id} is {order.state.value}; nothing can change it any more",
            "hub.order_finished",
            {"order": order_id, "order_state": order.state.value},
        )
    if required is not None and order.state is not required:
        return Reason(
            f"order {order_id} is {order.state.value}, not {required.value}",
            "hub.order_not_in_state",
            {
                "order": order_id,
                "order_state": order.state.value,
                "to_order_state": required.value,
            },
        )
    if order.state in forbidden:
        return Reason(
            f"order {order_id} is already {order.state.value}",
            "hub.order_already",
            {"order": order_id, "order_state": order.state.value},
        )
    if claim_version < external_version:
        return Reason(
            f"order {order_id} changed since this device saw it (version {claim_version}, "
            f"the hub changed it at version {external_version}); wait for the update",
            "hub.order_changed",
            {"order": order_id, "version": claim_version, "hub_version": external_version},
        )
    return None
