"""The pack station end to end: a real store, a fake scale, printer and scanner."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import context_from_seed, devices_settled
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from device_drivers.base import LabelError, LabelRenderer, RenderedLabel
from device_drivers.fakes import FakePrinter, FakeScale, FakeScanner
from device_drivers.label_renderer import ShippingLabelRenderer
from floor_app.bootstrap import build_context
from floor_app.context import AppContext
from floor_app.demo import DEMO_SENDER
from floor_app.domain.labelling import ParcelFacts
from floor_app.domain.order import Order, OrderState
from floor_app.domain.packing import LabelJob, LabelState
from floor_app.domain.totes import ToteState
from floor_app.services.labels import LabelService
from floor_app.settings import load_settings
from floor_app.ui.app import FloorApp
from floor_app.ui.screens.packer_home import PackerHomeScreen

pytestmark = pytest.mark.tui


def _text(app: FloorApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


class RefusingRenderer(LabelRenderer):
    """A label renderer that cannot make a label (as on a device without a font)."""

    def render(self, job: LabelJob, order: Order, parcel: ParcelFacts) -> RenderedLabel:
        raise LabelError("no font for this address")


class Station:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.scale = FakeScale()
        self.printer = FakePrinter()
        self.scanner = FakeScanner("scanner")
        for device in (self.scale, self.printer, self.scanner):
            device.start()
        ctx.devices.scale, ctx.devices.printer = self.scale, self.printer
        ctx.devices.scanners.append(self.scanner)
        ctx.labels = LabelService(
            ctx.store,
            self.printer,
            ctx.settings.db_path.parent / "spool",
            ShippingLabelRenderer(),
            sender=DEMO_SENDER,
        )


@pytest.fixture
def station(seeded_store: Path, tmp_path: Path) -> Station:
    return Station(context_from_seed(seeded_store, tmp_path))


async def _settle(pilot: Pilot[int], app: FloorApp) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def _verify_all(pilot: Pilot[int], st: Station, app: FloorApp) -> None:
    screen = app.screen
    assert isinstance(screen, PackerHomeScreen) and screen.view is not None
    view = screen.view
    for sku, qty in view.session.expected.items():
        for _ in range(qty):
            st.scanner.scan(view.skus[sku].gtin)
            await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (40, 16)])
def test_tote_to_labelled_parcel_with_scans_alone(station: Station, size: tuple[int, int]) -> None:
    ctx = station.ctx

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=size) as pilot:
            await pilot.press(*"B2001", "enter")
            await pilot.pause()
            station.scanner.scan("T0901")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, PackerHomeScreen) and screen.view is not None
            order_id = screen.view.order.order_id
            station.scale.place(
                screen.view.items_weight_g
                + (screen.view.suggested.tare_g if screen.view.suggested else 0),
                "g",
            )
            await _verify_all(pilot, station, app)
            await _settle(pilot, app)  # the scale is read, the label printed
            assert len(station.printer.printed) == 1
            job = station.printer.printed[0]
            assert b"^XA" in job.data and job.description.startswith("TRK")
            assert "Scan the printed label" in _text(app, "#prompt")
            assert job.description in _text(app, "#label-preview")
            station.scanner.scan(job.description)
            await pilot.pause()
            assert f"Order {order_id} packed and labelled" in _text(app, "#message")
        with ctx.store.unit_of_work() as uow:
            assert uow.orders.get(order_id).state is OrderState.LABELLED
            labels = uow.packs.labels_for(order_id)
            tote = uow.totes.get("T0901")
        assert [j.state for j in labels] == [LabelState.CONFIRMED]
        assert tote is not None and tote.state is ToteState.FREE  # packing released it
        records = ctx.store.pending()
        types = [r.type for r in records]
        assert types[-4:] == ["pack.completed", "tote.released", "label.printed", "label.confirmed"]
        released = next(r for r in records if r.type == "tote.released")
        assert released.payload == {
            "tote": "T0901",
            "order": order_id,
            "station": "PACK-01",
            "user": "ben",
        }
        printed = next(r for r in records if r.type == "label.printed")
        assert printed.event_id == labels[0].job_id  # keyed by the job: never twice

    asyncio.run(scenario())
    ctx.close()


@pytest.mark.parametrize("size", [(80, 24), (40, 16)])
def test_weight_off_needs_a_supervisors_badge_and_reason(
    station: Station, size: tuple[int, int]
) -> None:
    ctx = station.ctx

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=size) as pilot:
            await pilot.press(*"B2001", "enter", *"T0902", "enter")
            await pilot.pause()
            station.scale.place(5, "g")
            await _verify_all(pilot, station, app)
            await _settle(pilot, app)
            assert "Weight 5 g, expected" in _text(app, "#message")
            assert station.printer.printed == []
            await pilot.press("f7", *"B2001", "enter")  # a packer's own badge
            await _settle(pilot, app)
            assert "not an active supervisor" in _text(app, "#message")
            assert app.screen is not None and app.screen.id != "override-reason"
            await pilot.press("f7", *"B3001", "enter")  # a supervisor: asked why
            await _settle(pilot, app)
            assert app.screen.id == "override-reason"
            assert "grace accepts 5 g" in _text(app, ".title")
            await pilot.press("escape")  # no reason given: nothing is accepted
            await _settle(pilot, app)
            assert station.printer.printed == []
            assert all(r.type != "pack.completed" for r in ctx.store.pending())
            await pilot.press("f7", *"B3001", "enter", "1")  # the scale is off
            await _settle(pilot, app)
            assert len(station.printer.printed) == 1
        event = next(r for r in ctx.store.pending() if r.type == "pack.completed")
        assert event.payload["weight_override_by"] == "grace"
        assert event.payload["weight_override_reason"] == "scale_fault"
        assert event.payload["weight_g"] == 5
        [decision] = ctx.supervisor.history() if ctx.supervisor else []
        assert (decision.decision.kind, decision.decision.reason) == (
            "accept_weight",
            "scale_fault",
        )

    asyncio.run(scenario())
    ctx.close()


def test_missing_item_holds_the_order_and_reprint_needs_a_reason(station: Station) -> None:
    ctx = station.ctx

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B2001", "enter", *"T0903", "enter")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, PackerHomeScreen) and screen.view is not None
            held_order = screen.view.order.order_id
            await pilot.press(*"4260123999994", "enter")  # a misread: bad check digit
            await pilot.pause()
            assert "wrong check digit" in _text(app, "#message")
            await pilot.press(*"4260123999995", "enter")  # an item this device does not know
            await pilot.pause()
            assert "no item with barcode" in _text(app, "#message")
            await pilot.press(*"CTN-L", "enter")
            await pilot.pause()
            assert "Carton CTN-L" in _text(app, "#message")
            await pilot.press("f4", "1")  # hold: item missing
            await pilot.pause()
            assert f"Order {held_order} is on hold" in _text(app, "#message")
            await pilot.press(*held_order, "enter")
            await pilot.pause()
            assert "on hold" in _text(app, "#message") and "supervisor" in _text(app, "#message")
            # a second parcel, printed, then reprinted
            await pilot.press(*"T0904", "enter")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, PackerHomeScreen) and screen.view is not None
            await _verify_all(pilot, station, app)
            await _settle(pilot, app)
            assert "No scale" not in _text(app, "#message")
            view = screen.view
            assert view is not None
            await pilot.press(*str(view.expected_weight_g), "enter")
            await _settle(pilot, app)
            assert len(station.printer.printed) == 1
            await pilot.press("f6", "escape")  # reprint asked, then no reason: nothing
            await _settle(pilot, app)
            assert len(station.printer.printed) == 1
            await pilot.press("f6", "1")  # smudged
            await _settle(pilot, app)
            assert len(station.printer.printed) == 2
            first, second = station.printer.printed
            assert first.job_id != second.job_id and first.description != second.description
        with ctx.store.unit_of_work() as uow:
            assert uow.orders.get(held_order).state is OrderState.HELD
        held = next(r for r in ctx.store.pending() if r.type == "order.held")
        assert held.kind == "claim" and "Item missing" in held.payload["reason"]
        reprint = [r for r in ctx.store.pending() if r.type == "label.printed"][-1]
        assert reprint.payload["reprint_reason"] == "Smudged"

    asyncio.run(scenario())
    ctx.close()


@pytest.mark.parametrize("size", [(80, 24), (40, 16)])
def test_the_packer_changes_the_carrier_with_a_reason_and_the_label_follows(
    station: Station, size: tuple[int, int]
) -> None:
    ctx = station.ctx

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=size) as pilot:
            await pilot.press(*"B2001", "enter")
            await pilot.pause()
            station.scanner.scan("T0901")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, PackerHomeScreen) and screen.view is not None
            view = screen.view
            order = view.order
            assert order.carrier_choice is not None
            shown = _text(app, "#carrier")
            assert (
                f"{order.carrier} {order.service}" in shown and order.carrier_choice.rule in shown
            )
            seen = order.version
            target = view.carrier_options[0]
            await pilot.press("f3")
            await pilot.pause()
            await pilot.press("escape")  # changed their mind: nothing happens
            await pilot.pause()
            assert all(r.type != "order.carrier_changed" for r in ctx.store.pending())
            await pilot.press("f3", "1", "2")  # the first service that fits; customer asked
            await pilot.pause()
            assert f"Ships with {target.name} now" in _text(app, "#message")
            assert target.name in _text(app, "#carrier")
            assert "changed by ben: Customer asked" in _text(app, "#carrier")
            station.scale.place(screen.view.expected_weight_g, "g")
            await _verify_all(pilot, station, app)
            await _settle(pilot, app)
            assert len(station.printer.printed) == 1
            qr = f"|{order.order_id}|{target.carrier}|{target.service}|"
            assert qr.encode() in station.printer.printed[0].data
            assert target.name in _text(app, "#label-preview")
            # once printed, a change prints the label again, naming the new service
            back = next(q for q in screen.view.carrier_options if q.name != target.name)
            await pilot.press("f3")
            await pilot.pause()
            options = app.screen.query_one("#reasons", OptionList)
            texts = [
                str(options.get_option_at_index(i).prompt) for i in range(options.option_count)
            ]
            number = next(i for i, text in enumerate(texts, 1) if back.name in text)
            await pilot.press(str(number), "1")  # parcel heavier or bigger
            await _settle(pilot, app)
            assert len(station.printer.printed) == 2
            assert f"|{order.order_id}|{back.carrier}|".encode() in station.printer.printed[1].data
        with ctx.store.unit_of_work() as uow:
            stored = uow.orders.get(order.order_id)
            jobs = uow.packs.labels_for(order.order_id)
        assert (stored.carrier, stored.service) == (back.carrier, back.service)
        assert stored.carrier_choice is not None and stored.carrier_choice.chosen_by == "ben"
        assert [j.state for j in jobs] == [LabelState.VOIDED, LabelState.PRINTED]
        changes = [r for r in ctx.store.pending() if r.type == "order.carrier_changed"]
        # each claim carries the version the station saw (weighing moved the order on)
        assert stored.version > seen
        assert [(r.kind, r.order_version) for r in changes] == [
            ("claim", seen),
            ("claim", stored.version),
        ]
        assert [r.payload["service"] for r in changes] == [target.service, back.service]
        assert changes[0].payload["reason"] == "Customer asked"
        reprint = [r for r in ctx.store.pending() if r.type == "label.printed"][-1]
        assert reprint.payload["carrier"] == back.carrier
        assert reprint.payload["reprint_reason"] == "carrier changed: Parcel heavier or bigger"

    asyncio.run(scenario())
    ctx.close()


def test_a_locked_store_is_shown_with_what_to_do_and_nothing_changes(
    seeded_store: Path, tmp_path: Path
) -> None:
    settings = load_settings(
        None,
        store={"data_dir": str(tmp_path), "busy_timeout_ms": 100},
        sync={"enabled": False},
        ui={"idle_lock_s": 0},
    )
    shutil.copy(seeded_store, settings.db_path)
    ctx = devices_settled(build_context(settings, demo=True))

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B2001", "enter")
            await pilot.pause()
            blocker = sqlite3.connect(settings.db_path, isolation_level=None)
            blocker.execute("BEGIN EXCLUSIVE")
            try:
                await pilot.press(*"T0901", "enter")
                await pilot.pause()
                message = _text(app, "#message")
                assert message.startswith("the local database is locked by another program")
                assert message.endswith(
                    "— close the other floor-app on this device, then try again"
                )
                screen = app.screen
                assert isinstance(screen, PackerHomeScreen) and screen.view is None
            finally:
                blocker.execute("ROLLBACK")
                blocker.close()
            await pilot.press(*"T0901", "enter")  # the same scan once the store answers
            await pilot.pause()
            assert screen.view is not None

    asyncio.run(scenario())
    ctx.close()


def test_a_scale_that_does_not_answer_and_a_label_that_cannot_be_made_are_said(
    station: Station,
) -> None:
    ctx = station.ctx
    ctx.labels = LabelService(
        ctx.store,
        station.printer,
        ctx.settings.db_path.parent / "spool",
        RefusingRenderer(),
        sender=DEMO_SENDER,
    )

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B2001", "enter", *"T0901", "enter")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, PackerHomeScreen) and screen.view is not None
            station.scale.unplug()
            await _verify_all(pilot, station, app)
            await _settle(pilot, app)
            message = _text(app, "#message")
            assert message.startswith("The scale did not answer: scale is disconnected")
            assert message.endswith("type the weight in grams")
            await pilot.press(*str(screen.view.expected_weight_g), "enter")
            await _settle(pilot, app)
            assert station.printer.printed == []
            message = _text(app, "#message")
            assert message.startswith("The label did not print: the label of SO-")
            assert "cannot be made: no font for this address" in message
            assert "Label (failed):" in _text(app, "#label-preview")

    asyncio.run(scenario())
    ctx.close()
