"""Storage locations: the printed code a picker scans and where it is on the floor."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .codes import LOCATION_RE, SPECIAL_LOCATION_RE
from .errors import InvalidBarcode


class LocationKind(StrEnum):
    """What a location is used for."""

    PICK = "pick"  # a pick face, refilled from reserve
    RESERVE = "reserve"  # overstock, usually the top level
    PACK = "pack"  # a packing station
    STAGING = "staging"
    DOCK = "dock"
    QUARANTINE = "quarantine"
    RETURNS = "returns"


class Side(StrEnum):
    """Which side of the aisle a pick face is on, looking from the front cross aisle."""

    LEFT = "left"
    RIGHT = "right"


@dataclass(frozen=True, slots=True)
class Location:
    """A location. ``code`` is printed on the shelf label (e.g. ``A03-12-2A``).

    ``x`` and ``y`` are floor coordinates in metres: ``x`` across the aisles, ``y`` along
    them from the front cross aisle. Routing works on these.
    """

    code: str
    site: str
    zone: str
    aisle: int
    bay: int
    level: int
    bin: str
    x: float
    y: float
    kind: LocationKind = LocationKind.PICK
    side: Side = Side.LEFT

    @staticmethod
    def make_code(zone: str, aisle: int, bay: int, level: int, bin_: str) -> str:
        """The printed code for these coordinates."""
        return f"{zone}{aisle:02d}-{bay:02d}-{level}{bin_}"

    @staticmethod
    def parse_code(code: str) -> tuple[str, int, int, int, str]:
        """Split a rack location code into (zone, aisle, bay, level, bin)."""
        m = LOCATION_RE.match(code.strip().upper())
        if not m:
            if SPECIAL_LOCATION_RE.match(code.strip().upper()):
                raise InvalidBarcode(
                    f"{code} is a station location, not a rack location",
                    code="location.station",
                    params={"code": code},
                )
            raise InvalidBarcode(
                f"{code!r} is not a location code",
                hint="location codes look like A03-12-2A (zone+aisle-bay-level+bin)",
                code="location.bad_code",
                params={"code": code},
            )
        return (
            m["zone"],
            int(m["aisle"]),
            int(m["bay"]),
            int(m["level"]),
            m["bin"],
        )
