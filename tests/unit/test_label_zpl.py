"""The ZPL of a shipping label: size, fields, escapes, and ^GF graphics that unpack to the
very bitmaps the preview shows."""

from __future__ import annotations

import re

import numpy as np
import pytest
from test_label_content import order, parcel

from device_drivers.labels import LabelError, ShippingLabel, lay_out, render
from device_drivers.labels.layout import Code128Element, TextElement
from device_drivers.labels.symbols import GS, Code128Symbol, code128_text
from device_drivers.labels.zpl import (
    code128_fields,
    compress_rows,
    field_hex_escaped,
    repeat_count,
    to_zpl,
)

pytestmark = pytest.mark.unit


def unpack_graphic(data: str, per_row: int, rows: int) -> np.ndarray:
    """Expand ZPL ASCII-compressed ^GF data (the printer's side of compress_rows)."""
    out: list[str] = []
    row = ""
    previous = ""
    count = 0
    for ch in data:
        if "G" <= ch <= "Y":
            count += ord(ch) - ord("G") + 1
        elif "g" <= ch <= "z":
            count += (ord(ch) - ord("g") + 1) * 20
        elif ch == ",":
            row = row.ljust(per_row * 2, "0")
        elif ch == "!":
            row = row.ljust(per_row * 2, "F")
        elif ch == ":":
            row = previous
        else:
            row += ch * (count or 1)
            count = 0
        if len(row) == per_row * 2:
            out.append(row)
            previous, row = row, ""
    assert len(out) == rows, f"{len(out)} rows, expected {rows}"
    packed = np.array([[int(r[i : i + 2], 16) for i in range(0, len(r), 2)] for r in out])
    return np.unpackbits(packed.astype(np.uint8), axis=1).astype(bool)


def test_label_size_and_encoding() -> None:
    zpl = render(ShippingLabel.for_order(order(), parcel()), png=False).zpl.decode("utf-8")
    assert zpl.startswith("^XA\n^CI28\n^PW812\n^LL1218\n")
    assert zpl.rstrip().endswith("^XZ")
    zpl300 = render(ShippingLabel.for_order(order(), parcel()), dpi=300, png=False).zpl.decode()
    assert "^PW1200" in zpl300 and "^LL1800" in zpl300  # 4 x 6 in at 300 dpi


def test_chinese_goes_as_graphics_not_as_text() -> None:
    zpl = render(ShippingLabel.for_order(order(), parcel()), png=False).zpl.decode("utf-8")
    # only the QR code's data (UTF-8, ^CI28) holds the address as characters
    printed = re.sub(r"\^FH\^FDQA,[^\^]*\^FS", "", zpl)
    assert re.search(r"[\u4e00-\u9fff]", zpl) and not re.search(r"[\u4e00-\u9fff]", printed)
    assert zpl.count("^GFA,") >= 8


def test_qr_field_has_error_level_and_mode_before_the_data() -> None:
    label = ShippingLabel.for_order(order(), parcel())
    zpl = render(label, png=False).zpl.decode("utf-8")
    assert "^BQN,2," in zpl
    assert f"^FH^FDQA,{label.qr_payload}^FS" in zpl
    # the QR origin is exact only with a one-dot ^BY height right before it
    assert re.search(r"\^BY2,3,1\^FO\d+,\d+\^BQN", zpl)


def test_code128_sends_the_exact_code_values() -> None:
    label = ShippingLabel.for_order(order(), parcel(), sscc="106141411234567897")
    zpl = render(label, png=False).zpl.decode("utf-8")
    assert f"^FD{Code128Symbol.encode(label.tracking).zpl_data()}^FS" in zpl
    assert "^FD>;>800106141411234567897^FS" in zpl  # start C, FNC1, then digit pairs
    assert ">:TRK>5" in Code128Symbol.encode("TRK0001000010006").zpl_data()


def test_the_code128_fields_read_back_as_the_text_encoded() -> None:
    label = ShippingLabel.for_order(order(), parcel(), sscc="106141411234567897")
    zpl = render(label, png=False).zpl
    # the tracking number and the SSCC (GS1-128: its leading FNC1 is not text)
    assert code128_fields(zpl) == [label.tracking, "00106141411234567897"]
    for text in ("TRK0001000010006", "ABC123", "12345678", "A1B2C3D4", "x", "0"):
        assert code128_text(Code128Symbol.encode(text).zpl_data()) == text
    assert code128_text(">;>80112345678901231>810>6ABC") == f"0112345678901231{GS}10ABC"
    # a field without invocation codes is its own text; a ^BY before ^BC is allowed
    assert code128_fields(b"^FO40,40^BY3^BCN,160,Y,N,N^FDTRK1^FS^FO1,1^GB1,1,1^FS") == ["TRK1"]


@pytest.mark.parametrize("field", [">5123", ">;12>;1", ">;1A"])
def test_a_code128_field_subset_c_cannot_hold_is_refused(field: str) -> None:
    with pytest.raises(LabelError):
        code128_text(field)


def test_graphics_unpack_to_the_preview_bitmaps() -> None:
    layout = lay_out(ShippingLabel.for_order(order(), parcel()))
    zpl = to_zpl(layout).decode("utf-8")
    fields = re.findall(r"\^FO(\d+),(\d+)\^GFA,(\d+),\d+,(\d+),([^\^]*)\^FS", zpl)
    texts = [e for e in layout.elements if isinstance(e, TextElement)]
    assert len(fields) == len(texts)
    for (x, y, total, per_row, data), element in zip(fields, texts, strict=True):
        assert (int(x), int(y)) == (element.x, element.y)
        rows = int(total) // int(per_row)
        dots = unpack_graphic(data, int(per_row), rows)
        width = element.bitmap.shape[1]
        assert np.array_equal(dots[:, :width], element.bitmap)
        assert not dots[:, width:].any()


def test_compression_round_trip_on_awkward_rows() -> None:
    rng = np.random.default_rng(5)
    bitmap = rng.random((40, 203)) < 0.5
    bitmap[10:14] = False  # blank rows
    bitmap[20:23] = True  # full rows
    bitmap[30, :150] = True  # a long run, then blank
    packed = np.packbits(bitmap.astype(np.uint8), axis=1)
    dots = unpack_graphic(compress_rows(packed), packed.shape[1], 40)
    assert np.array_equal(dots[:, :203], bitmap)


def test_repeat_counts() -> None:
    assert repeat_count(1) == "G"
    assert repeat_count(19) == "Y"
    assert repeat_count(20) == "g"
    assert repeat_count(45) == "hK"
    assert repeat_count(400) == "z"
    assert repeat_count(401) == "zG"


def test_field_escapes() -> None:
    assert field_hex_escaped("A^B~C_D\x1dE") == "A_5EB_7EC_5FD_1DE"
    assert field_hex_escaped("上海") == "上海"


def test_barcodes_fit_with_quiet_zones() -> None:
    layout = lay_out(ShippingLabel.for_order(order(), parcel(), sscc="106141411234567897"))
    for element in layout.elements:
        if isinstance(element, Code128Element):
            assert element.x >= 10 * element.module
            assert element.x + element.width + 10 * element.module <= layout.width
