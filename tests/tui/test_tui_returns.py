"""The returns desk end to end on a real store: a shipped demo parcel received by scans,
graded, put to its pick face or to quarantine; every wrong scan refused with its reason and
nothing recorded; a parcel this device does not know received for the hub to check, and the
hub's rejection shown."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import context_from_seed
from sqlalchemy import text
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from floor_app.context import AppContext
from floor_app.domain.order import Order
from floor_app.domain.stockwork import ReturnGrade, shipped_units
from floor_app.ui.app import FloorApp
from floor_app.ui.messages import SyncNotice
from floor_app.ui.screens.returns import ReturnsScreen

pytestmark = pytest.mark.tui


@pytest.fixture
def ctx(seeded_store: Path, tmp_path: Path) -> Any:
    context = context_from_seed(seeded_store, tmp_path, bell=False)
    yield context
    context.close()


def _text(app: FloorApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def _type(pilot: Pilot[int], text: str) -> None:
    await pilot.press(*text, "enter")
    await pilot.pause()


def shipped_parcel(ctx: AppContext) -> tuple[str, Order]:
    """(tracking number, order) of a parcel the demo shipped from this station."""
    with ctx.store.unit_of_work() as uow:
        job = uow.packs.labels_in("confirmed")[0]
        return job.tracking, uow.orders.get(job.order_id)


def gtin(ctx: AppContext, sku: str) -> str:
    with ctx.store.unit_of_work() as uow:
        return uow.catalogue.sku(sku).gtin


def returns_events(ctx: AppContext) -> list[dict[str, Any]]:
    return [r.payload for r in ctx.store.pending() if r.type == "return.received"]


def run(
    ctx: AppContext,
    body: Callable[[Pilot[int], FloorApp], Awaitable[None]],
    *,
    size: tuple[int, int] = (80, 24),
    badge: str = "B2001",
) -> None:
    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=size) as pilot:
            await _type(pilot, badge)
            await pilot.press("f5")
            await pilot.pause()
            assert isinstance(app.screen, ReturnsScreen)
            await body(pilot, app)

    asyncio.run(scenario())


@pytest.mark.parametrize("size", [(80, 24), (40, 16)])
def test_a_resaleable_unit_goes_back_to_its_pick_face(ctx: AppContext, size: Any) -> None:
    tracking, order = shipped_parcel(ctx)
    sku = order.lines[0].sku
    assert ctx.returns is not None
    face = ctx.returns.suggest(sku, ReturnGrade.RESALEABLE)
    assert face is not None
    with ctx.store.unit_of_work() as uow:
        before = uow.catalogue.stock(face, sku)

    async def body(pilot: Pilot[int], app: FloorApp) -> None:
        await _type(pilot, tracking)
        assert f"Receiving order {order.order_id}" in _text(app, "#message")
        await _type(pilot, gtin(ctx, sku))
        await _type(pilot, "1")
        assert f"in {face} and scan the location" in _text(app, "#prompt")
        await _type(pilot, face)
        assert f"✓ {sku} resaleable → {face}" in _text(app, "#message")
        table = app.screen.query_one("#lines", DataTable)
        assert table.get_row(sku)[2] == f"1/{shipped_units(order)[sku]}"
        await pilot.press("escape")
        await pilot.pause()
        assert f"Parcel {order.order_id} done: 1 unit received" in _text(app, "#message")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ReturnsScreen)

    run(ctx, body, size=size)
    [event] = returns_events(ctx)
    assert {k: event[k] for k in ("order", "sku", "qty", "grade", "to_location", "user")} == {
        "order": order.order_id,
        "sku": sku,
        "qty": 1,
        "grade": "resaleable",
        "to_location": face,
        "user": "ben",
    }
    with ctx.store.unit_of_work() as uow:
        assert uow.catalogue.stock(face, sku) == before + 1


def test_damaged_goes_to_quarantine_and_only_there(ctx: AppContext) -> None:
    tracking, order = shipped_parcel(ctx)
    sku = order.lines[0].sku

    async def body(pilot: Pilot[int], app: FloorApp) -> None:
        await _type(pilot, tracking)
        await _type(pilot, gtin(ctx, sku))
        await _type(pilot, "2")
        assert "in QUAR-01 and scan the location" in _text(app, "#prompt")
        await _type(pilot, "A01-01-1A")
        assert "A01-01-1A is not a quarantine location: damaged units go to quarantine" in (
            _text(app, "#message")
        )
        assert returns_events(ctx) == []
        await _type(pilot, "QUAR-01")
        assert f"✓ {sku} damaged → QUAR-01" in _text(app, "#message")

    run(ctx, body)
    assert [(e["grade"], e["to_location"]) for e in returns_events(ctx)] == [("damaged", "QUAR-01")]


def test_resaleable_may_go_to_another_storage_location_but_not_to_quarantine(
    ctx: AppContext,
) -> None:
    tracking, order = shipped_parcel(ctx)
    sku = order.lines[0].sku
    with ctx.store.engine.connect() as conn:  # a pick face that does not hold this SKU
        other = conn.execute(
            text(
                "SELECT code FROM locations WHERE kind = 'pick' AND code NOT IN "
                "(SELECT location FROM stock WHERE sku = :sku) ORDER BY code DESC LIMIT 1"
            ),
            {"sku": sku},
        ).scalar_one()

    async def body(pilot: Pilot[int], app: FloorApp) -> None:
        await _type(pilot, tracking)
        await _type(pilot, gtin(ctx, sku))
        await _type(pilot, "1")
        await _type(pilot, "QUAR-01")
        assert "QUAR-01 is a quarantine location: resaleable units go to a storage" in (
            _text(app, "#message")
        )
        await _type(pilot, "PACK-01")
        assert "PACK-01 is a pack location" in _text(app, "#message")
        await _type(pilot, "T0901")
        assert "T0901 is a tote code, not a location" in _text(app, "#message")
        assert returns_events(ctx) == []
        await _type(pilot, other)
        assert f"✓ {sku} resaleable → {other}" in _text(app, "#message")

    run(ctx, body)
    assert [e["to_location"] for e in returns_events(ctx)] == [other]


def test_an_item_the_parcel_did_not_ship_and_one_too_many_are_refused(ctx: AppContext) -> None:
    tracking, order = shipped_parcel(ctx)
    line = order.lines[0]
    with ctx.store.unit_of_work() as uow:
        stranger = next(
            s for s in ("SKU-00001", "SKU-00002", "SKU-00003") if s not in shipped_units(order)
        )
        stranger_gtin = uow.catalogue.sku(stranger).gtin

    async def body(pilot: Pilot[int], app: FloorApp) -> None:
        await _type(pilot, tracking)
        await _type(pilot, stranger_gtin)
        assert f"{stranger} was not shipped on order {order.order_id}" in _text(app, "#message")
        for _ in range(line.packed):
            await _type(pilot, gtin(ctx, line.sku))
            await _type(pilot, "2")
            await _type(pilot, "QUAR-01")
        await _type(pilot, gtin(ctx, line.sku))
        assert (
            f"{line.packed} x {line.sku} were shipped on order {order.order_id} and "
            f"{line.packed} came back already: 1 more is more than was sent"
        ) in _text(app, "#message")

    run(ctx, body)
    assert len(returns_events(ctx)) == line.packed


def test_codes_that_are_no_parcel_and_orders_not_shipped_are_refused(ctx: AppContext) -> None:
    with ctx.store.unit_of_work() as uow:
        held = uow.totes.get("T0901")
    assert held is not None
    not_shipped = held.order_id

    async def body(pilot: Pilot[int], app: FloorApp) -> None:
        await _type(pilot, "A01-01-1A")
        assert "A01-01-1A is a location code, not a parcel's tracking number" in _text(
            app, "#message"
        )
        await _type(pilot, str(not_shipped))
        assert f"order {not_shipped} is picked: only a parcel that left packing" in _text(
            app, "#message"
        )
        assert "Scan the parcel's tracking label" in _text(app, "#prompt")

    run(ctx, body)
    assert returns_events(ctx) == []


def test_a_parcel_not_on_this_device_is_received_for_the_hub_to_check(ctx: AppContext) -> None:
    _tracking, order = shipped_parcel(ctx)
    sku = order.lines[0].sku

    async def body(pilot: Pilot[int], app: FloorApp) -> None:
        await _type(pilot, "SO-999999")
        assert "SO-999999 is not on this device" in _text(app, "#message")
        assert "the hub checks each item" in _text(app, "#parcel")
        await _type(pilot, gtin(ctx, sku))
        await _type(pilot, "3")
        await _type(pilot, "QUAR-01")
        assert f"✓ {sku} wrong item → QUAR-01" in _text(app, "#message")
        reason = "order SO-999999 is not known to the hub: check the order id or tracking number"
        app.post_message(SyncNotice("rejected", reason))
        await pilot.pause()
        assert f"The hub rejected it: {reason}" in _text(app, "#message")

    run(ctx, body)
    assert [(e["order"], e["grade"]) for e in returns_events(ctx)] == [("SO-999999", "wrong_item")]


def test_the_returns_desk_speaks_chinese(ctx: AppContext) -> None:
    tracking, order = shipped_parcel(ctx)

    async def body(pilot: Pilot[int], app: FloorApp) -> None:
        assert "退货台" in _text(app, "#returns-title")
        await _type(pilot, tracking)
        await _type(pilot, gtin(ctx, order.lines[0].sku))
        assert "1 可再售 · 2 损坏 · 3 错货" in _text(app, "#prompt")
        await _type(pilot, "9")
        assert "9 不是等级" in _text(app, "#message")

    run(ctx, body, badge="B2002")  # 李伟, a packer who reads Chinese
