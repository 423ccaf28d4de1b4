"""Barcode decoding for cameras, label checks and benchmarks.

Three backends with one method, ``decode(image) -> list[Decoded]``:

* :class:`ZxingDecoder` (``zxingcpp``): zxing-cpp, every format the floor meets;
* :class:`ZbarDecoder` (``pyzbar``): ZBar through pyzbar, GS1 flag and raw bytes kept;
* :class:`PipelineDecoder` (``pipeline``, also called ``both``): the two combined, the
  better per format, no read where they disagree. This is what the app uses.

``build_decoder(name, symbologies)`` picks one by its configuration name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from floor_app.domain.symbology import Symbology

from .errors import DecoderUnavailable
from .result import Decoded
from .symbols import FLOOR_SYMBOLOGIES

__all__ = [
    "BACKENDS",
    "FLOOR_SYMBOLOGIES",
    "Decoded",
    "Decoder",
    "DecoderUnavailable",
    "build_decoder",
]

BACKENDS: tuple[str, ...] = ("pyzbar", "zxingcpp", "pipeline")
"""Backend names, as in configuration (``both`` is another name for ``pipeline``)."""


class Decoder(Protocol):
    """Anything that finds barcodes in an image."""

    name: str

    def decode(self, image: Any) -> list[Decoded]:
        """Every symbol found in ``image`` (grey or BGR numpy array, or PIL image)."""
        ...


def build_decoder(name: str, symbologies: Iterable[Symbology] = FLOOR_SYMBOLOGIES) -> Decoder:
    """The decoder called ``name``: ``pyzbar``, ``zxingcpp``, ``pipeline`` or ``both``.

    Raises :class:`ValueError` for another name and :class:`DecoderUnavailable` when the
    backend's library is missing.
    """
    chosen = frozenset(symbologies) or FLOOR_SYMBOLOGIES
    if name == "zxingcpp":
        from .zxing import ZxingDecoder

        return ZxingDecoder(chosen)
    if name == "pyzbar":
        from .zbar import ZbarDecoder

        return ZbarDecoder(chosen)
    if name in ("pipeline", "both"):
        from .pipeline import PipelineDecoder

        return PipelineDecoder(chosen)
    raise ValueError(f"unknown decoder {name!r}; one of pyzbar, zxingcpp, pipeline (both)")
