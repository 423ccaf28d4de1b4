"""Receiving goods at the dock: advance ship notices and blind receipts.

A :class:`Receipt` is one delivery: from an advance ship notice (``kind`` "notice": the
supplier, its reference and the lines it announced, each with its SKU or GTIN, quantity,
and maybe lot, expiry and the pallet's SSCC) or blind (``kind`` "blind": no notice, every
line is what was counted). Counting adds units to the line of the SKU and lot (a line of
the SKU without a lot takes the first lot counted on it; another lot is a line of its own);
damaged units are counted apart and go to quarantine.

Over and under receipts are judged per SKU (a supplier sends the SKU, the lots are what
they happened to be): :meth:`Receipt.variances` lists every SKU whose good units differ
from what the notice announced, and closing the receipt needs a
:class:`VarianceReason` for each. Good units become put-away work once the receipt is
closed; they are available to orders only when put away.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from .errors import DomainError, IllegalTransition, QuantityError, Reason


class ReceiptKind(StrEnum):
    """Where a receipt comes from."""

    NOTICE = "notice"
    BLIND = "blind"


class ReceiptState(StrEnum):
    """Where a receipt is: announced, being counted, closed, every good unit put away."""

    EXPECTED = "expected"
    RECEIVING = "receiving"
    CLOSED = "closed"
    PUT_AWAY = "put_away"
    CANCELLED = "cancelled"


#: States in which units may still be counted.
COUNTABLE = frozenset({ReceiptState.EXPECTED, ReceiptState.RECEIVING})


class Condition(StrEnum):
    """How a counted unit arrived."""

    GOOD = "good"
    DAMAGED = "damaged"


class VarianceReason(StrEnum):
    """Why a SKU's good units differ from the notice."""

    SHORT_SHIPPED = "short_shipped"
    TO_FOLLOW = "to_follow"
    DAMAGED = "damaged"
    OVER_SHIPPED = "over_shipped"
    NOT_ON_NOTICE = "not_on_notice"
    OTHER = "other"


UNDER_REASONS = (
    VarianceReason.SHORT_SHIPPED,
    VarianceReason.TO_FOLLOW,
    VarianceReason.DAMAGED,
    VarianceReason.OTHER,
)
OVER_REASONS = (VarianceReason.OVER_SHIPPED, VarianceReason.NOT_ON_NOTICE, VarianceReason.OTHER)


@dataclass(slots=True)
class ReceiptLine:
    """One line: ``expected`` units of a SKU (0 for a line only counted), with the lot,
    expiry (ISO date or "") and pallet SSCC the notice gave; ``received`` good and
    ``damaged`` units counted so far."""

    line_no: int
    sku: str
    gtin: str = ""
    expected: int = 0
    lot: str = ""
    expiry: str = ""
    sscc: str = ""
    received: int = 0
    damaged: int = 0

    @property
    def counted(self) -> int:
        return self.received + self.damaged

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in LINE_FIELDS}


#: The fields of a :class:`ReceiptLine`, in order.
LINE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ReceiptLine))


@dataclass(frozen=True, slots=True)
class Variance:
    """A SKU whose good units differ from the notice (``good - expected`` units over)."""

    sku: str
    expected: int
    good: int
    damaged: int

    @property
    def over(self) -> int:
        return self.good - self.expected

    @property
    def reasons(self) -> tuple[VarianceReason, ...]:
        """The reasons that can explain it."""
        return OVER_REASONS if self.over > 0 else UNDER_REASONS


@dataclass(slots=True)
class Receipt:
    """One delivery being received (see the module docstring)."""

    receipt_id: str
    reference: str
    supplier: str = ""
    kind: ReceiptKind = ReceiptKind.NOTICE
    dock: str = ""
    state: ReceiptState = ReceiptState.EXPECTED
    lines: list[ReceiptLine] = field(default_factory=list)
    #: serial numbers counted on this receipt (each once)
    serials: list[str] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.state in COUNTABLE

    def expected_of(self, sku: str) -> int:
        return sum(ln.expected for ln in self.lines if ln.sku == sku)

    def skus(self) -> list[str]:
        return list(dict.fromkeys(ln.sku for ln in self.lines))

    def sscc_lines(self, sscc: str) -> list[ReceiptLine]:
        """The lines the notice put on the pallet ``sscc``."""
        return [ln for ln in self.lines if ln.sscc and ln.sscc == sscc]

    def line_for(self, sku: str, lot: str) -> ReceiptLine | None:
        """The line counting ``sku`` of ``lot``: the one of that lot, else one of the SKU
        without a lot (taking the lot if nothing was counted on it yet)."""
        for ln in self.lines:
            if ln.sku == sku and ln.lot == lot:
                return ln
        for ln in self.lines:
            if ln.sku == sku and not ln.lot and (not lot or ln.counted == 0):
                return ln
        return None

    def count(
        self,
        sku: str,
        qty: int,
        *,
        condition: Condition = Condition.GOOD,
        gtin: str = "",
        lot: str = "",
        expiry: str = "",
        sscc: str = "",
        serial: str = "",
        late: bool = False,
    ) -> ReceiptLine:
        """Count ``qty`` units (negative: take back units counted before); the line.

        ``late``: units counted on another handheld after this receipt was closed (they are
        on the dock all the same); only new units, never a take-back."""
        closed = self.state in (ReceiptState.CLOSED, ReceiptState.PUT_AWAY)
        if not self.is_open and not (late and closed and qty > 0):
            raise IllegalTransition(
                f"receipt {self.reference} is {self.state.value}: nothing more can be counted",
                code="receiving.not_open",
                params={"reference": self.reference, "receipt_state": self.state.value},
            )
        if qty == 0:
            raise QuantityError("a count needs a quantity", code="receiving.qty_zero")
        line = self.line_for(sku, lot)
        if line is None:
            if qty < 0:
                raise QuantityError(
                    f"no {sku} of lot {lot or '-'} was counted on this receipt",
                    code="receiving.nothing_to_take_back",
                    params={"sku": sku, "lot": lot or "-"},
                )
            line = ReceiptLine(
                line_no=max((ln.line_no for ln in self.lines), default=0) + 1,
                sku=sku,
                gtin=gtin,
                lot=lot,
                expiry=expiry,
                sscc=sscc,
            )
            self.lines.append(line)
        have = line.received if condition is Condition.GOOD else line.damaged
        if have + qty < 0:
            raise QuantityError(
                f"only {have} {condition.value} x {sku} were counted: cannot take back {-qty}",
                code="receiving.take_back_more",
                params={"have": have, "sku": sku, "qty": -qty},
            )
        if serial:
            if qty > 0 and serial in self.serials:
                raise DomainError(
                    f"serial {serial} was counted already on this receipt",
                    hint="each unit is scanned once; set this one aside for a supervisor",
                    code="receiving.serial_twice",
                    params={"serial": serial},
                )
            if qty > 0:
                self.serials.append(serial)
            elif serial in self.serials:
                self.serials.remove(serial)
        if lot and not line.lot:
            line.lot = lot
        if expiry and not line.expiry:
            line.expiry = expiry
        if condition is Condition.GOOD:
            line.received += qty
        else:
            line.damaged += qty
        if self.state is ReceiptState.EXPECTED:
            self.state = ReceiptState.RECEIVING
        return line

    def refused(
        self, sku: str, qty: int, condition: Condition, lot: str = "", serial: str = ""
    ) -> ReceiptLine | None:
        """The hub refused a count of ``qty`` units: undo it here, whatever the receipt's
        state (never below zero); the line, or None when no line counted them."""
        line = self.line_for(sku, lot)
        if line is None:
            return None
        if condition is Condition.GOOD:
            line.received = max(0, line.received - qty)
        else:
            line.damaged = max(0, line.damaged - qty)
        if serial and qty > 0 and serial in self.serials:
            self.serials.remove(serial)
        elif serial and qty < 0 and serial not in self.serials:
            self.serials.append(serial)
        return line

    def variances(self) -> list[Variance]:
        """Every SKU whose good units differ from what the notice announced (none on a
        blind receipt: it announced nothing)."""
        if self.kind is ReceiptKind.BLIND:
            return []
        out = []
        for sku in self.skus():
            lines = [ln for ln in self.lines if ln.sku == sku]
            good = sum(ln.received for ln in lines)
            expected = sum(ln.expected for ln in lines)
            if good != expected:
                damaged = sum(ln.damaged for ln in lines)
                out.append(Variance(sku, expected, good, damaged))
        return out

    def close(self, reasons: dict[str, VarianceReason]) -> list[Variance]:
        """Close the receipt; every variance needs one of its reasons. The variances."""
        if not self.is_open:
            raise IllegalTransition(
                f"receipt {self.reference} is {self.state.value}",
                code="receiving.not_open",
                params={"reference": self.reference, "receipt_state": self.state.value},
            )
        if not any(ln.counted for ln in self.lines):
            raise DomainError(
                f"nothing was counted on receipt {self.reference}",
                hint="count the goods first, or leave the receipt open",
                code="receiving.nothing_counted",
                params={"reference": self.reference},
            )
        variances = self.variances()
        for v in variances:
            reason = reasons.get(v.sku)
            if reason is None or reason not in v.reasons:
                raise DomainError(
                    f"{v.sku}: {v.good} good units against {v.expected} expected needs a reason",
                    code="receiving.reason_missing",
                    params={"sku": v.sku, "good": v.good, "expected": v.expected},
                )
        self.state = ReceiptState.CLOSED
        return variances

    def as_dict(self) -> dict[str, Any]:
        return {
            "receipt_id": self.receipt_id,
            "reference": self.reference,
            "supplier": self.supplier,
            "kind": self.kind.value,
            "dock": self.dock,
            "state": self.state.value,
            "lines": [ln.as_dict() for ln in self.lines],
            "serials": list(self.serials),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Receipt:
        return cls(
            receipt_id=str(data["receipt_id"]),
            reference=str(data["reference"]),
            supplier=str(data.get("supplier", "")),
            kind=ReceiptKind(data.get("kind", ReceiptKind.NOTICE)),
            dock=str(data.get("dock", "")),
            state=ReceiptState(data.get("state", ReceiptState.EXPECTED)),
            lines=[ReceiptLine(**ln) for ln in data.get("lines", [])],
            serials=[str(s) for s in data.get("serials", [])],
        )


def expiry_refusal(expiry: str, today: dt.date) -> Reason | None:
    """Why units with ``expiry`` (ISO date or "") cannot be received as good (None: they can)."""
    if expiry and expiry < today.isoformat():
        return Reason(
            f"these units expired on {expiry}: receive them as damaged (to quarantine)",
            "receiving.expired",
            {"expiry": expiry},
        )
    return None


def tracking_refusal(
    sku: str, *, lot_tracked: bool, serial_tracked: bool, lot: str, serial: str, qty: int
) -> Reason | None:
    """Why a count of ``sku`` lacks what its tracking needs (None: it has it)."""
    if lot_tracked and not lot:
        return Reason(
            f"{sku} is lot-tracked: scan the GS1 label that carries its lot (AI 10)",
            "receiving.lot_missing",
            {"sku": sku},
        )
    if serial_tracked and not serial:
        return Reason(
            f"{sku} is serial-tracked: scan each unit's serial number (AI 21)",
            "receiving.serial_missing",
            {"sku": sku},
        )
    if serial_tracked and abs(qty) != 1:
        return Reason(
            f"{sku} is serial-tracked: one scan per unit, not {qty}",
            "receiving.serial_one",
            {"sku": sku, "qty": qty},
        )
    return None
