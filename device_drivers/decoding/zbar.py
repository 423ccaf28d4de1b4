"""The ZBar backend, through pyzbar's ctypes bindings (needs the system library
``libzbar0``, ``libzbar0t64`` on Debian 13).

pyzbar's own ``decode()`` loses two things the floor needs, so this module drives ZBar
through pyzbar's wrapper functions itself:

* the symbol modifiers (``zbar_symbol_get_modifiers``): ZBar marks GS1 symbols there, which
  is the only way to tell a GS1-128 (AIM ``]C1``) from a plain Code 128;
* raw bytes: by default ZBar converts QR byte-mode content to UTF-8 from a guessed character
  set and gets it wrong for some texts (a UTF-8 "Grüße" comes back as Shift-JIS mojibake).
  With ``ZBAR_CFG_BINARY`` set it returns the bytes as encoded; this module then reads them
  as UTF-8 when they are valid UTF-8 and otherwise as ISO-8859-1 (the QR default), marking
  that read as not certain.

DataMatrix and PDF417 are not read by ZBar, and DataBar is not asked of it: its DataBar
decoder prints assertion warnings straight to the terminal on noisy images (zxing-cpp reads
DataBar).
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterable
from typing import Any

from floor_app.domain.symbology import Symbology

from .errors import DecoderUnavailable
from .images import as_gray
from .result import Decoded
from .symbols import FLOOR_SYMBOLOGIES, accepts, expand_upce, families

NAME = "pyzbar"

_CFG_ENABLE = 0
_CFG_BINARY = 4  # ZBAR_CFG_BINARY (zbar >= 0.23): keep QR bytes as they are
_MOD_GS1 = 0  # bit of zbar_symbol_get_modifiers: the symbol is GS1

# ZBar symbol type -> (symbology, AIM identifier, AIM identifier when GS1)
_TYPES: dict[int, tuple[Symbology, str, str]] = {
    128: (Symbology.CODE128, "]C0", "]C1"),
    13: (Symbology.EAN13, "]E0", "]E0"),
    12: (Symbology.UPCA, "]E0", "]E0"),
    9: (Symbology.UPCE, "]E0", "]E0"),
    8: (Symbology.EAN8, "]E4", "]E4"),
    39: (Symbology.CODE39, "]A0", "]A0"),
    25: (Symbology.ITF, "]I0", "]I0"),
    64: (Symbology.QR, "]Q1", "]Q3"),
    34: (Symbology.GS1_DATABAR, "]e0", "]e0"),
    35: (Symbology.GS1_DATABAR, "]e0", "]e0"),
}
_GS1_SYMBOLOGY = {Symbology.CODE128: Symbology.GS1_128, Symbology.QR: Symbology.GS1_QR}

# The ZBar types searched for each family. UPC-A keeps ZBar's default, which reports it as
# EAN-13 (as zxing-cpp does). UPC-E is always switched on, because with it off ZBar reports
# a UPC-E as an EAN-13 that cannot be told apart; it is dropped unless asked for, and its
# 8 digits are expanded to the 13 zxing-cpp reports.
_TYPES_FOR_FAMILY: dict[str, tuple[int, ...]] = {
    "code128": (128,),
    "ean-upc": (13, 8),
    "code39": (39,),
    "itf": (25,),
    "qr": (64,),
}
_ALL_TYPES = (2, 5, 8, 9, 10, 12, 13, 14, 15, 25, 34, 35, 38, 39, 57, 64, 80, 93, 128)
_LEAVE_DEFAULT = (12,)


class _Zbar:
    """The ZBar functions this module calls (bound once, on first use)."""

    def __init__(self) -> None:
        try:
            from pyzbar import wrapper
        except (ImportError, OSError) as exc:  # pyzbar raises ImportError without libzbar
            raise DecoderUnavailable(
                f"pyzbar cannot load ZBar ({exc}); install the system package libzbar0 "
                "(libzbar0t64 on Debian 13)"
            ) from exc
        self.w = wrapper
        self.get_modifiers = wrapper.zbar_function(
            "zbar_symbol_get_modifiers", ctypes.c_uint, ctypes.POINTER(wrapper.zbar_symbol)
        )
        self.fourcc_y800 = int.from_bytes(b"Y800", "little")


_ZBAR: _Zbar | None = None


def _zbar() -> _Zbar:
    global _ZBAR
    if _ZBAR is None:
        _ZBAR = _Zbar()
    return _ZBAR


class ZbarDecoder:
    """Decodes images with ZBar (see the module docstring).

    ``symbologies`` limits the symbol types searched; ``density`` is ZBar's scan density
    (1 scans every pixel row and column, 2 every second one: about twice as fast, misses
    very thin codes). Raises :class:`DecoderUnavailable` when ZBar cannot be loaded.
    """

    name = NAME

    def __init__(
        self, symbologies: Iterable[Symbology] = FLOOR_SYMBOLOGIES, *, density: int = 1
    ) -> None:
        self.symbologies = frozenset(symbologies)
        self._families = families(self.symbologies)
        types = {t for f in self._families for t in _TYPES_FOR_FAMILY.get(f, ())}
        if 13 in types:
            types.add(9)
        self._types = sorted(types)
        if not self._types:
            raise ValueError("no symbology ZBar can read was asked for")
        if density < 1:
            raise ValueError("density must be at least 1")
        self.density = density
        self._z = _zbar()

    def decode(self, image: Any) -> list[Decoded]:
        """Every symbol ZBar finds in ``image`` (grey or BGR array, or PIL image)."""
        gray = as_gray(image)
        height, width = gray.shape
        w = self._z.w
        scanner = w.zbar_image_scanner_create()
        try:
            self._configure(scanner)
            img = w.zbar_image_create()
            try:
                w.zbar_image_set_format(img, self._z.fourcc_y800)
                w.zbar_image_set_size(img, width, height)
                w.zbar_image_set_data(img, gray.ctypes.data_as(ctypes.c_void_p), gray.nbytes, None)
                if w.zbar_scan_image(scanner, img) < 0:
                    raise ValueError("ZBar refused the image")
                return self._symbols(img)
            finally:
                w.zbar_image_destroy(img)
        finally:
            w.zbar_image_scanner_destroy(scanner)

    def _configure(self, scanner: Any) -> None:
        w = self._z.w
        for zbar_type in _ALL_TYPES:
            if zbar_type in _LEAVE_DEFAULT:
                continue
            on = 1 if zbar_type in self._types else 0
            w.zbar_image_scanner_set_config(scanner, zbar_type, _CFG_ENABLE, on)
        w.zbar_image_scanner_set_config(scanner, 0, _CFG_BINARY, 1)
        if self.density != 1:
            w.zbar_image_scanner_set_config(scanner, 0, 0x100, self.density)
            w.zbar_image_scanner_set_config(scanner, 0, 0x101, self.density)

    def _symbols(self, img: Any) -> list[Decoded]:
        w = self._z.w
        out: list[Decoded] = []
        symbol = w.zbar_image_first_symbol(img)
        while symbol:
            decoded = self._one(symbol)
            if decoded is not None and accepts(self.symbologies, decoded.symbology):
                out.append(decoded)
            symbol = w.zbar_symbol_next(symbol)
        return out

    def _one(self, symbol: Any) -> Decoded | None:
        w = self._z.w
        known = _TYPES.get(int(symbol.contents.type))
        if known is None:
            return None
        base, aim_plain, aim_gs1 = known
        gs1 = bool((self._z.get_modifiers(symbol) >> _MOD_GS1) & 1)
        symbology = _GS1_SYMBOLOGY.get(base, base) if gs1 else base
        length = w.zbar_symbol_get_data_length(symbol)
        raw = ctypes.string_at(w.zbar_symbol_get_data(symbol), length)
        text, certain = _text_of(raw, base)
        if base is Symbology.UPCE:
            text = expand_upce(text)
            raw = text.encode("ascii")
        count = w.zbar_symbol_get_loc_size(symbol)
        xs = [int(w.zbar_symbol_get_loc_x(symbol, i)) for i in range(count)]
        ys = [int(w.zbar_symbol_get_loc_y(symbol, i)) for i in range(count)]
        if xs:
            left, top, right, bottom = min(xs), min(ys), max(xs), max(ys)
        else:
            left = top = right = bottom = 0
        corners = ((left, top), (right, top), (right, bottom), (left, bottom))
        return Decoded(
            text=text,
            symbology=symbology,
            aim=aim_gs1 if gs1 else aim_plain,
            position=((left + right) // 2, (top + bottom) // 2),
            corners=corners,
            raw=raw,
            backend=NAME,
            certain=certain,
        )


def _text_of(raw: bytes, symbology: Symbology) -> tuple[str, bool]:
    """The text of ``raw``: UTF-8 when valid; else ISO-8859-1, certain only for non-QR."""
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("latin-1"), symbology is not Symbology.QR
