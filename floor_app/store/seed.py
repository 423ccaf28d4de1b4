"""Loading reference data and the demo site into a device store."""

from __future__ import annotations

from collections.abc import Callable

from floor_app.demo import DemoSite
from floor_app.domain.order import OrderState
from floor_app.domain.picking import TaskState
from floor_app.domain.routing import route_order
from floor_app.domain.tasks import build_pick_task
from floor_app.domain.totes import site_totes

from .store import Store

SEEDED = "seeded"


def load_demo(
    store: Store,
    site: DemoSite | Callable[[], DemoSite],
    *,
    tasks: int = 6,
    orders_per_task: int = 4,
) -> bool:
    """Load the demo site once (a no-op when the store was already seeded).

    ``site`` may be a factory, called only when the store still needs seeding (building
    the site takes a few hundred milliseconds, which a restart should not pay).

    With no hub in demo mode, the device also allocates ``tasks`` pick tasks of
    ``orders_per_task`` orders each for itself, the way the hub would (their totes go to
    the site's first pack station).
    """
    if store.meta(SEEDED) == "demo":
        return False
    if callable(site):
        site = site()
    locations = {loc.code: loc for loc in site.locations}
    skus = {s.sku: s for s in site.skus}
    with store.unit_of_work() as uow:
        uow.catalogue.add_skus(site.skus)
        uow.catalogue.add_locations(site.locations)
        uow.catalogue.add_stock([(r.location, r.sku, r.qty) for r in site.stock])
        for carton in site.cartons:
            uow.catalogue.add_carton(carton)
        for user in site.users:
            uow.users.add(user)
        uow.totes.add_many(site_totes(site.totes, site.carts))
        station = next((d.station for d in site.devices if d.station), "")
        orders = sorted(site.orders, key=lambda o: (o.priority, o.order_id))
        for n in range(tasks):
            group = orders[n * orders_per_task : (n + 1) * orders_per_task]
            if not group:
                break
            task = build_pick_task(
                f"PT-{n + 1:04d}",
                group,
                pick_face=lambda code: locations[site.pick_faces[code]],
                sku=lambda code: skus[code],
                destination=station,
                route_order=route_order(site.layout),
            )
            task.state = TaskState.ASSIGNED
            uow.tasks.save(task)
            for order in group:
                for state in (OrderState.VALIDATED, OrderState.ALLOCATED):
                    order.transition(state)
        for order in site.orders:
            uow.orders.save(order)
        uow.meta.set(SEEDED, "demo")
        uow.commit()
    return True
