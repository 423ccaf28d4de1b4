"""Demo mode only: a few orders already picked into totes, so the packer has work at once,
and a few already shipped, so the returns desk has parcels to receive.

Without a hub nothing would ever reach the pack station in a fresh demo. The first six
orders the demo left unallocated are marked picked by a finished task ``PT-0900`` into
totes ``T0901`` to ``T0906``, which hold them until they are packed (the hub would send
exactly this). The next two are shipped,
packed at this station with a confirmed label (their tracking numbers are what a returned
parcel shows). Runs once per store.
"""

from __future__ import annotations

from sqlalchemy import select

from floor_app.domain.order import OrderState
from floor_app.domain.packing import LabelJob, LabelState, tracking_number
from floor_app.domain.picking import PickLine, PickTask, TaskState, Tote
from floor_app.domain.totes import SiteTote
from floor_app.store import Store
from floor_app.store.tables import StockRow

STAGED = "demo_packing_staged"
DEMO_PACK_TASK = "PT-0900"
DEMO_ORDERS = 6
DEMO_STATION = "PACK-01"
RETURNS_STAGED = "demo_returns_staged"
DEMO_SHIPPED = 2


def stage_demo_packing(store: Store) -> list[str]:
    """Stage the demo's picked orders once; returns their ids (empty when already done)."""
    if store.meta(STAGED) == "1":
        return []
    with store.unit_of_work() as uow:
        candidates = uow.orders.by_state(OrderState.RECEIVED)[:DEMO_ORDERS]
        lines: list[PickLine] = []
        totes: list[Tote] = []
        for position, order_id in enumerate(candidates, start=1):
            order = uow.orders.get(order_id)
            for state in (
                OrderState.VALIDATED,
                OrderState.ALLOCATED,
                OrderState.PICKING,
                OrderState.PICKED,
            ):
                if state is OrderState.PICKED:
                    for line in order.lines:
                        line.picked = line.qty
                order.transition(state, "demo")
            uow.orders.save(order)
            code = f"T{900 + position:04d}"
            totes.append(Tote(code, position, order_id, DEMO_STATION))
            site_tote = uow.totes.get(code) or SiteTote(code)
            site_tote.fill(order_id, DEMO_PACK_TASK)
            site_tote.hold(DEMO_STATION)
            uow.totes.save(site_tote)
            for line in order.lines:
                location = uow.session.scalar(
                    select(StockRow.location).where(StockRow.sku == line.sku).limit(1)
                )
                lines.append(
                    PickLine(
                        line_id=f"{DEMO_PACK_TASK}-{order_id}-{line.line_no}",
                        order_id=order_id,
                        order_line_no=line.line_no,
                        sku=line.sku,
                        gtin=uow.catalogue.sku(line.sku).gtin,
                        location=location or "STAGE-01",
                        qty=line.qty,
                        tote_position=position,
                        picked=line.qty,
                    )
                )
        if lines:
            task = PickTask(
                DEMO_PACK_TASK,
                lines,
                zone="A",
                state=TaskState.DONE,
                assigned_to="sam",
                totes=totes,
            )
            uow.tasks.save(task)
        uow.meta.set(STAGED, "1")
        uow.commit()
    return candidates


def stage_demo_returns(store: Store) -> list[str]:
    """Ship the demo's parcels for the returns desk once; their order ids (empty when done)."""
    if store.meta(RETURNS_STAGED) == "1":
        return []
    with store.unit_of_work() as uow:
        shipped = uow.orders.by_state(OrderState.RECEIVED)[:DEMO_SHIPPED]
        for order_id in shipped:
            order = uow.orders.get(order_id)
            for line in order.lines:
                line.picked = line.packed = line.qty
            for state in (
                OrderState.VALIDATED,
                OrderState.ALLOCATED,
                OrderState.PICKING,
                OrderState.PICKED,
                OrderState.PACKING,
                OrderState.PACKED,
                OrderState.LABELLED,
                OrderState.SHIPPED,
            ):
                order.transition(state, "demo")
            uow.orders.save(order)
            uow.packs.save_label(
                LabelJob(
                    f"DEMO-{order_id}",
                    order_id,
                    tracking_number(order_id),
                    order.carrier or "demo",
                    LabelState.CONFIRMED,
                )
            )
        uow.meta.set(RETURNS_STAGED, "1")
        uow.commit()
    return shipped
