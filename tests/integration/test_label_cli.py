"""``floor-app label --demo-order ID --format zpl|png --out FILE``: a label for a demo order
without a printer, and clear refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from device_drivers.decoding import build_decoder
from floor_app.__main__ import main
from floor_app.domain.packing import tracking_number
from floor_app.domain.symbology import Symbology

pytestmark = pytest.mark.integration


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
