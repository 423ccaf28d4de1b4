"""Lots and serials at the pick: the scan must carry the lot of a lot-tracked item, and that
lot must be the one the hub allocated (or, where the site allows it, another lot that has
not expired, recorded as a substitution); expired units are never picked. Each unit of a
serial-tracked item is scanned with its serial number, and a serial is picked once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from .errors import DomainError
from .picking import PickLine


class LotRule(StrEnum):
    """What a site allows when the picker's lot is not the allocated one."""

    EXACT = "exact"  # only the allocated lot
    SUBSTITUTE = "substitute"  # another lot of the item that has not expired, recorded


@dataclass(frozen=True, slots=True)
class PickedLot:
    """The lot a pick takes: ``substituted`` when it is not the allocated one."""

    lot: str
    substituted: bool = False


def check_pick_lot(
    line: PickLine,
    lot: str | None,
    expiry: dt.date | None,
    today: dt.date,
    rule: LotRule = LotRule.EXACT,
) -> PickedLot:
    """The lot a scan of ``line``'s item picks; raises :class:`DomainError` (codes
    ``lot.missing``, ``lot.expired``, ``lot.wrong``) naming why it may not."""
    if not line.lot_tracked:
        return PickedLot("")
    if not lot:
        raise DomainError(
            f"{line.sku} is lot-tracked: scan the code with its lot (GS1 AI 10)",
            hint=f"the lot here is {line.lot}" if line.lot else "",
            code="lot.missing",
            params={"sku": line.sku, "lot": line.lot},
        )
    same = lot == line.lot
    if expiry is None and same and line.expiry:
        expiry = dt.date.fromisoformat(line.expiry)
    if expiry is not None and expiry < today:
        raise DomainError(
            f"lot {lot} expired on {expiry.isoformat()}: do not pick it",
            hint="put it aside for the supervisor",
            code="lot.expired",
            params={"lot": lot, "expiry": expiry.isoformat()},
        )
    if same or not line.lot:
        return PickedLot(lot)
    if rule is LotRule.SUBSTITUTE:
        return PickedLot(lot, substituted=True)
    raise DomainError(
        f"lot {lot} is not the lot to pick: take lot {line.lot}",
        code="lot.wrong",
        params={"scanned": lot, "lot": line.lot},
    )


def check_pick_serial(line: PickLine, serial: str | None, picked: bool) -> str:
    """The serial number a scan of ``line``'s item picks ("" when the item is not
    serial-tracked); ``picked``: that serial is already picked. Raises
    :class:`DomainError` (``serial.missing``, ``serial.twice``) saying why not."""
    if not line.serial_tracked:
        return ""
    if not serial:
        raise DomainError(
            f"{line.sku} is serial-tracked: scan each unit's code with its serial number "
            "(GS1 AI 21)",
            code="serial.missing",
            params={"sku": line.sku},
        )
    if picked:
        raise DomainError(
            f"serial {serial} of {line.sku} was already picked: scan the unit in your hand",
            hint="put this one aside for the supervisor if it is the same unit",
            code="serial.twice",
            params={"serial": serial, "sku": line.sku},
        )
    return serial
