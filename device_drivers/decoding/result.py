"""What a barcode decoder reports for one symbol in an image: :class:`Decoded`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from floor_app.domain.symbology import Symbology

Point = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Decoded:
    """One symbol found in an image.

    ``text`` is the content without AIM identifier, GS1 group separators (``\\x1d``) kept;
    ``aim`` the AIM symbology identifier a scanner would send (``]C1`` for GS1-128);
    ``position`` the symbol's centre and ``corners`` its outline, in image pixels;
    ``raw`` the content bytes as encoded in the symbol. ``certain`` is False when the text
    had to be guessed from bytes in an unknown character set (a QR code in byte mode that is
    not valid UTF-8, read by a decoder that gives no hint): such a read is never trusted on
    its own by the pipeline.
    """

    text: str
    symbology: Symbology
    aim: str
    position: Point
    corners: tuple[Point, ...]
    raw: bytes
    backend: str
    certain: bool = True

    @property
    def with_aim(self) -> str:
        """The text as a scanner with AIM identifiers would send it."""
        return f"{self.aim}{self.text}"

    def moved(self, dx: int, dy: int, scale: float = 1.0) -> Decoded:
        """The same symbol in the coordinates of a larger image: scaled, then shifted."""

        def place(p: Point) -> Point:
            return (round(p[0] * scale) + dx, round(p[1] * scale) + dy)

        return Decoded(
            text=self.text,
            symbology=self.symbology,
            aim=self.aim,
            position=place(self.position),
            corners=tuple(place(p) for p in self.corners),
            raw=self.raw,
            backend=self.backend,
            certain=self.certain,
        )

    def bounds(self) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)`` around the corners (or the centre)."""
        points: Sequence[Point] = self.corners or (self.position,)
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        return (min(xs), min(ys), max(xs), max(ys))


def centre(points: Sequence[Point]) -> Point:
    """The mean of ``points`` (the centre of a symbol's outline)."""
    if not points:
        return (0, 0)
    return (
        round(sum(p[0] for p in points) / len(points)),
        round(sum(p[1] for p in points) / len(points)),
    )
