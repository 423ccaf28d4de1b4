"""The packing slip at the pack station: the order the hub sent with the lots and serials
picked for it, F10 on the parcel in hand, a real PDF (fpdf2) read back with pypdf, kept in
the station's spool folder or printed on a CUPS queue (a fake ``lp`` on PATH that records
what it is given); a queue that refuses it is said on the screen, the PDF kept."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from conftest import context_from_seed
from pilot_steps import text_of
from pypdf import PdfReader

from device_drivers.documents import PdfDocuments
from floor_app.context import AppContext
from floor_app.domain.errors import DomainError
from floor_app.domain.order import OrderState, TracedUnits
from floor_app.services.documents import DocumentService
from floor_app.ui.app import FloorApp
from floor_app.ui.screens.packer_home import PackerHomeScreen
from sync.device.push_apply import PushApplier
from sync.protocol import OrderModel, OrderSnapshot, PushMessage

pytestmark = pytest.mark.tui


def text_of_pdf(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def give_lots(ctx: AppContext, order_id: str) -> list[str]:
    """The hub's snapshot of the picked order, with a lot and two serials: the SKUs."""
    with ctx.store.unit_of_work() as uow:
        order = uow.orders.get(order_id)
    lines = order.lines
    order.traced = [TracedUnits(lines[0].line_no, lot="L2412C", qty=lines[0].picked or 1)]
    if len(lines) > 1:
        order.traced += [
            TracedUnits(lines[1].line_no, serial="SN-7001"),
            TracedUnits(lines[1].line_no, serial="SN-7002"),
        ]
    order.version += 1
    cursor = int(ctx.store.meta("push_cursor", "0") or "0") + 1
    item = OrderSnapshot(order=OrderModel.from_domain(order))
    assert (
        PushApplier(ctx.store)
        .apply(PushMessage(device_id=ctx.store.device_id, cursor=cursor, item=item))
        .applied
    )
    return [ln.sku for ln in lines]


def test_f10_prints_the_slip_of_the_parcel_in_hand(seeded_store: Path, tmp_path: Path) -> None:
    ctx = context_from_seed(seeded_store, tmp_path, bell=False)

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B2001", "enter")
            await pilot.pause()
            await pilot.press("f10")  # no parcel yet
            await pilot.pause()
            assert "Open a parcel first" in text_of(app, "#message")
            await pilot.press(*"T0901", "enter")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, PackerHomeScreen) and screen.view is not None
            order_id = screen.view.order.order_id
            skus = give_lots(ctx, order_id)
            await pilot.press("f10")
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            message = text_of(app, "#message")
            assert f"Packing slip of {order_id}:" in message
            assert f"slip-{order_id}.pdf" in message
            path = ctx.settings.db_path.parent / "spool" / "documents" / f"slip-{order_id}.pdf"
            text = text_of_pdf(path)
            assert f"Packing slip  {order_id}" in text and "lot L2412C" in text
            assert all(sku in text for sku in skus)
            if len(skus) > 1:
                assert "serials SN-7001, SN-7002" in text

    asyncio.run(scenario())
    ctx.close()


def fake_lp(bin_dir: Path, exit_code: int = 0) -> Path:
    bin_dir.mkdir()
    record = bin_dir / "calls"
    lp = bin_dir / "lp"
    lp.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {record}\n'
        f"if [ {exit_code} -ne 0 ]; then echo 'lp: printer not found' >&2; exit {exit_code}; fi\n"
        "echo 'request id is a4-1 (1 file(s))'\n"
    )
    lp.chmod(0o755)
    return record


def test_a_cups_queue_gets_the_pdf_and_a_refusal_keeps_it(
    seeded_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = context_from_seed(seeded_store, tmp_path, bell=False)
    record = fake_lp(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with ctx.store.unit_of_work() as uow:
        order_id = uow.orders.by_state(OrderState.PICKED)[0]  # staged at the station
    spool = tmp_path / "slips"
    service = DocumentService(ctx.store, PdfDocuments(spool, "a4"), None)
    where = service.print_packing_slip(order_id)
    assert where.startswith("a4 (") and (spool / f"slip-{order_id}.pdf").is_file()
    call = record.read_text().split()
    assert call[:2] == ["-d", "a4"] and call[-1].endswith(f"slip-{order_id}.pdf")
    refusing = fake_lp(tmp_path / "bin2", exit_code=1)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin2'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(DomainError) as refused:
        service.print_packing_slip(order_id)
    assert "a4 refused the document: lp: printer not found; kept as" in refused.value.reason
    assert refusing.read_text()
    ctx.close()
