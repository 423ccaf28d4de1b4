"""The ZPL itself scans: rendered offline by zplkit (a ZPL renderer modelled on a Zebra
ZD621, a test-only dependency), every barcode decodes, the QR code reads back every field
of a carrier's label, and the rendering matches the PNG preview dot for dot outside the QR
code (whose mask the printer chooses itself), so the texts laid out are the texts printed."""

from __future__ import annotations

import io
from datetime import date

import numpy as np
import pytest
from PIL import Image

from device_drivers.decoding import build_decoder
from device_drivers.labels import ShippingLabel, read_qr_payload, render
from device_drivers.labels.layout import QrElement, TextElement, lay_out
from floor_app.demo import DEMO_SENDER, build_demo_site
from floor_app.domain.labelling import ParcelFacts
from floor_app.domain.order import Address
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
    parcel = ParcelFacts(sender=DEMO_SENDER, weight_g=1240, ship_date=date(2026, 11, 25))
    label = ShippingLabel.for_order(order, parcel, sscc="106141411234567897")
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


RETURNS = Address("Returns Centre", ("Dock 9",), "Leeds", "LS11 5AA", "GB", "+44 113 496 0999")


@pytest.mark.parametrize("country", ["CN", "GB"])
def test_every_field_of_the_label_is_printed_and_read_back(country: str) -> None:
    site = build_demo_site()
    order = next(o for o in site.orders if o.ship_to.country == country and o.ship_to.phone)
    parcel = ParcelFacts(
        sender=DEMO_SENDER,
        weight_g=2345,
        ship_date=date(2026, 11, 26),
        return_to=RETURNS,
        piece=1,
        pieces=1,
    )
    label = ShippingLabel.for_order(order, parcel, tracking="TRK0001000010011")
    printed = rendered_by_printer(render(label, png=False).zpl)
    reads = build_decoder("pipeline").decode(printed)
    assert {r.text for r in reads if r.symbology is Symbology.CODE128} == {"TRK0001000010011"}
    [qr] = [r.text for r in reads if r.symbology is Symbology.QR]
    fields = read_qr_payload(qr)
    choice = order.carrier_choice
    assert choice is not None and choice.sort_code
    to = order.ship_to
    assert fields["tracking"] == "TRK0001000010011" and fields["order"] == order.order_id
    assert (fields["carrier"], fields["service"]) == (order.carrier, order.service)
    assert (fields["sort"], fields["postcode"], fields["country"]) == (
        choice.sort_code,
        to.postcode,
        to.country,
    )
    assert (fields["weight_g"], fields["ship_date"], fields["piece"]) == (
        "2345",
        "2026-11-26",
        "1/1",
    )
    assert (fields["to_name"], fields["to_phone"]) == (to.name, to.phone)
    assert fields["to_lines"] == "; ".join(to.lines) and fields["to_city"].startswith(to.city)
    assert (fields["from_name"], fields["from_phone"], fields["from_postcode"]) == (
        DEMO_SENDER.name,
        DEMO_SENDER.phone,
        DEMO_SENDER.postcode,
    )
    assert fields["return_to"].startswith("Returns Centre, Dock 9")
    # and every field is printed as text a person reads
    texts = " ".join(e.text for e in lay_out(label).elements if isinstance(e, TextElement))
    for shown in (
        "FROM",
        DEMO_SENDER.name,
        "Tel +44 113 496 0000",
        "RETURN TO: Returns Centre",
        to.name,
        f"Tel {to.phone}",
        "2.35 kg",
        "2026-11-26",
        "1/1",
        choice.sort_code,
        order.service.upper(),
        f"ORDER {order.order_id}",
        "TRK0001000010011",
    ):
        assert shown in texts, shown
