"""The decoder the floor uses: zxing-cpp first, ZBar beside it, and a rule for each family
when they disagree.

Measured on the generated benchmark set (docs/benchmarks/drivers-camera-printer.md) and on
public photo sets (DESIGN.md): zxing-cpp reads more Code 128, QR and DataMatrix than ZBar,
faster, without wrong reads; ZBar reads some EAN-13 that zxing-cpp misses and reads no
DataMatrix. So for each image:

1. zxing-cpp reads every format; its reads carry the AIM identifier.
2. ZBar reads the families in ``zbar_families`` (by default EAN/UPC, Code 128 and QR: not
   ITF, Code 39 or DataBar, where it finds phantom codes in noise and inside 2-D symbols).
3. A ZBar read on the same spot as a zxing-cpp read of the same family confirms it when the
   content agrees (bytes for QR, the 13 digits for EAN/UPC, the text otherwise) and the
   zxing-cpp read is kept. When the content differs, or a symbol of another family is read
   on the same spot, one of the two is wrong (counted in :attr:`PipelineDecoder.conflicts`):
   in the families where zxing-cpp is the better reader (``zxing_wins``: Code 128, QR,
   DataMatrix; on photos ZBar misread a Code 128 that zxing-cpp read right) zxing-cpp's read
   is kept, so the pipeline never reads fewer of them than zxing-cpp alone; elsewhere
   (EAN/UPC, a mere mod-10 check, where each backend reads what the other misses) nothing
   tells which is wrong and both are dropped. A wrong read is worse than none.
4. A ZBar read that zxing-cpp did not make is kept only for the families in
   ``zbar_alone`` (by default EAN/UPC, Code 128 and QR: each carries a check, and ZBar made
   no wrong read of them in the benchmark) and only when its text is certain (QR bytes that
   are not UTF-8 are a character-set guess). A 1-D read by ZBar inside a 2-D symbol read by
   zxing-cpp is a phantom (bars found in the maze of modules) and ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from floor_app.domain.symbology import Symbology

from .images import as_gray
from .result import Decoded
from .symbols import FLOOR_SYMBOLOGIES, MATRIX_FAMILIES, content_key, family
from .zbar import ZbarDecoder
from .zxing import ZxingDecoder

NAME = "pipeline"

ZBAR_ALONE_DEFAULT: frozenset[str] = frozenset({"ean-upc", "code128", "qr"})
"""Families where a ZBar read is trusted without a zxing-cpp read: each carries a check
(EAN/UPC check digit, Code 128 mod-103 check character, QR Reed-Solomon) and ZBar made no
wrong read of them in the benchmark. Not ITF, Code 39 or DataBar, where ZBar finds phantom
codes in noise and inside 2-D symbols."""


ZXING_WINS_DEFAULT: frozenset[str] = frozenset({"code128", "qr", "datamatrix", "pdf417"})
"""Families where zxing-cpp's read stands when ZBar contradicts it: zxing-cpp reads more of
them and made no wrong read of them on photos, ZBar did."""


class PipelineDecoder:
    """zxing-cpp and ZBar combined (see the module docstring).

    ``zbar_families`` is what ZBar searches (None: :data:`ZBAR_ALONE_DEFAULT`); ``zxing``
    and ``zbar`` may be given ready-made (with other search options).
    """

    name = NAME

    def __init__(
        self,
        symbologies: Iterable[Symbology] = FLOOR_SYMBOLOGIES,
        *,
        zbar_families: Iterable[str] | None = None,
        zbar_alone: Iterable[str] = ZBAR_ALONE_DEFAULT,
        zxing_wins: Iterable[str] = ZXING_WINS_DEFAULT,
        zxing: ZxingDecoder | None = None,
        zbar: ZbarDecoder | None = None,
    ) -> None:
        self.symbologies = frozenset(symbologies)
        self.zxing = zxing or ZxingDecoder(self.symbologies)
        if zbar is None:
            wanted = set(ZBAR_ALONE_DEFAULT if zbar_families is None else zbar_families)
            chosen = frozenset(s for s in self.symbologies if family(s) in wanted)
            try:
                zbar = ZbarDecoder(chosen) if chosen else None
            except ValueError:  # nothing ZBar can read among them
                zbar = None
        self.zbar = zbar
        self.zbar_alone = frozenset(zbar_alone)
        self.zxing_wins = frozenset(zxing_wins)
        self.conflicts = 0

    def decode(self, image: Any) -> list[Decoded]:
        """Every symbol in ``image`` that the two decoders do not contradict."""
        gray = as_gray(image)
        primary = self.zxing.decode(gray)
        secondary = self.zbar.decode(gray) if self.zbar is not None else []
        return self.merge(primary, secondary)

    def merge(self, primary: list[Decoded], secondary: list[Decoded]) -> list[Decoded]:
        """Combine zxing-cpp's reads (``primary``) with ZBar's (``secondary``)."""
        dropped: set[int] = set()
        extra: list[Decoded] = []
        for other in secondary:
            overlapping = [i for i, read in enumerate(primary) if _overlap(read, other)]
            if (
                overlapping
                and family(other.symbology) not in MATRIX_FAMILIES
                and all(family(primary[i].symbology) in MATRIX_FAMILIES for i in overlapping)
            ):
                continue  # a 1-D phantom inside a 2-D symbol: ZBar reads bars in the maze
            other_key = content_key(other.symbology, other.text, other.raw)
            if any(
                content_key(primary[i].symbology, primary[i].text, primary[i].raw) == other_key
                for i in overlapping
            ):
                continue  # confirmed
            same_family = [
                i for i in overlapping if family(primary[i].symbology) == family(other.symbology)
            ]
            # Another family overlapping is only a conflict when it sits on the symbol's
            # centre (neighbouring symbols may touch at their edges).
            contested = same_family or [
                i for i in overlapping if _contains(primary[i], other.position)
            ]
            if contested:
                self.conflicts += 1
                dropped.update(
                    i for i in contested if family(primary[i].symbology) not in self.zxing_wins
                )
            elif family(other.symbology) in self.zbar_alone and other.certain:
                extra.append(other)
        kept = [read for i, read in enumerate(primary) if i not in dropped]
        for read in extra:
            if not any(_contains(k, read.position) or _contains(read, k.position) for k in kept):
                kept.append(read)
        return kept


def _overlap(a: Decoded, b: Decoded) -> bool:
    al, at, ar, ab = a.bounds()
    bl, bt, br, bb = b.bounds()
    return al <= br and bl <= ar and at <= bb and bt <= ab


def _contains(a: Decoded, point: tuple[int, int]) -> bool:
    left, top, right, bottom = a.bounds()
    return left <= point[0] <= right and top <= point[1] <= bottom


class CameraPipelineDecoder:
    """The pipeline for a stream of frames: zxing-cpp on every frame, ZBar (at scan density
    ``zbar_density``) beside it on every ``zbar_every``-th frame only.

    A code stays in view for many frames, so ZBar still gets its look at every code while
    costing a fraction of its time: on one core zxing-cpp alone decodes a 1280x720 frame in
    about 16 ms and ZBar needs 40 to 80 ms more (measured, see
    docs/benchmarks/drivers-camera-printer.md).
    """

    name = NAME

    def __init__(
        self,
        symbologies: Iterable[Symbology] = FLOOR_SYMBOLOGIES,
        *,
        zbar_every: int = 8,
        zbar_density: int = 2,
    ) -> None:
        if zbar_every < 1:
            raise ValueError("zbar_every must be at least 1")
        chosen = frozenset(symbologies)
        zbar_symbologies = frozenset(s for s in chosen if family(s) in ZBAR_ALONE_DEFAULT)
        zbar = ZbarDecoder(zbar_symbologies, density=zbar_density) if zbar_symbologies else None
        self.pipeline = PipelineDecoder(chosen, zbar=zbar)
        self.zbar_every = zbar_every
        self._frames = 0

    @property
    def conflicts(self) -> int:
        """Reads dropped because the two decoders disagreed."""
        return self.pipeline.conflicts

    def decode(self, image: Any) -> list[Decoded]:
        """The symbols in this frame (ZBar joins in on every ``zbar_every``-th frame)."""
        self._frames += 1
        if self._frames % self.zbar_every == 0:
            return self.pipeline.decode(image)
        return self.pipeline.zxing.decode(image)
