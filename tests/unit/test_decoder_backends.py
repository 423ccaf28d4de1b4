"""Each decoder backend on generated barcode images: clean, rotated, blurred, low contrast,
noisy; GS1 content keeps its AIM identifier and group separators."""

from __future__ import annotations

import random

import numpy as np
import pytest
import segno
import zxingcpp
from PIL import Image

from bench.barcode_images import Degradation, degrade, symbol_image
from device_drivers.decoding import BACKENDS, build_decoder
from device_drivers.decoding.pipeline import PipelineDecoder
from device_drivers.decoding.zbar import ZbarDecoder
from device_drivers.decoding.zxing import ZxingDecoder
from floor_app.domain.symbology import Symbology

pytestmark = pytest.mark.unit

GS = "\x1d"

HARD = {
    "rotated": Degradation(module_px=3, angle_deg=12.0),
    "upside down": Degradation(module_px=3, angle_deg=190.0),
    "blurred": Degradation(module_px=3, blur_sigma=1.0),
    "low contrast": Degradation(module_px=3, contrast=0.3),
    "perspective": Degradation(module_px=3, perspective=0.06),
}
NOISY = Degradation(module_px=3, noise_sigma=14.0)
TURNED = Degradation(module_px=3, angle_deg=37.0)


def image(fmt: str, text: str, how: Degradation) -> np.ndarray:
    return degrade(symbol_image(fmt, text, how.module_px), how, random.Random(7))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fault", sorted(HARD))
def test_code128_survives_each_fault(backend: str, fault: str) -> None:
    reads = build_decoder(backend).decode(image("code128", "TRK0001000010006", HARD[fault]))
    assert [(r.text, r.symbology, r.aim) for r in reads] == [
        ("TRK0001000010006", Symbology.CODE128, "]C0")
    ]


def test_noisy_code128_zbar_misses_and_the_pipeline_still_reads() -> None:
    noisy = image("code128", "TRK0001000010006", NOISY)
    assert build_decoder("pyzbar").decode(noisy) == []
    assert [r.text for r in build_decoder("pipeline").decode(noisy)] == ["TRK0001000010006"]


@pytest.mark.parametrize("backend", ["zxingcpp", "pipeline"])
@pytest.mark.parametrize("fault", [*sorted(HARD), "noisy", "turned"])
def test_datamatrix_survives_each_fault(backend: str, fault: str) -> None:
    how = {"noisy": NOISY, "turned": TURNED}.get(fault) or HARD[fault]
    reads = build_decoder(backend).decode(image("datamatrix", "LOT7F3K29Q", how))
    assert [(r.text, r.symbology) for r in reads] == [("LOT7F3K29Q", Symbology.DATAMATRIX)]


def test_zbar_reads_no_datamatrix() -> None:
    assert ZbarDecoder().decode(image("datamatrix", "LOT7F3K29Q", Degradation())) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_ean13_and_qr_read_with_centre(backend: str) -> None:
    canvas = np.full((400, 900), 255, np.uint8)
    ean = symbol_image("ean13", "5901234123457", 3)
    qr = symbol_image("qr", "SO-100001 TRK0001000010006", 4)
    canvas[50 : 50 + ean.shape[0], 40 : 40 + ean.shape[1]] = ean
    canvas[60 : 60 + qr.shape[0], 600 : 600 + qr.shape[1]] = qr
    reads = {r.text: r for r in build_decoder(backend).decode(canvas)}
    assert set(reads) == {"5901234123457", "SO-100001 TRK0001000010006"}
    assert reads["5901234123457"].symbology is Symbology.EAN13
    assert reads["5901234123457"].aim == "]E0"
    x, y = reads["5901234123457"].position
    assert abs(x - (40 + ean.shape[1] // 2)) < 30 and abs(y - (50 + ean.shape[0] // 2)) < 40
    x, y = reads["SO-100001 TRK0001000010006"].position
    assert abs(x - (600 + qr.shape[1] // 2)) < 10 and abs(y - (60 + qr.shape[0] // 2)) < 10


@pytest.mark.parametrize("backend", BACKENDS)
def test_gs1_128_keeps_aim_and_group_separators(backend: str) -> None:
    barcode = zxingcpp.create_barcode(
        "(01)09506000134352(10)ABC(21)123", zxingcpp.BarcodeFormat.Code128, gs1=True
    )
    picture = np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=3))
    [read] = build_decoder(backend).decode(picture)
    assert read.symbology is Symbology.GS1_128
    assert read.aim == "]C1"
    assert read.text == f"010950600013435210ABC{GS}21123"
    assert read.with_aim == f"]C1010950600013435210ABC{GS}21123"


def test_gs1_datamatrix_from_zxing() -> None:
    barcode = zxingcpp.create_barcode(
        "(01)09506000134352(17)261231(10)L1", zxingcpp.BarcodeFormat.DataMatrix, gs1=True
    )
    picture = np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=4))
    [read] = ZxingDecoder().decode(picture)
    assert (read.symbology, read.aim) == (Symbology.GS1_DATAMATRIX, "]d2")
    assert read.text == "010950600013435217261231" + "10L1"


def qr_picture(data: str, encoding: str) -> np.ndarray:
    import io

    buffer = io.BytesIO()
    segno.make_qr(data, encoding=encoding).save(buffer, kind="png", scale=4)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("L"))


def test_utf8_qr_without_eci_is_not_garbled_by_zbar() -> None:
    # Plain pyzbar turns this into Shift-JIS mojibake; raw bytes read as UTF-8 do not.
    [read] = ZbarDecoder().decode(qr_picture("Grüße aus Köln", "utf-8"))
    assert read.text == "Grüße aus Köln"
    assert read.certain


def test_latin1_qr_from_zbar_is_marked_uncertain_and_pipeline_trusts_zxing() -> None:
    picture = qr_picture("Grüße aus Köln", "latin-1")
    [zbar_read] = ZbarDecoder().decode(picture)
    assert zbar_read.raw == "Grüße aus Köln".encode("latin-1")
    assert not zbar_read.certain
    [read] = PipelineDecoder().decode(picture)
    assert read.text == "Grüße aus Köln"
    assert read.backend == "zxingcpp"


def test_chinese_qr_text() -> None:
    text = "上海市浦东新区世纪大道100号"
    for backend in BACKENDS:
        [read] = build_decoder(backend).decode(qr_picture(text, "utf-8"))
        assert read.text == text


def test_blank_image_gives_no_read() -> None:
    blank = np.full((300, 300), 255, np.uint8)
    for backend in BACKENDS:
        assert build_decoder(backend).decode(blank) == []


def test_symbology_filter() -> None:
    canvas = np.full((300, 700), 255, np.uint8)
    code = symbol_image("code128", "SO-100001", 3)
    canvas[20 : 20 + code.shape[0], 20 : 20 + code.shape[1]] = code
    assert ZxingDecoder([Symbology.QR]).decode(canvas) == []
    assert ZbarDecoder([Symbology.QR]).decode(canvas) == []
    # A GS1-128 search also finds plain Code 128 (same family, told apart by AIM).
    assert [r.text for r in ZxingDecoder([Symbology.GS1_128]).decode(canvas)] == ["SO-100001"]


def test_bgr_and_pil_images_are_accepted() -> None:
    gray = symbol_image("qr", "LOC-A01-02", 4)
    bgr = np.stack([gray] * 3, axis=2)
    assert [r.text for r in ZxingDecoder().decode(bgr)] == ["LOC-A01-02"]
    assert [r.text for r in ZbarDecoder().decode(Image.fromarray(gray))] == ["LOC-A01-02"]


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="empty image"):
        ZxingDecoder().decode(np.zeros((0, 0), np.uint8))
    with pytest.raises(ValueError, match="not an image"):
        ZbarDecoder().decode("picture.png")
    with pytest.raises(ValueError, match="unknown decoder"):
        build_decoder("zbar-fast")
    with pytest.raises(ValueError, match="no symbology"):
        ZbarDecoder([Symbology.DATAMATRIX])
