"""How the pipeline combines zxing-cpp and ZBar reads: agreement, disagreement (zxing-cpp's
read where it is the better reader, else no read),
reads only one of them made, phantoms; and the helpers it relies on."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp

from device_drivers.decoding import Decoded
from device_drivers.decoding.pipeline import CameraPipelineDecoder, PipelineDecoder
from device_drivers.decoding.symbols import accepts, content_key, expand_upce
from device_drivers.decoding.zbar import ZbarDecoder
from device_drivers.decoding.zxing import ZxingDecoder
from floor_app.domain.symbology import Symbology

pytestmark = pytest.mark.unit


def read(
    text: str,
    symbology: Symbology = Symbology.CODE128,
    box: tuple[int, int, int, int] = (100, 100, 300, 160),
    *,
    backend: str = "zxingcpp",
    raw: bytes | None = None,
    certain: bool = True,
) -> Decoded:
    left, top, right, bottom = box
    corners = ((left, top), (right, top), (right, bottom), (left, bottom))
    return Decoded(
        text=text,
        symbology=symbology,
        aim="]C0",
        position=((left + right) // 2, (top + bottom) // 2),
        corners=corners,
        raw=text.encode() if raw is None else raw,
        backend=backend,
        certain=certain,
    )


@pytest.fixture
def pipeline() -> PipelineDecoder:
    return PipelineDecoder()


def test_agreement_keeps_the_zxing_read(pipeline: PipelineDecoder) -> None:
    z = read("TRK0001000010006")
    b = read("TRK0001000010006", box=(104, 110, 296, 150), backend="pyzbar")
    assert pipeline.merge([z], [b]) == [z]
    assert pipeline.conflicts == 0


@pytest.mark.parametrize("symbology", [Symbology.CODE128, Symbology.QR, Symbology.DATAMATRIX])
def test_disagreement_keeps_zxing_where_it_reads_better(
    pipeline: PipelineDecoder, symbology: Symbology
) -> None:
    z = read("TRK0001000010006", symbology)
    b = read("TRK0001000010007", symbology, box=(104, 110, 296, 150), backend="pyzbar")
    assert pipeline.merge([z], [b]) == [z]
    assert pipeline.conflicts == 1


def test_disagreement_on_an_ean_gives_no_read(pipeline: PipelineDecoder) -> None:
    z = read("5901234123457", Symbology.EAN13)
    b = read("5901234123464", Symbology.EAN13, box=(104, 110, 296, 150), backend="pyzbar")
    assert pipeline.merge([z], [b]) == []
    assert pipeline.conflicts == 1


def test_without_zxing_wins_a_disagreement_gives_no_read() -> None:
    pipeline = PipelineDecoder(zxing_wins=())
    z = read("TRK0001000010006")
    b = read("TRK0001000010007", box=(104, 110, 296, 150), backend="pyzbar")
    assert pipeline.merge([z], [b]) == []


def test_disagreement_leaves_other_symbols_alone(pipeline: PipelineDecoder) -> None:
    z1 = read("5901234123457", Symbology.EAN13)
    z2 = read("SO-100001", box=(500, 100, 700, 160))
    b = read("5901234123464", Symbology.EAN13, box=(110, 110, 290, 150), backend="pyzbar")
    assert pipeline.merge([z1, z2], [b]) == [z2]


def test_ean_agrees_across_upc_a_and_ean_13(pipeline: PipelineDecoder) -> None:
    z = read("036000291452", Symbology.UPCA)
    b = read("0036000291452", Symbology.EAN13, backend="pyzbar")
    assert pipeline.merge([z], [b]) == [z]


def test_qr_agreement_is_by_bytes_not_by_guessed_text(pipeline: PipelineDecoder) -> None:
    raw = "Grüße".encode("latin-1")
    z = read("Grüße", Symbology.QR, raw=raw)
    b = read("Gr\u00fc\u00dfe?", Symbology.QR, raw=raw, backend="pyzbar", certain=False)
    assert pipeline.merge([z], [b]) == [z]


def test_a_read_only_zbar_made_is_kept_for_checked_families(pipeline: PipelineDecoder) -> None:
    ean = read("5901234123457", Symbology.EAN13, backend="pyzbar")
    code = read("SO-100001", Symbology.CODE128, box=(400, 0, 600, 50), backend="pyzbar")
    qr = read("LOC-A01", Symbology.QR, box=(0, 300, 80, 380), backend="pyzbar")
    assert pipeline.merge([], [ean, code, qr]) == [ean, code, qr]


def test_a_read_only_zbar_made_is_dropped_where_it_finds_phantoms(
    pipeline: PipelineDecoder,
) -> None:
    itf = read("930023", Symbology.ITF, backend="pyzbar")
    unsure_qr = read("Gr\u00fc\u00dfe", Symbology.QR, backend="pyzbar", certain=False)
    assert pipeline.merge([], [itf, unsure_qr]) == []


def test_a_1d_phantom_inside_a_2d_symbol_is_ignored(pipeline: PipelineDecoder) -> None:
    qr = read("LOC-A461267", Symbology.QR, box=(40, 40, 200, 200))
    phantom = read("930023", Symbology.ITF, box=(60, 60, 90, 70), backend="pyzbar")
    assert pipeline.merge([qr], [phantom]) == [qr]
    assert pipeline.conflicts == 0


def test_another_family_on_the_same_spot_is_a_conflict(pipeline: PipelineDecoder) -> None:
    code = read("SO-100001", Symbology.CODE128, box=(100, 100, 400, 160))
    ean = read("5901234123457", Symbology.EAN13, box=(200, 110, 300, 150), backend="pyzbar")
    assert pipeline.merge([code], [ean]) == [code]  # zxing-cpp reads Code 128 better
    assert pipeline.conflicts == 1
    ean_z = read("5901234123457", Symbology.EAN13, box=(100, 100, 400, 160))
    code_b = read("SO-100001", Symbology.CODE128, box=(200, 110, 300, 150), backend="pyzbar")
    assert pipeline.merge([ean_z], [code_b]) == []
    assert pipeline.conflicts == 2


def test_neighbours_touching_at_an_edge_are_not_a_conflict(pipeline: PipelineDecoder) -> None:
    code = read("SO-100001", Symbology.CODE128, box=(100, 100, 400, 160))
    ean = read("5901234123457", Symbology.EAN13, box=(390, 150, 600, 220), backend="pyzbar")
    assert pipeline.merge([code], [ean]) == [code, ean]


def upce_picture() -> np.ndarray:
    barcode = zxingcpp.create_barcode("01234565", zxingcpp.BarcodeFormat.UPCE)
    return np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=3))


def test_upc_e_only_when_asked_for_and_as_13_digits_from_both() -> None:
    picture = upce_picture()
    assert ZxingDecoder().decode(picture) == []
    assert ZbarDecoder().decode(picture) == []
    assert PipelineDecoder().decode(picture) == []
    wanted = [Symbology.UPCE]
    assert [r.text for r in ZxingDecoder(wanted).decode(picture)] == ["0012345000065"]
    assert [r.text for r in ZbarDecoder(wanted).decode(picture)] == ["0012345000065"]


def test_expand_upce() -> None:
    assert expand_upce("01234565") == "0012345000065"
    assert expand_upce("04252614") == "0042100005264"
    assert expand_upce("12345") == "12345"


def test_content_key_and_accepts() -> None:
    assert content_key(Symbology.UPCA, "036000291452", b"") == content_key(
        Symbology.EAN13, "0036000291452", b""
    )
    assert content_key(Symbology.QR, "a", b"x") != content_key(Symbology.QR, "a", b"y")
    assert accepts(frozenset({Symbology.CODE128}), Symbology.GS1_128)
    assert accepts(frozenset({Symbology.EAN13}), Symbology.UPCA)
    assert not accepts(frozenset({Symbology.EAN13}), Symbology.UPCE)
    assert not accepts(frozenset({Symbology.QR}), Symbology.DATAMATRIX)


def test_decoded_moved_maps_back_to_the_full_frame() -> None:
    r = read("X", box=(10, 20, 30, 40)).moved(100, 50, 2.0)
    assert r.position == (140, 110)
    assert r.bounds() == (120, 90, 160, 130)


def test_camera_pipeline_runs_zbar_on_every_nth_frame_only() -> None:
    decoder = CameraPipelineDecoder(zbar_every=3)
    calls: list[str] = []
    zxing, zbar = decoder.pipeline.zxing, decoder.pipeline.zbar
    assert zbar is not None

    class Spy:
        def __init__(self, name: str, inner: ZxingDecoder | ZbarDecoder) -> None:
            self.name, self.inner = name, inner

        def decode(self, image: object) -> list[Decoded]:
            calls.append(self.name)
            return self.inner.decode(image)

    decoder.pipeline.zxing = Spy("zxing", zxing)  # type: ignore[assignment]
    decoder.pipeline.zbar = Spy("zbar", zbar)  # type: ignore[assignment]
    blank = np.full((64, 64), 255, np.uint8)
    for _ in range(6):
        decoder.decode(blank)
    assert calls.count("zxing") == 6
    assert calls.count("zbar") == 2
    with pytest.raises(ValueError):
        CameraPipelineDecoder(zbar_every=0)
