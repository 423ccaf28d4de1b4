"""A PNG of a laid-out label, dot for dot what the printer prints.

Text bitmaps are the ones the ZPL sends; the Code 128 bars are python-barcode's modules
(the same code values the ZPL sends); the QR code is segno's matrix. The PNG is 1-bit at the
printer's resolution and says its dpi, so it prints at true size too.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from .layout import Code128Element, LabelLayout, QrElement, RuleElement, TextElement


def to_png(layout: LabelLayout) -> bytes:
    """The PNG of ``layout``."""
    black = np.zeros((layout.height, layout.width), dtype=bool)
    for element in layout.elements:
        if isinstance(element, TextElement):
            _paste(black, element.x, element.y, element.bitmap)
        elif isinstance(element, RuleElement):
            _paste(black, element.x, element.y, np.ones((element.height, element.width), bool))
        elif isinstance(element, Code128Element):
            row = np.repeat(np.array([m == "1" for m in element.symbol.modules]), element.module)
            _paste(black, element.x, element.y, np.tile(row, (element.height, 1)))
        elif isinstance(element, QrElement):
            matrix = np.array(element.symbol.matrix(), dtype=bool)
            scaled = np.kron(matrix, np.ones((element.magnification,) * 2, dtype=bool))
            _paste(black, element.x, element.y, scaled.astype(bool))
    image = Image.fromarray(np.where(black, 0, 255).astype(np.uint8), mode="L").convert("1")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(layout.dpi, layout.dpi))
    return buffer.getvalue()


def _paste(canvas: np.ndarray, x: int, y: int, dots: np.ndarray) -> None:
    """OR ``dots`` into ``canvas`` at ``(x, y)``, clipped to the canvas."""
    height, width = canvas.shape
    h = max(0, min(dots.shape[0], height - y))
    w = max(0, min(dots.shape[1], width - x))
    if h and w and x >= 0 and y >= 0:
        canvas[y : y + h, x : x + w] |= dots[:h, :w]
