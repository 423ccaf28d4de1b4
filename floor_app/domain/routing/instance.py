"""Routing instances: a layout plus pick locations, as read from JSON (docs/routing.md).

The format::

    {
      "name": "demo-30",                        # optional
      "layout": {"aisles": 10, "bays": 20, "middle_cross_after": [4], "depot": [0, 0]},
      "picks": [[3, 7], {"aisle": 5, "bay": 12, "code": "A05-12-2A"}]
    }

``layout`` takes the keys of :meth:`Layout.from_dict` (missing keys take the defaults);
each pick is an ``[aisle, bay]`` pair or an object with ``aisle``, ``bay`` and an
optional ``code``. This module only reads the parsed mapping; reading the file is the
caller's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..layout import Layout
from .errors import InstanceError


@dataclass(frozen=True, slots=True)
class RoutingInstance:
    """A layout and the (aisle, bay) stops of one tour; ``codes`` label the stops."""

    name: str
    layout: Layout
    stops: tuple[tuple[int, int], ...]
    codes: tuple[str, ...]

    def to_mapping(self) -> dict[str, Any]:
        """The JSON-ready mapping :func:`instance_from_mapping` reads back."""
        picks: list[Any] = []
        for (aisle, bay), code in zip(self.stops, self.codes, strict=True):
            picks.append({"aisle": aisle, "bay": bay, "code": code} if code else [aisle, bay])
        return {"name": self.name, "layout": self.layout.to_dict(), "picks": picks}


def _whole(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InstanceError(f"{where} must be a whole number, got {value!r}")
    return value


def instance_from_mapping(data: Mapping[str, Any], *, default_name: str = "") -> RoutingInstance:
    """Validate a parsed instance; errors name the key or the pick at fault."""
    if not isinstance(data, Mapping):
        raise InstanceError(f"an instance must be a JSON object, got {type(data).__name__}")
    unknown = sorted(str(k) for k in data if k not in ("name", "layout", "picks"))
    if unknown:
        raise InstanceError(
            f"unknown instance key {unknown[0]!r}", hint="known keys: name, layout, picks"
        )
    name = data.get("name", default_name)
    if not isinstance(name, str):
        raise InstanceError(f"instance key 'name' must be text, got {name!r}")
    if "layout" not in data:
        raise InstanceError("the instance has no 'layout'")
    layout = Layout.from_dict(data["layout"])
    picks = data.get("picks")
    if not isinstance(picks, list):
        raise InstanceError(f"instance key 'picks' must be a list, got {picks!r}")
    stops: list[tuple[int, int]] = []
    codes: list[str] = []
    for i, pick in enumerate(picks):
        where = f"picks[{i}]"
        if isinstance(pick, Mapping):
            extra = sorted(str(k) for k in pick if k not in ("aisle", "bay", "code"))
            if extra or "aisle" not in pick or "bay" not in pick:
                raise InstanceError(
                    f"{where} must have 'aisle' and 'bay' (and optionally 'code'), got {pick!r}"
                )
            code = pick.get("code", "")
            if not isinstance(code, str):
                raise InstanceError(f"{where}.code must be text, got {code!r}")
            aisle = _whole(pick["aisle"], f"{where}.aisle")
            bay = _whole(pick["bay"], f"{where}.bay")
        elif isinstance(pick, list) and len(pick) == 2:
            aisle = _whole(pick[0], f"{where}[0] (aisle)")
            bay = _whole(pick[1], f"{where}[1] (bay)")
            code = ""
        else:
            raise InstanceError(f"{where} must be [aisle, bay] or an object, got {pick!r}")
        stops.append((aisle, bay))
        codes.append(code)
    return RoutingInstance(name, layout, tuple(stops), tuple(codes))
