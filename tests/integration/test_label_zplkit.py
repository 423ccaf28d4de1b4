"""The ZPL itself scans: rendered offline by zplkit (a ZPL renderer modelled on a Zebra
ZD621, a test-only dependency), every barcode decodes, and the rendering matches the PNG
preview dot for dot outside the QR code (whose mask the printer chooses itself)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from device_drivers.decoding import build_decoder
from device_drivers.labels import ShippingLabel, render
from device_drivers.labels.layout import QrElement, lay_out
from floor_app.demo import build_demo_site
from floor_app.domain.symbology import Symbology

zplkit = pytest.importorskip("zplkit", reason="zplkit (dev dependency) renders ZPL offline")

pytestmark = pytest.mark.integration


def rendered_by_printer(zpl: bytes) -> np.ndarray:
    document = zplkit.render(zpl, zplkit.Options(dpi=203, width=812, height=1218))
    assert document.warnings == []
    [page] = document.labels
    return np.asarray(Image.open(io.BytesIO(page.png())).convert("L"))


@pytest.mark.parametrize("country", ["CN", "GB"])
def test_the_zpl_of_a_demo_label_scans_and_matches_the_preview(country: str) -> None:
    site = build_demo_site()
    order = next(o for o in site.orders if o.ship_to.country == country)
    label = ShippingLabel.for_order(order, sscc="106141411234567897")
    result = render(label)
    assert result.png is not None
    printed = rendered_by_printer(result.zpl)
    reads = {(r.symbology, r.text) for r in build_decoder("pipeline").decode(printed)}
    assert reads == {
        (Symbology.CODE128, label.tracking),
        (Symbology.QR, label.qr_payload),
        (Symbology.GS1_128, "00106141411234567897"),
    }
    preview = np.asarray(Image.open(io.BytesIO(result.png)).convert("L"))
    assert printed.shape == preview.shape == (1218, 812)
    differs = (printed < 128) != (preview < 128)
    [qr] = [e for e in lay_out(label).elements if isinstance(e, QrElement)]
    differs[qr.y : qr.y + qr.size, qr.x : qr.x + qr.size] = False
    assert not differs.any(), f"{int(differs.sum())} dots differ outside the QR code"
