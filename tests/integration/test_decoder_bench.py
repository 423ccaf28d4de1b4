"""``floor-bench decode``: the figures' shape, formats from folder names or detected, and a
folder without images."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import decode
from bench.barcode_images import write_image_set

pytestmark = pytest.mark.integration


def test_figures_per_format_and_backend(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_image_set(tmp_path / "set", per_format=3, seed=11)
    assert decode.main(["--images", str(tmp_path / "set"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["formats"]) == {"code128", "ean13", "qr", "datamatrix"}
    for cells in result["formats"].values():
        assert set(cells) == {"pyzbar", "zxingcpp", "pipeline"}
        for cell in cells.values():
            assert set(cell) == {"correct", "wrong", "total", "ms_per_image"}
            assert cell["total"] == 3 and cell["correct"] + cell["wrong"] <= 3
    assert result["formats"]["datamatrix"]["pyzbar"]["correct"] == 0
    assert isinstance(result["goal_met"], bool)


def test_format_is_detected_without_a_format_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_image_set(tmp_path / "set", per_format=1, seed=3, formats=("qr",))
    flat = tmp_path / "photos"
    shutil.copytree(tmp_path / "set" / "qr", flat)
    (flat / "extra.png").write_bytes(b"not an image")
    (flat / "extra.txt").write_text("x")
    assert decode.main(["--images", str(flat), "--json"]) == 0
    out = capsys.readouterr()
    assert "cannot read" in out.err
    formats = json.loads(out.out)["formats"]
    assert (
        set(formats) <= {"qr", "unknown"}
        and sum(c["pipeline"]["total"] for c in formats.values()) == 1
    )


def test_no_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert decode.main(["--images", str(tmp_path), "--json"]) == 2
    assert "no image with a .txt" in capsys.readouterr().err
    assert decode.main(["--images", str(tmp_path / "missing"), "--json"]) == 2
