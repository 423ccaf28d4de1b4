"""Text of a label as 1-bit bitmaps, drawn with Pillow in a CJK-capable font.

Thermal printers print dots, so text is drawn once here, anti-aliased and then cut at
half-grey to black or white; the ZPL sends these bitmaps as ``^GF`` graphics and the
preview pastes the same bitmaps, so Chinese prints on any printer, with or without a
Chinese font of its own.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from .errors import LabelFontMissing

Bitmap = npt.NDArray[np.bool_]
"""Rows x columns of dots; True is black."""


class TextRenderer:
    """Draws text in one font file at any size."""

    def __init__(self, font_path: Path) -> None:
        self.font_path = font_path
        self._fonts: dict[int, ImageFont.FreeTypeFont] = {}
        self._lock = threading.Lock()

    def font(self, size: int) -> ImageFont.FreeTypeFont:
        """The font at ``size`` pixels (loaded once per size: a CJK font is large)."""
        with self._lock:
            font = self._fonts.get(size)
            if font is None:
                try:
                    font = ImageFont.truetype(str(self.font_path), size)
                except OSError as exc:  # not a font file, or unreadable
                    raise LabelFontMissing(f"cannot use {self.font_path} as a font: {exc}") from exc
                self._fonts[size] = font
            return font

    def width(self, text: str, size: int) -> int:
        """Width of ``text`` in pixels at ``size``."""
        return round(self.font(size).getlength(text))

    def line(self, text: str, size: int, *, bold: bool = False, inverted: bool = False) -> Bitmap:
        """One line of text; ``bold`` thickens strokes, ``inverted`` is white on black."""
        font = self.font(size)
        ascent, descent = font.getmetrics()
        stroke = max(1, size // 28) if bold else 0
        pad = 2 + stroke
        width = self.width(text, size) + 2 * pad
        height = ascent + descent + 2 * pad
        canvas = Image.new("L", (max(1, width), height), 255)
        draw = ImageDraw.Draw(canvas)
        draw.text((pad, pad), text, font=font, fill=0, stroke_width=stroke, stroke_fill=0)
        dots: Bitmap = np.asarray(canvas) < 128
        return ~dots if inverted else dots

    def fit(self, text: str, size: int, max_width: int, *, min_size: int = 12) -> int:
        """The largest size up to ``size`` at which ``text`` fits ``max_width``."""
        while size > min_size and self.width(text, size) > max_width:
            size -= 1
        return size

    def wrap(self, text: str, size: int, max_width: int) -> list[str]:
        """``text`` broken into lines no wider than ``max_width``: at spaces where there are
        any, else between characters (Chinese has no spaces)."""
        lines: list[str] = []
        current = ""
        for piece in _pieces(text):
            candidate = current + piece
            if current and self.width(candidate.rstrip(), size) > max_width:
                lines.append(current.rstrip())
                current = piece.lstrip()
            else:
                current = candidate
            while self.width(current, size) > max_width and len(current) > 1:
                cut = len(current) - 1
                while cut > 1 and self.width(current[:cut], size) > max_width:
                    cut -= 1
                lines.append(current[:cut])
                current = current[cut:]
        if current.strip():
            lines.append(current.rstrip())
        return lines or [""]


@functools.lru_cache(maxsize=4)
def renderer_for(font_path: Path) -> TextRenderer:
    """The renderer of ``font_path``, shared so each font size is loaded only once."""
    return TextRenderer(font_path)


def _pieces(text: str) -> list[str]:
    """Words with their trailing space, or single characters for scripts without spaces."""
    pieces: list[str] = []
    word = ""
    for ch in text:
        if ch == " ":
            pieces.append(word + ch)
            word = ""
        elif ord(ch) > 0x2E7F:  # CJK and beyond: each character may start a line
            if word:
                pieces.append(word)
                word = ""
            pieces.append(ch)
        else:
            word += ch
    if word:
        pieces.append(word)
    return pieces
