"""Symbology helpers shared by the decoder backends: families, GS1 variants, and the key
that says whether two reads of one symbol carry the same content."""

from __future__ import annotations

from floor_app.domain.symbology import Symbology

FLOOR_SYMBOLOGIES: frozenset[Symbology] = frozenset(
    {
        Symbology.CODE128,
        Symbology.GS1_128,
        Symbology.EAN13,
        Symbology.EAN8,
        Symbology.UPCA,
        Symbology.CODE39,
        Symbology.ITF,
        Symbology.QR,
        Symbology.GS1_QR,
        Symbology.DATAMATRIX,
        Symbology.GS1_DATAMATRIX,
        Symbology.GS1_DATABAR,
        Symbology.PDF417,
    }
)
"""The symbologies a floor camera looks for unless configured otherwise. UPC-E is left out:
both decoders find phantom UPC-E symbols inside damaged EAN-13 (measured), so it is read only
when configured."""

MATRIX_FAMILIES: frozenset[str] = frozenset({"qr", "datamatrix", "pdf417"})
"""Families of 2-D symbols (strong error correction, and a maze of bars in which a 1-D
reader finds phantom codes)."""

_FAMILY: dict[Symbology, str] = {
    Symbology.CODE128: "code128",
    Symbology.GS1_128: "code128",
    Symbology.EAN13: "ean-upc",
    Symbology.EAN8: "ean-upc",
    Symbology.UPCA: "ean-upc",
    Symbology.UPCE: "ean-upc",
    Symbology.QR: "qr",
    Symbology.GS1_QR: "qr",
    Symbology.DATAMATRIX: "datamatrix",
    Symbology.GS1_DATAMATRIX: "datamatrix",
}

_GS1: dict[Symbology, tuple[Symbology, tuple[str, ...]]] = {
    Symbology.CODE128: (Symbology.GS1_128, ("]C1",)),
    Symbology.QR: (Symbology.GS1_QR, ("]Q3", "]Q4")),
    Symbology.DATAMATRIX: (Symbology.GS1_DATAMATRIX, ("]d2", "]d5")),
}


def family(symbology: Symbology) -> str:
    """The symbol family: a GS1-128 and a Code 128 are one family, EAN and UPC another."""
    return _FAMILY.get(symbology, symbology.value)


def families(symbologies: frozenset[Symbology] | set[Symbology]) -> frozenset[str]:
    """The families of ``symbologies``."""
    return frozenset(family(s) for s in symbologies)


def accepts(wanted: frozenset[Symbology], symbology: Symbology) -> bool:
    """True when a read of ``symbology`` answers a search for ``wanted``.

    A GS1 symbol answers a search for its plain symbology and the other way round; a UPC-A
    answers a search for EAN-13 (it is an EAN-13 with a leading zero). UPC-E and EAN-8
    answer only for themselves.
    """
    if symbology in wanted:
        return True
    for plain, (gs1, _aims) in _GS1.items():
        if symbology in (plain, gs1) and (plain in wanted or gs1 in wanted):
            return True
    return symbology is Symbology.UPCA and Symbology.EAN13 in wanted


def expand_upce(code: str) -> str:
    """A UPC-E code (8 digits: number system, 6 digits, check) as the 13 digits of the
    EAN-13 it stands for; other text comes back unchanged."""
    if len(code) != 8 or not code.isdigit() or code[0] not in "01":
        return code
    ns, d, check = code[0], code[1:7], code[7]
    last = d[5]
    if last in "012":
        body = f"{d[0:2]}{last}0000{d[2:5]}"
    elif last == "3":
        body = f"{d[0:3]}00000{d[3:5]}"
    elif last == "4":
        body = f"{d[0:4]}00000{d[4]}"
    else:
        body = f"{d[0:5]}0000{last}"
    return f"0{ns}{body}{check}"


def gs1_variant(symbology: Symbology, aim: str) -> Symbology:
    """``symbology``, or its GS1 variant when the AIM identifier says the symbol is GS1."""
    gs1 = _GS1.get(symbology)
    if gs1 is not None and aim in gs1[1]:
        return gs1[0]
    return symbology


def content_key(symbology: Symbology, text: str, raw: bytes) -> tuple[str, bytes]:
    """What must be equal for two reads of one symbol to agree.

    EAN/UPC compare as 13 digits (a UPC-A is an EAN-13 with a leading zero); QR codes and
    DataMatrix compare their bytes (the text depends on a character-set guess); the rest
    compare text.
    """
    fam = family(symbology)
    if fam == "ean-upc" and text.isdigit() and len(text) in (12, 13):
        return (fam, text.zfill(13).encode("ascii"))
    if fam in ("qr", "datamatrix"):
        return (fam, raw)
    return (fam, text.encode("utf-8", "surrogatepass"))
