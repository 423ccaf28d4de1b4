"""Receiving end to end on the device: a notice pushed into a real store, opened from the
picker's home (F6) by its reference, counted by scans (a typed number corrects the last
count, F7 counts damaged units into quarantine, F8 takes the last count back), closed with
the reason of the variance; a blind receipt; bad scans refused with the reason and nothing
recorded. At 80x24 and 40x16, in English and Chinese."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from conftest import context_from_seed
from pilot_steps import text_of, type_scan

from floor_app.context import AppContext
from floor_app.domain.codes import classify
from floor_app.domain.receiving import Condition
from floor_app.ui.app import FloorApp
from floor_app.ui.screens.picker_home import PickerHomeScreen
from floor_app.ui.screens.receiving import ReceivingScreen, VarianceReasonScreen
from sync.device.push_apply import PushApplier
from sync.device.rejections import take_back_rejected
from sync.protocol import LocationModel, PushMessage, ReceiptLineModel, ReceiptNotice

pytestmark = pytest.mark.tui

GTIN_1 = "4260123000011"  # SKU-00001
GTIN_2 = "4260123000028"  # SKU-00002
SSCC = "003506032100000017"


def notice(state: str = "expected") -> ReceiptNotice:
    return ReceiptNotice(
        receipt_id="R-000007",
        reference="ASN-7001",
        supplier="Acme Tools",
        dock="DOCK-01",
        state=state,  # type: ignore[arg-type]
        lines=[
            ReceiptLineModel(line_no=1, sku="SKU-00001", expected=10, sscc=SSCC),
            ReceiptLineModel(line_no=2, sku="SKU-00002", expected=5, sscc=SSCC),
        ],
    )


def push(ctx: AppContext, *items: Any) -> None:
    applier = PushApplier(ctx.store)
    for item in items:
        cursor = int(ctx.store.meta("push_cursor", "0") or "0") + 1
        assert applier.apply(PushMessage(device_id=ctx.store.device_id, cursor=cursor, item=item))


@pytest.fixture
def ctx(seeded_store: Path, tmp_path: Path) -> AppContext:
    ctx = context_from_seed(seeded_store, tmp_path, bell=False)
    push(ctx, notice())
    return ctx


def events(ctx: AppContext, kind: str) -> list[dict[str, Any]]:
    return [dict(r.payload) for r in ctx.store.pending() if r.type == kind]


async def open_receiving(pilot: Any, badge: str = "B1001") -> None:
    await pilot.press(*badge, "enter")
    await pilot.pause()
    await pilot.press("f6")
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (40, 16)])
def test_a_notice_counted_with_a_damaged_unit_and_closed(
    ctx: AppContext, size: tuple[int, int]
) -> None:
    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=size) as pilot:
            await open_receiving(pilot)
            assert isinstance(app.screen, ReceivingScreen)
            assert "Dock DOCK-01" in text_of(app, "#where")
            await type_scan(pilot, "ASN-7001")
            assert "ASN-7001" in text_of(app, "#receiving-title")
            await type_scan(pilot, SSCC)  # the pallet
            assert SSCC in text_of(app, "#where")
            await type_scan(pilot, GTIN_1)
            assert "+1 SKU-00001" in text_of(app, "#message")
            await type_scan(pilot, "10")  # that scan was the whole case of 10
            assert "+10 SKU-00001" in text_of(app, "#message")
            for _ in range(4):
                await type_scan(pilot, GTIN_2)
            await pilot.press("f7")  # damaged units from now on
            await pilot.pause()
            assert "DAMAGED" in text_of(app, "#where")
            await type_scan(pilot, GTIN_2)
            assert "damaged, to quarantine" in text_of(app, "#message")
            await pilot.press("f7")
            await pilot.pause()
            await type_scan(pilot, GTIN_1)  # one too many ...
            await pilot.press("f8")  # ... taken back
            await pilot.pause()
            assert "Took back 1 SKU-00001" in text_of(app, "#message")
            await pilot.press("f6")
            await pilot.pause()
            assert isinstance(app.screen, VarianceReasonScreen)  # SKU-00002: 4 good of 5
            await pilot.press("3")  # damaged in transit
            await pilot.pause()
            assert isinstance(app.screen, ReceivingScreen)
            assert "ASN-7001 closed: 14 good units to put away, 1 damaged" in text_of(
                app, "#message"
            )
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen)
        counted = [
            (e["sku"], e["qty"], e["condition"], e["location"], e["sscc"])
            for e in events(ctx, "receipt.counted")
        ]
        assert counted == [
            ("SKU-00001", 1, "good", "DOCK-01", SSCC),
            ("SKU-00001", 9, "good", "DOCK-01", SSCC),
            *[("SKU-00002", 1, "good", "DOCK-01", SSCC)] * 4,
            ("SKU-00002", 1, "damaged", "QUAR-01", SSCC),
            ("SKU-00001", 1, "good", "DOCK-01", SSCC),
            ("SKU-00001", -1, "good", "DOCK-01", SSCC),
        ]
        assert {e["receipt"] for e in events(ctx, "receipt.counted")} == {"R-000007"}
        (variance,) = events(ctx, "receipt.variance")
        assert (variance["sku"], variance["expected"], variance["received"]) == ("SKU-00002", 5, 4)
        assert variance["reason"] == "damaged"
        assert [e["receipt"] for e in events(ctx, "receipt.closed")] == ["R-000007"]
        assert ctx.receiving.open_receipts() == []

    asyncio.run(scenario())


def test_a_blind_receipt_and_bad_scans(ctx: AppContext) -> None:
    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_receiving(pilot)
            await type_scan(pilot, "ASN-NOPE")
            assert "ASN-NOPE: no open notice" in text_of(app, "#message")
            await type_scan(pilot, "A01-01-2A")
            assert "A01-01-2A is a pick location: goods are received at a dock" in text_of(
                app, "#message"
            )
            await pilot.press("f5")
            await pilot.pause()
            assert "delivery note" in text_of(app, "#prompt")
            await type_scan(pilot, "DN-55120")
            assert "DN-55120" in text_of(app, "#receiving-title")
            await type_scan(pilot, "WRONG-1")
            assert "neither a quantity nor a barcode" in text_of(app, "#message")
            await type_scan(pilot, "T0001")
            assert "not an item" in text_of(app, "#message")
            await type_scan(pilot, "12")
            assert "scan the goods first" in text_of(app, "#message")
            await type_scan(pilot, GTIN_2)
            await type_scan(pilot, "12")
            await pilot.press("f6")  # a blind receipt has no variances to explain
            await pilot.pause()
            assert "DN-55120 closed: 12 good units" in text_of(app, "#message")
        counted = events(ctx, "receipt.counted")
        assert [(e["reference"], e["sku"], e["qty"]) for e in counted] == [
            ("DN-55120", "SKU-00002", 1),
            ("DN-55120", "SKU-00002", 11),
        ]
        assert len(events(ctx, "receipt.closed")) == 1 and not events(ctx, "receipt.variance")

    asyncio.run(scenario())


def test_chinese_at_the_handheld_size(seeded_store: Path, tmp_path: Path) -> None:
    ctx = context_from_seed(seeded_store, tmp_path, bell=False)
    push(ctx, notice())

    async def scenario() -> None:
        app = FloorApp(ctx, language="zh")
        async with app.run_test(size=(40, 16)) as pilot:
            await open_receiving(pilot, "B1002")  # wangfang works in Chinese
            assert "月台 DOCK-01" in text_of(app, "#where")
            await type_scan(pilot, "ASN-7001")
            await type_scan(pilot, GTIN_2)
            await pilot.press("f6")
            await pilot.pause()
            assert isinstance(app.screen, VarianceReasonScreen)
            await pilot.press("escape")
            await pilot.pause()
            assert "未结束" in text_of(app, "#message")

    asyncio.run(scenario())


def test_a_notice_closed_elsewhere_is_no_longer_offered(ctx: AppContext) -> None:
    assert [r.reference for r in ctx.receiving.open_receipts()] == ["ASN-7001"]
    push(ctx, notice("closed"))
    assert ctx.receiving.open_receipts() == []


def test_a_count_the_hub_refused_is_taken_back_once(ctx: AppContext) -> None:
    service = ctx.receiving
    (found,) = service.open_receipts()
    code = classify(GTIN_1)
    counted = service.read(code, Condition.GOOD)
    receipt, event = service.count(
        found.receipt_id, counted, Condition.GOOD, dock="DOCK-01", user="alice"
    )
    service.count(found.receipt_id, counted, Condition.GOOD, dock="DOCK-01", user="alice")
    assert receipt.lines[0].received == 1
    note = take_back_rejected(ctx.store, event.seq, "receipt R-000007 is closed")
    assert "taken back" in note
    assert take_back_rejected(ctx.store, event.seq, "again") == ""  # once only
    assert service.receipt(found.receipt_id).lines[0].received == 1  # 2 counted, 1 refused


def test_gs1_codes_count_their_units_and_bad_ones_are_refused_with_the_reason(
    ctx: AppContext,
) -> None:
    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_receiving(pilot)
            await type_scan(pilot, "DOCK-01")  # the only notice expected at this dock opens
            assert "ASN-7001" in text_of(app, "#receiving-title")
            await type_scan(pilot, "]d20204260123000011" + "3712")  # DataMatrix: 12 contained
            assert "+12 SKU-00001" in text_of(app, "#message")
            await type_scan(pilot, "]C10104260123000028" + "305")  # GS1-128, a count of 5
            assert "+5 SKU-00002" in text_of(app, "#message")
            for code, reason in (
                ("]C10104260123000012", "Invalid GTIN check digit"),
                ("]C10104260123000011" + "2312", "Failed to get GS1 Application Identifier"),
                ("]C10104260123000011" + "17300230", "date/time from '300230'"),  # 30 Feb
            ):
                await type_scan(pilot, code)
                assert reason in text_of(app, "#message"), code
        counted = [(e["sku"], e["qty"]) for e in events(ctx, "receipt.counted")]
        assert counted == [("SKU-00001", 12), ("SKU-00002", 5)]

    asyncio.run(scenario())


def test_a_take_back_after_moving_dock_goes_where_the_units_were_counted(
    ctx: AppContext,
) -> None:
    with ctx.store.unit_of_work() as uow:
        dock = LocationModel(
            code="DOCK-02",
            zone="S",
            aisle=0,
            bay=0,
            level=0,
            bin="",
            x=-4,
            y=18,
            kind="dock",
            side="",
        )
        uow.catalogue.put_locations([dock.model_dump()], ctx.settings.device.site)
        uow.commit()

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_receiving(pilot)
            await type_scan(pilot, "ASN-7001")
            await type_scan(pilot, GTIN_2)
            await type_scan(pilot, "DOCK-02")  # the clerk walks to the next dock ...
            assert "Receiving at DOCK-02" in text_of(app, "#message")
            await pilot.press("f8")  # ... and takes back the last count, made at DOCK-01
            await pilot.pause()
            await type_scan(pilot, GTIN_2)
        counted = [(e["qty"], e["location"]) for e in events(ctx, "receipt.counted")]
        assert counted == [(1, "DOCK-01"), (-1, "DOCK-01"), (1, "DOCK-02")]

    asyncio.run(scenario())
