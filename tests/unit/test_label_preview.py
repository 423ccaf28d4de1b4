"""The PNG preview of a label scans: its barcodes decode back to the tracking number, the QR
content and the SSCC; the label service's renderer uses this rendering."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from test_label_content import order, parcel

from device_drivers.decoding import build_decoder
from device_drivers.label_renderer import ShippingLabelRenderer
from device_drivers.labels import ShippingLabel, render, render_shipping_label
from floor_app.domain.codes import CodeKind, classify
from floor_app.domain.packing import LabelJob
from floor_app.domain.symbology import Symbology

pytestmark = pytest.mark.unit


def picture(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png))


@pytest.mark.parametrize("backend", ["zxingcpp", "pyzbar", "pipeline"])
def test_preview_decodes_to_tracking_qr_and_sscc(backend: str) -> None:
    label = ShippingLabel.for_order(order(), parcel(), sscc="106141411234567897")
    rendered = render(label)
    assert rendered.png is not None
    image = picture(rendered.png)
    assert image.size == (812, 1218)
    assert tuple(round(v) for v in image.info["dpi"]) == (203, 203)
    reads = {(r.symbology, r.text) for r in build_decoder(backend).decode(image)}
    assert (Symbology.CODE128, label.tracking) in reads
    assert (Symbology.QR, label.qr_payload) in reads
    assert (Symbology.GS1_128, "00106141411234567897") in reads
    assert len(reads) == 3


def test_the_scanned_tracking_number_is_a_tracking_code() -> None:
    label = ShippingLabel.for_order(order(), parcel())
    rendered = render(label)
    assert rendered.png is not None
    [tracking] = [
        r
        for r in build_decoder("pipeline").decode(picture(rendered.png))
        if r.symbology is Symbology.CODE128
    ]
    assert classify(tracking.text).kind is CodeKind.TRACKING


def test_chinese_address_is_drawn() -> None:
    rendered = render(ShippingLabel.for_order(order(), parcel()))
    assert rendered.png is not None
    dots = np.asarray(picture(rendered.png).convert("L")) < 128
    address = dots[330:584, 24:788]
    assert address.mean() > 0.03  # six lines of text, not an empty box


def test_the_label_services_renderer_renders_through_this_module() -> None:
    o = order()
    job = LabelJob(job_id="01JOB", order_id=o.order_id, tracking="TRK0000420000004", carrier="DHL")
    rendered = ShippingLabelRenderer().render(job, o, parcel())
    assert rendered.png is not None
    assert rendered.zpl == render_shipping_label(job=job, order=o, parcel=parcel()).zpl
    reads = {r.text for r in build_decoder("zxingcpp").decode(picture(rendered.png))}
    assert "TRK0000420000004" in reads
