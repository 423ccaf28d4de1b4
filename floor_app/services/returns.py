"""The returns desk: a returned parcel received item by item, graded and put away.

1. :meth:`ReturnsService.open` takes the parcel's tracking number (from its shipping label)
   or the order id. A tracking number is resolved through this device's own label jobs.
   When the device holds the order, every item is checked against it here: a SKU the
   parcel did not ship, or more units than were shipped (counting what this device
   received back before), is refused at once and nothing is recorded. When it does not
   (the parcel was packed at another station), the return is recorded against the scanned
   reference and the hub checks it: a refusal comes back with its reason (``EventRejected``).
2. :meth:`ReturnsService.item` takes an item scan (its GTIN).
3. :meth:`ReturnsService.suggest` names where the unit goes for its grade: resaleable to the
   SKU's pick face (or another location holding it), damaged and wrong items to the
   quarantine location of the settings.
4. :meth:`ReturnsService.put` takes the scan of the location the unit was put in (the
   suggested one, or another that fits the grade) and records one
   :class:`~floor_app.domain.events.ReturnReceived` with the local stock change in one unit
   of work: offline like every other flow, synced exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from floor_app.domain.codes import CodeKind, ScannedCode, classify
from floor_app.domain.errors import DomainError, NotFound
from floor_app.domain.events import ReturnReceived
from floor_app.domain.order import Order
from floor_app.domain.packing import LabelState
from floor_app.domain.sku import Sku
from floor_app.domain.stockwork import (
    STORAGE_KINDS,
    ReturnGrade,
    parcel_refusal,
    place_refusal,
    return_refusal,
    shipped_units,
)
from floor_app.store import Store
from floor_app.store.outbox import OutboxRecord, new_event_id, payloads

from .demo_staging import RETURNS_STAGED
from .errors import reports_store_failures


@dataclass
class ReturnParcel:
    """One parcel being received. ``order`` is the local order (None when this device does
    not hold it: the hub checks the return). ``returned`` counts units of each SKU received
    back on this device, this parcel included; ``received`` lists this parcel's units as
    (SKU, grade, location)."""

    return_id: str
    reference: str
    order: Order | None
    skus: dict[str, Sku] = field(default_factory=dict)
    returned: dict[str, int] = field(default_factory=dict)
    received: list[tuple[str, ReturnGrade, str]] = field(default_factory=list)

    @property
    def order_ref(self) -> str:
        """What the events name the order by: its id, or the scanned reference."""
        return self.order.order_id if self.order is not None else self.reference

    @property
    def checked(self) -> bool:
        """True when this device checks the items against the order."""
        return self.order is not None

    def shipped(self) -> dict[str, int]:
        """SKU -> units shipped in the parcel (empty when the order is not on this device)."""
        return shipped_units(self.order) if self.order is not None else {}


def _expect(
    scanned: str, kinds: tuple[CodeKind, ...], what: str, hint: str, code: str
) -> ScannedCode:
    """The scan as a code of one of ``kinds``; any other is refused (with the reason's
    ``code``), saying what it is."""
    scan = classify(scanned)
    if scan.kind not in kinds:
        raise DomainError(
            f"{scan.value} is a {scan.kind.value} code, not {what}",
            hint=hint,
            code=code,
            params={"code": scan.value, "code_kind": scan.kind.value},
        )
    return scan


@reports_store_failures
class ReturnsService:
    """The returns desk's use cases (see the module docstring)."""

    def __init__(self, store: Store, quarantine: str = "QUAR-01") -> None:
        self.store = store
        self.quarantine = quarantine

    def demo_tracking(self) -> str:
        """The tracking number of a parcel the demo shipped, for the demo's hint on the returns
        desk; empty when the demo staged no returns."""
        if self.store.meta(RETURNS_STAGED) != "1":
            return ""
        with self.store.unit_of_work() as uow:
            jobs = uow.packs.labels_in(LabelState.CONFIRMED.value)
        return jobs[0].tracking if jobs else ""

    def open(self, scanned: str) -> ReturnParcel:
        """Start receiving the parcel named by a tracking number or an order id."""
        code = _expect(
            scanned,
            (CodeKind.TRACKING, CodeKind.ORDER),
            "a parcel's tracking number or an order number",
            "scan the tracking number on the parcel's shipping label, or the order number on "
            "its slip",
            code="return.expect_parcel",
        )
        with self.store.unit_of_work() as uow:
            order_id = (
                uow.packs.order_for_tracking(code.value)
                if code.kind is CodeKind.TRACKING
                else code.value
            )
            order = uow.orders.get(order_id) if order_id and uow.orders.exists(order_id) else None
            parcel = ReturnParcel(new_event_id(), code.value, order)
            if order is not None:
                refusal = parcel_refusal(order)
                if refusal:
                    raise DomainError.of(refusal)
                parcel.skus = {ln.sku: uow.catalogue.sku(ln.sku) for ln in order.lines}
                for event in payloads(uow.session, ReturnReceived.TYPE, order.order_id):
                    sku = str(event["sku"])
                    parcel.returned[sku] = parcel.returned.get(sku, 0) + int(event["qty"])
        return parcel

    def item(self, parcel: ReturnParcel, scanned: str) -> Sku:
        """The SKU of an item taken out of the parcel (checked when the order is known)."""
        code = _expect(
            scanned,
            (CodeKind.PRODUCT,),
            "an item",
            "scan the barcode on the item; Esc when the parcel is empty",
            code="return.expect_item",
        )
        with self.store.unit_of_work() as uow:
            try:
                sku = uow.catalogue.sku_by_gtin(code.value)
            except NotFound:
                raise DomainError(
                    f"no SKU has the barcode {code.value}",
                    hint="set the item aside for a supervisor",
                    code="return.unknown_item",
                    params={"code": code.value},
                ) from None
        if parcel.order is not None:
            refusal = return_refusal(parcel.order, sku.sku, 1, parcel.returned.get(sku.sku, 0))
            if refusal:
                raise DomainError.of(refusal)
        parcel.skus.setdefault(sku.sku, sku)
        return sku

    def suggest(self, sku: str, grade: ReturnGrade) -> str | None:
        """Where a unit of ``grade`` goes: the SKU's pick face (or another storage location
        holding it) when resaleable, else the quarantine location. None when no storage
        location holds the SKU (any storage location will do)."""
        if grade is not ReturnGrade.RESALEABLE:
            return self.quarantine
        with self.store.unit_of_work() as uow:
            held = uow.catalogue.holding(sku)
        return next((loc for loc, kind in held if kind in STORAGE_KINDS), None)

    def put(
        self, parcel: ReturnParcel, sku: str, grade: ReturnGrade, scanned: str, user: str
    ) -> OutboxRecord:
        """The unit was put at the scanned location: record it (one event, one unit)."""
        code = _expect(
            scanned,
            (CodeKind.LOCATION,),
            "a location",
            "scan the label of the location you put the item in",
            code="return.expect_location",
        )
        with self.store.unit_of_work() as uow:
            kind = uow.catalogue.location_kind(code.value)
        refusal = place_refusal(grade, code.value, kind)
        if refusal:
            raise DomainError.of(refusal, hint=self._place_hint(sku, grade))
        with self.store.unit_of_work() as uow:
            if parcel.order is not None:
                before = parcel.returned.get(sku, 0)
                refusal = return_refusal(parcel.order, sku, 1, before)
                if refusal:
                    raise DomainError.of(refusal)
            event = uow.emit(
                ReturnReceived(
                    return_id=parcel.return_id,
                    order=parcel.order_ref,
                    sku=sku,
                    qty=1,
                    grade=grade.value,
                    to_location=code.value,
                    user=user,
                )
            )
            uow.catalogue.adjust_stock(code.value, sku, 1)
            uow.commit()
        parcel.returned[sku] = parcel.returned.get(sku, 0) + 1
        parcel.received.append((sku, grade, code.value))
        return event

    def _place_hint(self, sku: str, grade: ReturnGrade) -> str:
        where = self.suggest(sku, grade)
        return f"put it in {where} and scan that" if where else "scan a storage location"
