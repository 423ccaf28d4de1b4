"""The label service makes labels only through the renderer it is handed; a label that
cannot be made is a failed print with the reason, and demo mode prints into a spool folder
through the one spool printer of device_drivers.printer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from device_drivers.base import LabelError, LabelRenderer, PrinterState, RenderedLabel
from device_drivers.label_renderer import ShippingLabelRenderer
from device_drivers.labels import render_shipping_label
from floor_app.bootstrap import build_context
from floor_app.context import AppContext
from floor_app.domain.labelling import ParcelFacts
from floor_app.domain.order import Order
from floor_app.domain.packing import LabelJob, LabelState
from floor_app.services.errors import LabelNotMade
from floor_app.services.labels import LabelService
from floor_app.settings import load_settings

pytestmark = pytest.mark.integration


class RefusingRenderer(LabelRenderer):
    """A renderer that cannot make any label (as one without a font)."""

    def render(self, job: LabelJob, order: Order, parcel: ParcelFacts) -> RenderedLabel:
        raise LabelError("no font with Chinese glyphs found for labels")


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    settings = load_settings(None, store={"data_dir": str(tmp_path)}, sync={"enabled": False})
    ctx = build_context(settings, demo=True)
    yield ctx
    ctx.close()


def _packed(ctx: AppContext) -> tuple[LabelJob, Order]:
    """A demo parcel verified and weighed: its label job and order."""
    view = ctx.packing.open("T0901")
    for sku, qty in view.session.expected.items():
        for _ in range(qty):
            view, _ = ctx.packing.verify(view.session.session_id, view.skus[sku].gtin)
    view = ctx.packing.weigh(view.session.session_id, view.expected_weight_g, "ben")
    return ctx.labels.request(view.order.order_id), view.order


def test_a_label_that_cannot_be_made_is_a_failed_print_with_the_reason(ctx: AppContext) -> None:
    job, _ = _packed(ctx)
    refusing = LabelService(
        ctx.store,
        ctx.devices.printer,
        ctx.labels.spool,
        RefusingRenderer(),
        sender=ctx.labels.sender,
    )
    with pytest.raises(LabelNotMade, match="cannot be made: no font"):
        refusing.document(job)
    assert any(line.endswith(job.tracking) for line in refusing.lines(job))  # no rendering
    stored, result = refusing.print(job, "ben")
    assert not result.printed and "no font with Chinese glyphs" in result.error
    assert stored.state is LabelState.FAILED and "no font" in stored.last_error
    assert all(r.type != "label.printed" for r in ctx.store.pending())
    stored, result = ctx.labels.print(job, "ben")  # the same job, with the station's renderer
    assert result.printed and stored.state is LabelState.PRINTED


def test_demo_labels_are_files_in_the_spool_folder_made_by_the_renderer(ctx: AppContext) -> None:
    printer = ctx.devices.printer
    assert printer is not None and printer.name == "spool"
    job, order = _packed(ctx)
    stored, result = ctx.labels.print(job, "ben")
    assert result.printed and stored.state is LabelState.PRINTED
    folder = ctx.settings.db_path.parent / "spool" / "printer"
    spooled = (folder / f"{job.job_id}.zpl").read_bytes()
    _, parcel = ctx.labels.facts(stored)
    assert spooled == render_shipping_label(job=job, order=order, parcel=parcel).zpl
    assert spooled == ShippingLabelRenderer().render(job, order, parcel).zpl
    assert printer.state is PrinterState.READY
    _, again = ctx.labels.print(stored, "ben")
    assert again.printed and again.duplicate  # a job id is written once
