"""Decoders: correct, wrong and ms per image for pyzbar, zxingcpp and pipeline, per format.

``floor-bench decode --images DIR --json`` reads every image under ``DIR`` (png, jpg, bmp,
tif) that has a same-stem ``.txt`` beside it holding the expected text. The format is the
name of the image's folder when it names one (``code128``, ``ean13``, ``qr``,
``datamatrix`` ...), else the symbology a decoder read the expected text as, else
``unknown``. Without ``--images`` it generates a set first (``--per-format`` images of Code
128, EAN-13, QR and DataMatrix, rotated, in perspective, blurred, washed out, unevenly lit
and noisy; see :mod:`bench.barcode_images`) in a temporary folder.

It prints one JSON object::

    {"formats": {"<format>": {"<backend>": {"correct": N, "wrong": N, "total": N,
                                            "ms_per_image": X}}}, ...}

An image counts as ``correct`` when a read carries the expected text and as ``wrong`` when
the backend read something but never the expected text (a wrong read is worse than none).
``goal_met`` says whether the pipeline decoded at least as many as the better of pyzbar
and zxing-cpp alone on every format.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bench.barcode_images import write_image_set
from device_drivers.decoding import BACKENDS, Decoder, build_decoder
from device_drivers.decoding.images import GrayImage

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")

_FOLDER_FORMATS = {
    "code128": "code128",
    "code-128": "code128",
    "code_128": "code128",
    "gs1-128": "gs1-128",
    "ean13": "ean13",
    "ean-13": "ean13",
    "ean_13": "ean13",
    "ean8": "ean8",
    "ean-8": "ean8",
    "upca": "upca",
    "upc-a": "upca",
    "qr": "qr",
    "qrcode": "qr",
    "qr-code": "qr",
    "datamatrix": "datamatrix",
    "data-matrix": "datamatrix",
    "data_matrix": "datamatrix",
    "pdf417": "pdf417",
    "code39": "code39",
    "itf": "itf",
}


def format_of_folder(path: Path, root: Path) -> str | None:
    """The format an image's folder (or a folder above it, below ``root``) names."""
    for parent in path.relative_to(root).parents:
        if parent.name and parent.name.lower() in _FOLDER_FORMATS:
            return _FOLDER_FORMATS[parent.name.lower()]
    return None


def same_code(expected: str, text: str) -> bool:
    """True when ``text`` is ``expected`` (a UPC-A also as the EAN-13 with a leading 0)."""
    if text == expected:
        return True
    if expected.isdigit() and text.isdigit() and {len(expected), len(text)} == {12, 13}:
        return expected.zfill(13) == text.zfill(13)
    return False


def load_images(root: Path) -> list[tuple[Path, str, GrayImage]]:
    """Every image under ``root`` with a ``.txt`` of its expected text."""
    out: list[tuple[Path, str, GrayImage]] = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        expected_file = path.with_suffix(".txt")
        if not expected_file.is_file():
            continue
        read = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if read is None:
            print(f"floor-bench decode: cannot read {path}, skipped", file=sys.stderr)
            continue
        expected = expected_file.read_text(encoding="utf-8").rstrip("\r\n")
        out.append((path, expected, np.asarray(read, dtype=np.uint8)))
    return out


def run(root: Path, backends: tuple[str, ...] = BACKENDS) -> dict[str, dict[str, dict[str, Any]]]:
    """The figures per format and backend for the images under ``root``."""
    images = load_images(root)
    decoders: dict[str, Decoder] = {name: build_decoder(name) for name in backends}
    outcomes: dict[str, dict[Path, tuple[bool, bool, float, str]]] = {}
    for name, decoder in decoders.items():
        per_image: dict[Path, tuple[bool, bool, float, str]] = {}
        for path, expected, image in images:
            started = time.perf_counter()
            reads = decoder.decode(image)
            elapsed = time.perf_counter() - started
            hit = next((r for r in reads if same_code(expected, r.text)), None)
            detected = hit.symbology.value if hit is not None else ""
            per_image[path] = (hit is not None, hit is None and bool(reads), elapsed, detected)
        outcomes[name] = per_image
    formats: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for path, _expected, _image in images:
        fmt = format_of_folder(path, root) or next(
            (o[path][3] for o in outcomes.values() if o[path][3]), "unknown"
        )
        for name in backends:
            correct, wrong, elapsed, _ = outcomes[name][path]
            cell = formats[fmt].setdefault(name, {"correct": 0, "wrong": 0, "total": 0, "_s": 0.0})
            cell["correct"] += int(correct)
            cell["wrong"] += int(wrong)
            cell["total"] += 1
            cell["_s"] += elapsed
    for cells in formats.values():
        for cell in cells.values():
            cell["ms_per_image"] = round(cell.pop("_s") * 1000 / max(1, cell["total"]), 2)
    return dict(formats)


def goal_met(formats: dict[str, dict[str, dict[str, Any]]]) -> bool:
    """The pipeline decodes at least as many as the better single backend on every format."""
    for cells in formats.values():
        if "pipeline" not in cells:
            continue
        best = max(cells[b]["correct"] for b in ("pyzbar", "zxingcpp") if b in cells)
        if cells["pipeline"]["correct"] < best:
            return False
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="floor-bench decode", description=__doc__)
    parser.add_argument("--images", type=Path, help="folder of images with .txt beside each")
    parser.add_argument("--per-format", type=int, default=150, help="images to generate")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated set")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="floor-bench-decode-") as tmp:
        if args.images is None:
            root = write_image_set(Path(tmp), per_format=args.per_format, seed=args.seed)
            source = f"generated: {args.per_format} per format, seed {args.seed}"
        else:
            root = args.images
            if not root.is_dir():
                print(f"floor-bench decode: {root} is not a folder", file=sys.stderr)
                return 2
            source = str(root)
        formats = run(root)
    if not formats:
        print(f"floor-bench decode: no image with a .txt beside it in {source}", file=sys.stderr)
        return 2
    result = {
        "benchmark": "decode",
        "images": source,
        "formats": formats,
        "wrong_total": {
            b: sum(c[b]["wrong"] for c in formats.values() if b in c) for b in BACKENDS
        },
        "goal_met": goal_met(formats),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
