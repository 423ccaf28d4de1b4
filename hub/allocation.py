"""Allocation: stock reserved for validated orders, orders batched into pick tasks, tasks
leased to pickers' devices, orders given a pack station.

One pass (:func:`allocate`) runs several small transactions:

1. **reserve**: one per validated order, most urgent first (lower ``priority`` number
   first, then oldest): the order gets its carrier service when the site has carrier
   rules (:mod:`hub.carriers`; held with the reason when no service can take it),
   then every open unit is reserved, all or nothing (:mod:`hub.stock`, never
   oversells); the order becomes ``allocated``. An order that cannot be reserved stays
   ``validated`` and is tried again on the next pass. Pick faces the
   reservation took below their minimum get a refill task (:mod:`hub.replenishment`).
2. **batch**: reserved orders become pick tasks (:mod:`hub.task_building`), in waves.
3. **expire** and **assign**: leases that ran out on unstarted tasks, or on tasks in
   progress whose device is not online, are taken back; open tasks are leased to pickers'
   devices (:mod:`hub.leases`) and pushed to them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import Connection, Engine, select
from sqlalchemy import exc as sa_exc

from floor_app.domain.order import OrderState
from sync.protocol import OrderStatus, Topics

from .carriers import CarrierContext, choose_for_order, load_context
from .database import run_transaction
from .errors import DatabaseUnavailable
from .leases import assign_open_tasks, expire_leases
from .outbound import Outbound, OutMessage, transact
from .replenishment import Trigger, replenish
from .repositories import ORDERS, OrderRecord, load_orders, save_orders
from .stock import reservations_of, reserve_order
from .stock_tasks import assign_open_stock_tasks, expire_stock_leases
from .task_building import batch_orders

log = logging.getLogger("floor.hub")


@dataclass(frozen=True, slots=True)
class AllocationSettings:
    """How allocation batches and leases."""

    #: Totes on one cart (orders per pick task, one tote each).
    totes_per_cart: int = 6
    #: At most this many orders are batched together (keeps batching fast).
    wave_size: int = 60
    #: At most this many validated orders are reserved in one pass.
    reserve_limit: int = 500
    #: How long a device holds a task it was given before it may be taken back (seconds).
    lease_s: float = 30 * 60.0


@dataclass
class AllocationReport:
    """What one pass did, and the committed messages to publish."""

    reserved: list[str] = field(default_factory=list)
    waiting: dict[str, list[str]] = field(default_factory=dict)  # order -> reasons
    held: dict[str, str] = field(default_factory=dict)  # order -> why (no carrier service)
    tasks: list[str] = field(default_factory=list)
    assigned: dict[str, str] = field(default_factory=dict)  # task -> device
    expired: list[str] = field(default_factory=list)
    messages: list[OutMessage] = field(default_factory=list)


def status_of(rec: OrderRecord, reason: str = "", device_id: str | None = None) -> OrderStatus:
    """The tracking status of an order as it is now."""
    return OrderStatus(
        order_id=rec.order_id,
        state=rec.order.state,
        version=rec.order.version,
        reason=reason[:500],
        device_id=device_id,
    )


def validated_order_ids(conn: Connection, limit: int) -> list[str]:
    """Validated orders, most urgent first."""
    return list(
        conn.execute(
            select(ORDERS.c.order_id)
            .where(ORDERS.c.state == OrderState.VALIDATED.value)
            .order_by(ORDERS.c.priority, ORDERS.c.received_at, ORDERS.c.order_id)
            .limit(limit)
        ).scalars()
    )


def reserve_one(
    conn: Connection,
    order_id: str,
    out: Outbound,
    now: float,
    carriers: CarrierContext | None = None,
) -> tuple[str, list[str]] | None:
    """Give one validated order its carrier service (with ``carriers``) and reserve it.

    None when it is not waiting (any more); otherwise ``("reserved", [])``, ``("waiting",
    reasons)`` when stock is short, or ``("held", [reason])`` when no carrier service can
    take it.
    """
    rec = load_orders(conn, [order_id], lock=True, skip_locked=True).get(order_id)
    if rec is None or rec.order.state is not OrderState.VALIDATED:
        return None
    if carriers is not None and rec.order.carrier_choice is None:
        held = choose_for_order(conn, rec, carriers, now)
        if held is not None:
            save_orders(conn, [rec], now=now)
            out.order_status(status_of(rec, held))
            return "held", [held]
    reasons = reserve_order(conn, rec, now=now)
    if reasons:
        save_orders(conn, [rec], now=now)  # keeps the carrier choice just made
        return "waiting", reasons
    taken = reservations_of(conn, [order_id]).get(order_id, [])
    replenish(
        conn,
        [(location, sku) for _line, location, sku, _qty in taken],
        Trigger("reservation", order_id),
        now=now,
        out=out,
    )
    rec.change_source = "allocation"
    rec.order.transition(OrderState.ALLOCATED, "stock reserved")
    rec.external_version = rec.order.version
    save_orders(conn, [rec], now=now)
    out.order_status(status_of(rec, "stock reserved"))
    return "reserved", []


def _reserve(
    order_id: str,
    clock: Callable[[], float],
    carriers: CarrierContext | None,
    conn: Connection,
    out: Outbound,
) -> tuple[str, list[str]] | None:
    return reserve_one(conn, order_id, out, clock(), carriers)


def _set_aside(order_id: str, why: str, now: float, conn: Connection, out: Outbound) -> bool:
    """Hold ``order_id`` with ``why`` (it shows among the supervisor's exceptions)."""
    rec = load_orders(conn, [order_id], lock=True).get(order_id)
    if rec is None or rec.order.state is not OrderState.VALIDATED:
        return False
    rec.order.hold(why)
    save_orders(conn, [rec], now=now)
    out.order_status(status_of(rec, why))
    return True


def allocate(
    engine: Engine,
    site: str,
    *,
    settings: AllocationSettings | None = None,
    now: float | None = None,
) -> AllocationReport:
    """One allocation pass (see the module docstring).

    Every step commits on its own; ``report.messages`` are committed outbox messages for
    the caller to publish.
    """
    settings = settings or AllocationSettings()
    topics = Topics(site)
    report = AllocationReport()

    def clock() -> float:
        return now if now is not None else time.time()

    ids = run_transaction(
        engine, lambda c: validated_order_ids(c, settings.reserve_limit), what="list"
    )
    carriers = run_transaction(engine, load_context, what="carriers") if ids else None
    for order_id in ids:
        try:
            result, sent = transact(
                engine, topics, partial(_reserve, order_id, clock, carriers), "reserve"
            )
        except (DatabaseUnavailable, sa_exc.OperationalError, sa_exc.InterfaceError):
            raise  # the database, not this order: the next pass tries again
        except Exception as exc:  # this order breaks the pass: set it aside, go on
            log.exception("allocating %s failed; it is set aside for a supervisor", order_id)
            why = f"allocation failed: {type(exc).__name__}: {exc}"[:300]
            held, sent = transact(
                engine, topics, partial(_set_aside, order_id, why, clock()), "set aside"
            )
            report.messages += sent
            if held:
                report.held[order_id] = why
            continue
        report.messages += sent
        if result is None:
            continue
        outcome, reasons = result
        if outcome == "reserved":
            report.reserved.append(order_id)
        elif outcome == "held":
            report.held[order_id] = reasons[0]
        else:
            report.waiting[order_id] = reasons
    while True:
        made, sent = transact(
            engine,
            topics,
            lambda c, out: batch_orders(
                c,
                out,
                clock(),
                wave_size=settings.wave_size,
                totes_per_cart=settings.totes_per_cart,
            ),
            "batch",
        )
        report.messages += sent
        report.tasks += [t.task_id for t in made]
        if not made:
            break
    report.expired, sent = transact(
        engine,
        topics,
        lambda c, out: expire_leases(c, out, clock(), lease_s=settings.lease_s),
        "expire",
    )
    report.messages += sent
    report.assigned, sent = transact(
        engine,
        topics,
        lambda c, out: assign_open_tasks(c, out, clock(), lease_s=settings.lease_s),
        "assign",
    )
    report.messages += sent
    stock_expired, sent = transact(
        engine, topics, lambda c, out: expire_stock_leases(c, out, clock()), "expire stock"
    )
    report.messages += sent
    report.expired += stock_expired
    stock_assigned, sent = transact(
        engine,
        topics,
        lambda c, out: assign_open_stock_tasks(c, out, clock(), lease_s=settings.lease_s),
        "assign stock",
    )
    report.messages += sent
    report.assigned.update(stock_assigned)
    return report
