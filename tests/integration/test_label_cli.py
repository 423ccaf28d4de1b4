"""``floor-app label``: an order's label as it now stands (the device's store: after a
reprint, the new tracking number), a demo order's without a printer, as text, ZPL or PNG,
and clear refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from device_drivers.decoding import build_decoder
from device_drivers.labels import read_qr_payload
from floor_app.__main__ import main
from floor_app.bootstrap import build_context
from floor_app.demo import DEMO_SENDER
from floor_app.domain.packing import tracking_number
from floor_app.domain.symbology import Symbology
from floor_app.settings import load_settings

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def no_demo_store_of_this_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo store is looked for under $XDG_STATE_HOME: a fresh, empty one per test."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def _reprinted(data_dir: Path) -> tuple[str, str, str, int]:
    """A demo parcel packed, labelled and reprinted on a demo store in ``data_dir``: its
    order, the first and the new tracking number, and the weight it was packed at."""
    settings = load_settings(None, store={"data_dir": str(data_dir)}, sync={"enabled": False})
    ctx = build_context(settings, demo=True)
    try:
        view = ctx.packing.open("T0901")
        for sku, qty in view.session.expected.items():
            for _ in range(qty):
                view, _ = ctx.packing.verify(view.session.session_id, view.skus[sku].gtin)
        weight = view.expected_weight_g + 7
        view = ctx.packing.weigh(view.session.session_id, weight, "ben")
        order_id = view.order.order_id
        first = ctx.labels.request(order_id)
        ctx.labels.print(first, "ben")
        again = ctx.labels.request(order_id, reprint_reason="Smudged")
        ctx.labels.print(again, "ben")
    finally:
        ctx.close()
    return order_id, first.tracking, again.tracking, weight


def test_the_label_as_it_stands_after_a_reprint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    order_id, first, new, weight = _reprinted(data)
    assert first != new
    store = ["--demo", "--data-dir", str(data), "label"]
    assert main([*store, "--demo-order", order_id]) == 0
    text = capsys.readouterr().out
    assert new in text and first not in text
    assert "reprint of" in text and "Smudged" in text
    assert f"{weight / 1000:.2f} kg" in text and "1/1" in text
    out = tmp_path / "label.png"
    assert main([*store, "--order", order_id, "--out", str(out)]) == 0
    assert f"tracking {new}" in capsys.readouterr().out
    reads = build_decoder("pipeline").decode(Image.open(out))
    assert (Symbology.CODE128, new) in {(r.symbology, r.text) for r in reads}
    [qr] = [r.text for r in reads if r.symbology is Symbology.QR]
    fields = read_qr_payload(qr)
    assert (fields["tracking"], fields["order"], fields["weight_g"]) == (new, order_id, str(weight))
    assert fields["from_name"] == DEMO_SENDER.name and fields["piece"] == "1/1"
    assert fields["to_phone"] and fields["sort"]


def test_an_order_without_a_label_on_this_device(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _reprinted(data)
    assert main(["--demo", "--data-dir", str(data), "label", "--order", "SO-100200"]) == 2
    assert "order SO-100200 has no label on this device" in capsys.readouterr().err


def test_a_demo_order_not_labelled_yet_is_previewed_with_every_field(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["label", "--demo-order", "SO-100001"]) == 0
    text = capsys.readouterr().out
    assert "preview" in text and tracking_number("SO-100001") in text
    for shown in (" kg", "1/1", "Tel +86", "CN-SHA", f"from {DEMO_SENDER.name}"):
        assert shown in text, shown


def test_png_label_of_a_demo_order_scans(tmp_path: Path) -> None:
    out = tmp_path / "label.png"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "floor_app",
            "label",
            "--demo-order",
            "SO-100001",
            "--format",
            "png",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "SO-100001" in done.stdout
    reads = build_decoder("pipeline").decode(Image.open(out))
    texts = {(r.symbology, r.text) for r in reads}
    assert (Symbology.CODE128, tracking_number("SO-100001")) in texts
    assert any(s is Symbology.QR and t.startswith(tracking_number("SO-100001")) for s, t in texts)
    assert (out.stat().st_mode & 0o777) != 0o600  # an ordinary file, not a private temp file


def test_zpl_label_with_sscc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "label.zpl"
    assert (
        main(
            [
                "label",
                "--demo-order",
                "SO-100002",
                "--out",
                str(out),
                "--sscc",
                "106141411234567897",
            ]
        )
        == 0
    )
    zpl = out.read_bytes()
    assert zpl.startswith(b"^XA") and zpl.rstrip().endswith(b"^XZ")
    assert b">;>800106141411234567897" in zpl
    assert tracking_number("SO-100002").encode() in zpl
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


def test_zpl_to_standard_output(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["label", "--demo-order", "SO-100003", "--format", "zpl", "--out", "-"]) == 0
    assert capfdbinary.readouterr().out.startswith(b"^XA")


def test_unknown_demo_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "label.zpl"
    assert main(["label", "--demo-order", "SO-999999", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no demo order 'SO-999999'" in err and "SO-100001 to SO-100200" in err
    assert not out.exists()


def test_bad_sscc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "label",
                "--demo-order",
                "SO-100001",
                "--out",
                str(tmp_path / "x.zpl"),
                "--sscc",
                "106141411234567890",
            ]
        )
        == 2
    )
    assert "wrong check digit" in capsys.readouterr().err


def test_unwritable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "missing-folder" / "label.png"
    assert main(["label", "--demo-order", "SO-100001", "--out", str(out)]) == 1
    assert "cannot write" in capsys.readouterr().err


def test_format_must_be_zpl_or_png(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["label", "--demo-order", "SO-100001", "--format", "pdf", "--out", "x"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'pdf'" in capsys.readouterr().err
