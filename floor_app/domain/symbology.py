"""AIM symbology identifiers (ISO/IEC 15424): ``]C1``, ``]E0``, ``]Q3``, ``]d2`` ...

Scanners configured to send them prefix every code with ``]`` + a code character + a
modifier. They tell a GS1-128 from a plain Code 128, and a GS1 DataMatrix from a plain one,
which matters because only GS1 symbols carry element strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Symbology(StrEnum):
    """Barcode symbologies the floor meets."""

    CODE128 = "code128"
    GS1_128 = "gs1-128"
    EAN13 = "ean13"
    EAN8 = "ean8"
    UPCA = "upca"
    UPCE = "upce"
    CODE39 = "code39"
    ITF = "itf"
    QR = "qr"
    GS1_QR = "gs1-qr"
    DATAMATRIX = "datamatrix"
    GS1_DATAMATRIX = "gs1-datamatrix"
    GS1_DATABAR = "gs1-databar"
    PDF417 = "pdf417"
    UNKNOWN = "unknown"

    @property
    def is_gs1(self) -> bool:
        """True for symbologies whose content is a GS1 element string."""
        return self in {
            Symbology.GS1_128,
            Symbology.GS1_QR,
            Symbology.GS1_DATAMATRIX,
            Symbology.GS1_DATABAR,
        }


# (code character, modifier) -> symbology; modifier None matches any modifier.
_AIM_TABLE: dict[tuple[str, str | None], Symbology] = {
    ("C", "1"): Symbology.GS1_128,
    ("C", None): Symbology.CODE128,
    ("E", "0"): Symbology.EAN13,  # also UPC-A and UPC-E, sent as EAN-13
    ("E", "4"): Symbology.EAN8,
    ("E", None): Symbology.EAN13,
    ("A", None): Symbology.CODE39,
    ("I", None): Symbology.ITF,
    ("Q", "3"): Symbology.GS1_QR,
    ("Q", "4"): Symbology.GS1_QR,
    ("Q", None): Symbology.QR,
    ("d", "2"): Symbology.GS1_DATAMATRIX,
    ("d", "5"): Symbology.GS1_DATAMATRIX,
    ("d", None): Symbology.DATAMATRIX,
    ("e", None): Symbology.GS1_DATABAR,
    ("L", None): Symbology.PDF417,
}


@dataclass(frozen=True, slots=True)
class AimPrefix:
    """A parsed AIM symbology identifier."""

    identifier: str
    symbology: Symbology


def split_aim(text: str) -> tuple[AimPrefix | None, str]:
    """Split an AIM symbology identifier off ``text``.

    Returns ``(prefix, rest)``; ``prefix`` is None when the text has no identifier. An
    identifier with an unknown code character is kept as :attr:`Symbology.UNKNOWN` so the
    content is still usable.
    """
    if len(text) >= 3 and text[0] == "]":
        code, modifier = text[1], text[2]
        symbology = _AIM_TABLE.get((code, modifier)) or _AIM_TABLE.get((code, None))
        return AimPrefix(text[:3], symbology or Symbology.UNKNOWN), text[3:]
    return None, text


def aim_identifier(symbology: Symbology) -> str:
    """The AIM identifier a scanner would send for ``symbology`` (for tests and the camera)."""
    for (code, modifier), sym in _AIM_TABLE.items():
        if sym is symbology and modifier is not None:
            return f"]{code}{modifier}"
    for (code, modifier), sym in _AIM_TABLE.items():
        if sym is symbology:
            return f"]{code}{modifier or '0'}"
    return ""
