"""Receiving at the dock: deliveries counted by scans, offline like every other flow.

1. :meth:`ReceivingService.find` takes the scan of a notice's reference or of a pallet's
   SSCC (GS1 AI 00) on a notice this device holds (the hub pushes every notice); a dock's
   label (:meth:`dock_of`) says where the goods stand. :meth:`start_blind` starts a
   receipt without a notice, named by the delivery note's reference.
2. :meth:`read` turns an item scan into units: a GS1 code with its GTIN (AI 01, or AI 02
   with a count of contained items, AI 37), lot (10), expiry (17) and serial (21); a case
   GTIN counts its pack quantity, AI 30 a count of units. A lot-tracked item needs its lot,
   a serial-tracked one its serial, one unit per scan; expired units are received only as
   damaged.
3. :meth:`count` records the units (one ``receipt.counted``) with the receipt's local state
   in one unit of work: good units at the dock, damaged ones in quarantine. A negative
   count takes back units counted before (:meth:`take_back`).
4. :meth:`close` needs a reason for every SKU whose good units differ from the notice; it
   records them (``receipt.variance``) and the end of counting (``receipt.closed``). The
   hub then makes put-away tasks for the good units.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from floor_app.domain.codes import CodeKind, ScannedCode
from floor_app.domain.errors import DomainError, NotFound
from floor_app.domain.events import ReceiptClosed, ReceiptCounted, ReceiptVarianceExplained
from floor_app.domain.receiving import (
    Condition,
    Receipt,
    ReceiptKind,
    ReceiptState,
    VarianceReason,
    expiry_refusal,
    tracking_refusal,
)
from floor_app.domain.sku import Sku
from floor_app.store import Store
from floor_app.store.outbox import OutboxRecord, new_event_id

from .errors import reports_store_failures

_FORBIDDEN = set("/+#\x00")


@dataclass(frozen=True, slots=True)
class Counted:
    """Units an item scan stands for, with what the scan carried."""

    sku: Sku
    qty: int
    gtin: str
    lot: str = ""
    expiry: str = ""
    serial: str = ""


@dataclass(frozen=True, slots=True)
class Found:
    """A receipt found by a scan, and the pallet scanned ("" for the notice itself)."""

    receipt: Receipt
    sscc: str = ""


@reports_store_failures
class ReceivingService:
    """The receiving clerk's use cases (see the module docstring)."""

    def __init__(self, store: Store, dock: str = "DOCK-01", quarantine: str = "QUAR-01") -> None:
        self.store = store
        self.dock = dock
        self.quarantine = quarantine

    def open_receipts(self) -> list[Receipt]:
        """Receipts this device can count, by reference."""
        with self.store.unit_of_work() as uow:
            return uow.receipts.open()

    def receipt(self, receipt_id: str) -> Receipt:
        with self.store.unit_of_work() as uow:
            found = uow.receipts.find(receipt_id)
        if found is None:
            raise NotFound(f"no receipt {receipt_id} on this device", code="receiving.unknown")
        return found

    def find(self, raw: str, code: ScannedCode | None) -> Found | None:
        """The open receipt a scan names: its notice's reference, or a pallet's SSCC."""
        with self.store.unit_of_work() as uow:
            if code is not None and code.kind is CodeKind.SSCC:
                receipt = uow.receipts.by_sscc(code.value)
                return None if receipt is None else Found(receipt, code.value)
            receipt = uow.receipts.by_reference(raw.strip())
        return None if receipt is None else Found(receipt)

    def dock_of(self, code: ScannedCode) -> str | None:
        """The dock a location scan names (None: not a location; raises: not a dock)."""
        if code.kind is not CodeKind.LOCATION:
            return None
        with self.store.unit_of_work() as uow:
            kind = uow.catalogue.location_kind(code.value)
        if kind != "dock":
            what = "not a location of this site" if kind is None else f"a {kind} location"
            raise DomainError(
                f"{code.value} is {what}: goods are received at a dock",
                hint="scan the label of the dock the delivery stands at",
                code="receiving.not_dock",
                params={"location": code.value},
            )
        return code.value

    def start_blind(self, reference: str, dock: str) -> Receipt:
        """A receipt without a notice, named by the delivery note's ``reference``."""
        ref = reference.strip()
        if not ref or len(ref) > 64 or not ref.isprintable() or _FORBIDDEN & set(ref):
            raise DomainError(
                f"{ref!r} cannot name a delivery",
                hint="type the delivery note's number (letters, digits, dashes)",
                code="receiving.bad_reference",
                params={"reference": ref[:32]},
            )
        receipt = Receipt(new_event_id(), ref, kind=ReceiptKind.BLIND, dock=dock)
        with self.store.unit_of_work() as uow:
            uow.receipts.save(receipt)
            uow.commit()
        return receipt

    def read(
        self, code: ScannedCode, condition: Condition, today: dt.date | None = None
    ) -> Counted:
        """The units an item scan stands for (raises :class:`DomainError` saying why it
        cannot be counted)."""
        if code.kind is not CodeKind.PRODUCT:
            raise DomainError(
                f"{code.value} is a {code.kind.value} code, not an item",
                hint="scan the barcode on the goods, a pallet's SSCC or a dock",
                code="receiving.not_item",
                params={"code": code.value, "code_kind": code.kind.value},
            )
        with self.store.unit_of_work() as uow:
            try:
                sku = uow.catalogue.sku_by_gtin(code.value)
            except NotFound:
                raise DomainError(
                    f"no item has the barcode {code.value.lstrip('0')}",
                    hint="set the goods aside for a supervisor",
                    code="receiving.unknown_item",
                    params={"code": code.value.lstrip("0")},
                ) from None
            pack = uow.catalogue.pack_qty(code.value)
            lot_tracked, serial_tracked = uow.catalogue.tracking(sku.sku)
        if "37" in code.ais:
            qty = (code.count or 1) * pack
        elif "30" in code.ais:
            qty = code.count or 1
        else:
            qty = pack
        lot = code.batch or ""
        serial = code.serial or ""
        expiry = code.expiry.isoformat() if code.expiry else ""
        refusal = tracking_refusal(
            sku.sku,
            lot_tracked=lot_tracked,
            serial_tracked=serial_tracked,
            lot=lot,
            serial=serial,
            qty=qty,
        )
        if refusal is None and condition is Condition.GOOD:
            refusal = expiry_refusal(expiry, today or dt.date.today())
        if refusal:
            raise DomainError.of(refusal)
        return Counted(sku, qty, code.value, lot, expiry, serial)

    def count(
        self,
        receipt_id: str,
        counted: Counted,
        condition: Condition,
        *,
        dock: str,
        user: str,
        sscc: str = "",
        qty: int | None = None,
    ) -> tuple[Receipt, OutboxRecord]:
        """Record ``counted`` (or ``qty`` of its item: negative takes back) on the receipt;
        good units at ``dock``, damaged ones in quarantine. One event."""
        units = counted.qty if qty is None else qty
        with self.store.unit_of_work() as uow:
            receipt = uow.receipts.find(receipt_id)
            if receipt is None:
                raise NotFound(f"no receipt {receipt_id} on this device", code="receiving.unknown")
            receipt.count(
                counted.sku.sku,
                units,
                condition=condition,
                gtin=counted.gtin,
                lot=counted.lot,
                expiry=counted.expiry,
                sscc=sscc,
                serial=counted.serial,
                late=True,  # closed by another handheld meanwhile: the units count all the same
            )
            if not receipt.dock:
                receipt.dock = dock
            event = uow.emit(
                ReceiptCounted(
                    receipt=receipt.receipt_id,
                    reference=receipt.reference,
                    supplier=receipt.supplier,
                    sku=counted.sku.sku,
                    qty=units,
                    condition=condition.value,
                    location=dock if condition is Condition.GOOD else self.quarantine,
                    user=user,
                    lot=counted.lot,
                    expiry=counted.expiry,
                    serial=counted.serial,
                    sscc=sscc,
                )
            )
            uow.receipts.save(receipt)
            uow.commit()
        return receipt, event

    def close(
        self, receipt_id: str, reasons: dict[str, VarianceReason], user: str
    ) -> tuple[Receipt, list[OutboxRecord]]:
        """End counting: the reasons of the variances, then the close (one unit of work)."""
        with self.store.unit_of_work() as uow:
            receipt = uow.receipts.find(receipt_id)
            if receipt is None:
                raise NotFound(f"no receipt {receipt_id} on this device", code="receiving.unknown")
            variances = receipt.close(reasons)
            events = [
                uow.emit(
                    ReceiptVarianceExplained(
                        receipt=receipt_id,
                        sku=v.sku,
                        expected=v.expected,
                        received=v.good,
                        reason=reasons[v.sku].value,
                        user=user,
                    )
                )
                for v in variances
            ]
            events.append(uow.emit(ReceiptClosed(receipt=receipt_id, user=user)))
            uow.receipts.save(receipt)
            uow.commit()
        return receipt, events

    @staticmethod
    def closed(receipt: Receipt) -> bool:
        return receipt.state not in (ReceiptState.EXPECTED, ReceiptState.RECEIVING)
