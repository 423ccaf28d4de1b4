"""The zxing-cpp backend (PyPI ``zxing-cpp``, no system library).

Read with ``TextMode.Plain`` so GS1 content stays an element string with group separators
(``\\x1d``) instead of zxing's bracketed "(01)..." form, and keep ``symbology_identifier``:
it is the AIM identifier a scanner would send (``]C1`` tells GS1-128 from plain Code 128).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import zxingcpp

from floor_app.domain.symbology import Symbology

from .images import as_gray
from .result import Decoded, centre
from .symbols import FLOOR_SYMBOLOGIES, accepts, gs1_variant

NAME = "zxingcpp"

# zxing-cpp format names (BarcodeFormat.name) -> symbology; prefixes cover the variants
# ("DataBarOmni", "Code39Ext", "QRCodeModel2" ...).
_FORMAT_PREFIXES: tuple[tuple[str, Symbology], ...] = (
    ("Code128", Symbology.CODE128),
    ("EAN13", Symbology.EAN13),
    ("ISBN", Symbology.EAN13),
    ("EAN8", Symbology.EAN8),
    ("UPCA", Symbology.UPCA),
    ("UPCE", Symbology.UPCE),
    ("Code39", Symbology.CODE39),
    ("ITF", Symbology.ITF),
    ("QRCode", Symbology.QR),
    ("MicroQR", Symbology.QR),
    ("DataMatrix", Symbology.DATAMATRIX),
    ("DataBar", Symbology.GS1_DATABAR),
    ("PDF417", Symbology.PDF417),
    ("CompactPDF417", Symbology.PDF417),
)

_FORMATS_FOR: dict[Symbology, tuple[str, ...]] = {
    Symbology.CODE128: ("Code128",),
    Symbology.GS1_128: ("Code128",),
    Symbology.EAN13: ("EANUPC",),
    Symbology.EAN8: ("EANUPC",),
    Symbology.UPCA: ("EANUPC",),
    Symbology.UPCE: ("EANUPC",),
    Symbology.CODE39: ("Code39",),
    Symbology.ITF: ("ITF",),
    Symbology.QR: ("QRCode",),
    Symbology.GS1_QR: ("QRCode",),
    Symbology.DATAMATRIX: ("DataMatrix",),
    Symbology.GS1_DATAMATRIX: ("DataMatrix",),
    Symbology.GS1_DATABAR: ("DataBar", "DataBarExp", "DataBarLtd"),
    Symbology.PDF417: ("PDF417",),
}


def symbology_of(format_name: str, aim: str) -> Symbology:
    """The floor's symbology for a zxing-cpp format name and AIM identifier."""
    for prefix, symbology in _FORMAT_PREFIXES:
        if format_name.startswith(prefix):
            return gs1_variant(symbology, aim)
    return Symbology.UNKNOWN


class ZxingDecoder:
    """Decodes images with zxing-cpp.

    ``symbologies`` limits the formats searched (fewer formats, faster and fewer false
    reads); ``try_rotate``, ``try_invert`` and ``try_downscale`` are zxing-cpp's own search
    options, all on by default for still images.
    """

    name = NAME

    def __init__(
        self,
        symbologies: Iterable[Symbology] = FLOOR_SYMBOLOGIES,
        *,
        try_rotate: bool = True,
        try_invert: bool = True,
        try_downscale: bool = True,
    ) -> None:
        self.symbologies = frozenset(symbologies)
        wanted = sorted({f for s in self.symbologies for f in _FORMATS_FOR.get(s, ())})
        if not wanted:
            raise ValueError("no symbology zxing-cpp can read was asked for")
        self._formats = zxingcpp.BarcodeFormats(
            [getattr(zxingcpp.BarcodeFormat, f) for f in wanted]
        )
        self._options: dict[str, Any] = {
            "try_rotate": try_rotate,
            "try_invert": try_invert,
            "try_downscale": try_downscale,
        }

    def decode(self, image: Any) -> list[Decoded]:
        """Every symbol zxing-cpp finds in ``image`` (grey or BGR array, or PIL image)."""
        gray = as_gray(image)
        found = zxingcpp.read_barcodes(
            gray, formats=self._formats, text_mode=zxingcpp.TextMode.Plain, **self._options
        )
        out: list[Decoded] = []
        for barcode in found:
            aim = str(barcode.symbology_identifier)
            symbology = symbology_of(barcode.format.name, aim)
            if not accepts(self.symbologies, symbology):
                continue
            pos = barcode.position
            corners = tuple(
                (int(p.x), int(p.y))
                for p in (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)
            )
            out.append(
                Decoded(
                    text=str(barcode.text),
                    symbology=symbology,
                    aim=aim,
                    position=centre(corners),
                    corners=corners,
                    raw=bytes(barcode.bytes),
                    backend=NAME,
                )
            )
        return out
