"""A real process that confirms picks as fast as it can and prints each one it was told is
committed. The SIGKILL test kills it at random moments (see test_store_crash.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from floor_app.domain.order import Address, Order, OrderLine, OrderState
from floor_app.domain.picking import PickLine, PickTask, TaskState
from floor_app.domain.sku import Dimensions, Sku
from floor_app.services.picking import PickingService
from floor_app.store import Store

BIG = 10**9
TASK, LINE, ORDER, SKU, LOC = "PT-CRASH", "PT-CRASH-1", "SO-9999999", "SKU-CRASH", "A01-01-1A"
INITIAL_STOCK = 10**12


def seed(store: Store) -> None:
    if store.meta("crash_seeded") == "1":
        return
    with store.unit_of_work() as uow:
        uow.catalogue.add_sku(
            Sku(SKU, "4260123000011", "Crash test item", Dimensions(10, 10, 10), 5)
        )
        from floor_app.domain.location import Location

        uow.catalogue.add_location(Location(LOC, "dc1", "A", 1, 1, 1, "A", 1.5, 1.6))
        uow.catalogue.set_stock(LOC, SKU, INITIAL_STOCK)
        order = Order(ORDER, [OrderLine(1, SKU, BIG)], Address("N", ("L",), "C", "P", "GB"))
        order.transition(OrderState.VALIDATED)
        order.transition(OrderState.ALLOCATED)
        uow.orders.save(order)
        task = PickTask(
            TASK,
            [PickLine(LINE, ORDER, 1, SKU, "04260123000011", LOC, BIG)],
            state=TaskState.IN_PROGRESS,
        )
        uow.tasks.save(task)
        uow.meta.set("crash_seeded", "1")
        uow.commit()


def main() -> None:
    store = Store.open(Path(sys.argv[1]), device_id="crash-01", site="dc1")
    seed(store)
    picking = PickingService(store)
    print("READY", flush=True)
    while True:
        result = picking.confirm(TASK, LINE, 1, "crash")
        # Printed only after commit returned: this is what the caller was told.
        sys.stdout.write(f"{result.event.seq} {result.event.event_id}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
