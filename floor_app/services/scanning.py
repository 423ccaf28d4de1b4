"""Scans as the floor screens take them: classification, and the quantity-field guard.

A picker may type a quantity instead of scanning every unit. A keyboard-wedge scanner
types into whatever field has the focus, so a barcode can land in the quantity field:
:func:`read_quantity` tells a quantity from a code by its shape (a quantity is at most
:data:`MAX_QTY_DIGITS` digits) and, where the wedge decoder reports it, by key timing
(``machine_typed``). A code that landed there is handed back as a scan, never taken as
a quantity of thousands.
"""

from __future__ import annotations

from dataclasses import dataclass

from floor_app.domain.codes import ScannedCode, classify
from floor_app.domain.errors import InvalidBarcode, QuantityError

MAX_QTY_DIGITS = 4


@dataclass(frozen=True, slots=True)
class QuantityEntry:
    """A typed quantity."""

    qty: int


def read_quantity(
    text: str, open_qty: int, *, machine_typed: bool = False
) -> QuantityEntry | ScannedCode:
    """A quantity typed into the quantity field, or the scan that landed there by mistake.

    Raises :class:`QuantityError` for a quantity that is zero or more than ``open_qty``,
    and :class:`InvalidBarcode` for text that is neither a quantity nor a floor code.
    """
    entry = _typed(text, machine_typed, "type how many you took, or scan the item")
    if isinstance(entry, QuantityEntry):
        if entry.qty <= 0:
            raise QuantityError("the quantity must be at least 1", code="qty.at_least_one")
        if entry.qty > open_qty:
            raise QuantityError(
                f"{entry.qty} is more than the {open_qty} still open on this line",
                hint="count again; put any extra back",
                code="pick.typed_more_than_open",
                params={"qty": entry.qty, "open": open_qty},
            )
    return entry


def read_count(text: str, *, machine_typed: bool = False) -> QuantityEntry | ScannedCode:
    """A counted quantity typed in (0 or more: a place may be empty), or the scan that landed
    in the field by mistake (the same guard as :func:`read_quantity`).

    Raises :class:`QuantityError` for a negative number.
    """
    body = text.strip()
    if body.startswith("-") and body[1:].isdigit() and len(body) <= MAX_QTY_DIGITS + 1:
        raise QuantityError(
            f"a count cannot be negative ({body})",
            hint="type the units you found, 0 or more",
            code="count.negative_typed",
            params={"counted": body},
        )
    return _typed(body, machine_typed, "type how many you found, or scan the item")


def _typed(text: str, machine_typed: bool, hint: str) -> QuantityEntry | ScannedCode:
    body = text.strip()
    if not body:
        raise QuantityError("no quantity typed", hint=hint, code="qty.none_typed")
    if body.isdigit() and len(body) <= MAX_QTY_DIGITS and not machine_typed:
        return QuantityEntry(int(body))
    try:
        return classify(body)
    except InvalidBarcode as exc:
        if body.startswith("]") or "\x1d" in body or (body.isdigit() and len(body) >= 8):
            raise  # plainly a barcode (a symbology prefix, a GS1 string): its own reason
        raise InvalidBarcode(
            f"{body!r} is neither a quantity nor a barcode",
            hint=exc.hint or "type a number",
            code="scan.not_quantity",
            params={"text": body},
        ) from exc
