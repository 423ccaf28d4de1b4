"""Synthetic barcode photos for the decoder benchmark and tests: a folder per format, each
image with a same-stem ``.txt`` holding the expected text.

Symbols are written with zxing-cpp's encoder, then degraded the way a camera over a packing
table degrades them: scaled, rotated to any angle, seen in perspective, blurred, washed out
(low contrast), unevenly lit and noisy. A seeded random generator makes the same set every
time. Nothing here is a benchmark itself (there is no ``main``).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp

from floor_app.domain.gtin import with_check_digit

GrayImage = npt.NDArray[np.uint8]
_Array = npt.NDArray[Any]

FORMATS: tuple[str, ...] = ("code128", "ean13", "qr", "datamatrix")
"""The formats the benchmark set covers (folder names)."""

_ZXING_FORMAT = {
    "code128": zxingcpp.BarcodeFormat.Code128,
    "ean13": zxingcpp.BarcodeFormat.EAN13,
    "qr": zxingcpp.BarcodeFormat.QRCode,
    "datamatrix": zxingcpp.BarcodeFormat.DataMatrix,
}

_QR_TEXTS = (
    "https://track.example/{n}",
    "SO-{n} TRK{n}",
    "上海市浦东新区世纪大道{n}号",
    "Grüße aus Köln {n}",
    "北京市朝阳区建国路{n}号 5楼",
    "LOC-A{n}",
)


@dataclass(frozen=True, slots=True)
class Degradation:
    """How one image is degraded (all zero/one: a clean, upright symbol)."""

    module_px: int = 3
    angle_deg: float = 0.0
    perspective: float = 0.0
    blur_sigma: float = 0.0
    contrast: float = 1.0
    noise_sigma: float = 0.0
    shading: float = 0.0


def content_for(fmt: str, rng: random.Random) -> str:
    """A plausible content for ``fmt``: tracking numbers, GTINs, addresses, lot codes."""
    n = rng.randint(100000, 999999)
    if fmt == "code128":
        kind = rng.randrange(3)
        if kind == 0:
            return f"TRK{rng.randint(0, 10**12 - 1):012d}{rng.randint(0, 9)}"
        if kind == 1:
            return f"SO-{n}"
        alphabet = string.ascii_uppercase + string.digits + "-./"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(6, 18)))
    if fmt == "ean13":
        return with_check_digit(f"{rng.randint(1, 9)}{rng.randint(0, 10**11 - 1):011d}")
    if fmt == "qr":
        return rng.choice(_QR_TEXTS).format(n=n)
    if fmt == "datamatrix":
        alphabet = string.ascii_uppercase + string.digits
        return "LOT" + "".join(rng.choice(alphabet) for _ in range(rng.randint(6, 24)))
    raise ValueError(f"unknown format {fmt!r}")


def symbol_image(fmt: str, text: str, module_px: int) -> GrayImage:
    """A clean symbol (black on white, with its quiet zone) at ``module_px`` per module."""
    barcode = zxingcpp.create_barcode(text, _ZXING_FORMAT[fmt])
    image: _Array = np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=module_px))
    if fmt in ("code128", "ean13") and image.shape[0] < 40 * module_px:
        # 1-D symbols come out short; give them a realistic bar height.
        size = (image.shape[1], 40 * module_px)
        image = cv2.resize(image, size, interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(image, dtype=np.uint8)


def degrade(symbol: GrayImage, how: Degradation, rng: random.Random) -> GrayImage:
    """``symbol`` on a sheet, photographed badly according to ``how``."""
    pad = max(symbol.shape) // 2 + 20
    sheet: _Array = cv2.copyMakeBorder(symbol, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    h, w = sheet.shape
    if how.angle_deg:
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), how.angle_deg, 1.0)
        sheet = cv2.warpAffine(sheet, matrix, (w, h), borderValue=255, flags=cv2.INTER_LINEAR)
    if how.perspective:
        d = how.perspective * min(w, h)
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
        jitter = np.array([[rng.uniform(0, d), rng.uniform(0, d)] for _ in range(4)], np.float32)
        signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=np.float32)
        dst = (jitter * signs + src).astype(np.float32)
        matrix = cv2.getPerspectiveTransform(src, dst)
        sheet = cv2.warpPerspective(sheet, matrix, (w, h), borderValue=255)
    image: _Array = sheet.astype(np.float32)
    if how.blur_sigma:
        image = cv2.GaussianBlur(image, (0, 0), how.blur_sigma)
    if how.contrast != 1.0:
        middle = rng.uniform(110, 160)
        image = middle + (image - 127.5) * how.contrast
    if how.shading:
        ramp = np.linspace(-how.shading, how.shading, w, dtype=np.float32)
        image = image + ramp[np.newaxis, :] * (1 if rng.random() < 0.5 else -1)
    if how.noise_sigma:
        seed = rng.randrange(2**32)
        image = image + np.random.default_rng(seed).normal(0, how.noise_sigma, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def random_degradation(rng: random.Random, fmt: str) -> Degradation:
    """A mix of faults: about one image in five clean-ish, the rest one to four faults."""
    module = rng.choice((2, 3, 4)) if fmt in ("qr", "datamatrix") else rng.choice((2, 2, 3))
    how: dict[str, Any] = {"module_px": module}
    faults = rng.sample(
        ["rotate", "perspective", "blur", "contrast", "noise", "shading"], k=rng.randint(0, 4)
    )
    if "rotate" in faults:
        how["angle_deg"] = rng.uniform(0, 360)
    if "perspective" in faults:
        how["perspective"] = rng.uniform(0.03, 0.15)
    if "blur" in faults:
        how["blur_sigma"] = rng.uniform(0.6, 2.2)
    if "contrast" in faults:
        how["contrast"] = rng.uniform(0.12, 0.45)
    if "noise" in faults:
        how["noise_sigma"] = rng.uniform(8, 40)
    if "shading" in faults:
        how["shading"] = rng.uniform(20, 70)
    return Degradation(**how)


def write_image_set(
    folder: Path, *, per_format: int = 60, seed: int = 2026, formats: tuple[str, ...] = FORMATS
) -> Path:
    """Write ``per_format`` images of each format under ``folder/<format>/`` with a ``.txt``
    of the expected text beside each; returns ``folder``."""
    rng = random.Random(seed)
    for fmt in formats:
        target = folder / fmt
        target.mkdir(parents=True, exist_ok=True)
        for i in range(per_format):
            text = content_for(fmt, rng)
            how = random_degradation(rng, fmt)
            image = degrade(symbol_image(fmt, text, how.module_px), how, rng)
            cv2.imwrite(str(target / f"{i:03d}.png"), image)
            (target / f"{i:03d}.txt").write_text(text, encoding="utf-8")
    return folder


def table_frame(
    rng: random.Random, *, width: int = 1280, height: int = 720
) -> tuple[GrayImage, set[str]]:
    """A camera frame of a packing table: a shipping label (Code 128 tracking number and a
    QR code) and a product's EAN-13, each turned and placed at random, with sensor noise.

    Returns the grey frame and the texts on it.
    """
    frame: _Array = np.full((height, width), 95, np.float32)
    frame += cv2.resize(
        np.random.default_rng(rng.randrange(2**32)).normal(0, 12, (9, 16)).astype(np.float32),
        (width, height),
        interpolation=cv2.INTER_CUBIC,
    )
    texts: set[str] = set()
    tracking = content_for("code128", random.Random(rng.random()))
    while not tracking.startswith("TRK"):
        tracking = content_for("code128", random.Random(rng.random()))
    code: _Array = symbol_image("code128", tracking, 2)
    code = cv2.resize(code, (code.shape[1], 90), interpolation=cv2.INTER_NEAREST)
    label = np.full((420, code.shape[1] + 20), 245, np.uint8)
    label[30 : 30 + code.shape[0], 10 : 10 + code.shape[1]] = code
    qr_text = f"{tracking}|SO-{rng.randint(100001, 100200)}"
    qr = symbol_image("qr", qr_text, 4)
    label[180 : 180 + qr.shape[0], 20 : 20 + qr.shape[1]] = qr
    texts |= {tracking, qr_text}
    ean = with_check_digit(f"{rng.randint(1, 9)}{rng.randint(0, 10**11 - 1):011d}")
    product = symbol_image("ean13", ean, 2)
    texts.add(ean)
    for item, (cx, cy) in ((label, (0.3, 0.5)), (product, (0.75, 0.45))):
        angle = rng.uniform(-25, 25)
        h, w = item.shape
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        matrix[0, 2] += cx * width - w / 2 + rng.uniform(-60, 60)
        matrix[1, 2] += cy * height - h / 2 + rng.uniform(-60, 60)
        mask = cv2.warpAffine(np.ones_like(item, np.float32), matrix, (width, height))
        placed = cv2.warpAffine(item.astype(np.float32), matrix, (width, height))
        frame = frame * (1 - mask) + placed * mask
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 3, frame.shape)
    frame = np.asarray(cv2.GaussianBlur(frame, (0, 0), 0.7), dtype=np.float64) + noise
    return np.clip(frame, 0, 255).astype(np.uint8), texts
