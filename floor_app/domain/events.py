"""Events the floor records: each is one fact or claim that goes to the hub exactly once.

Facts (something physically happened: picked, packed, printed) are never refused by the
hub; claims (taking a task, holding an order) carry the version they were based on and
may be refused as stale. Every event is written to the outbox in the same transaction as
the state change it describes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

EventKind = Literal["fact", "claim"]


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """Base of all floor events. ``TYPE`` names it on the wire; ``KIND`` says fact or claim."""

    TYPE: ClassVar[str] = ""
    KIND: ClassVar[EventKind] = "fact"

    def payload(self) -> dict[str, Any]:
        """The event's fields as a JSON-ready dict."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @property
    def order_id(self) -> str | None:
        """The order this event concerns, if any."""
        return getattr(self, "order", None)


@dataclass(frozen=True, slots=True)
class UserLoggedIn(DomainEvent):
    """A user logged in on the device (by badge or user and PIN)."""

    TYPE: ClassVar[str] = "user.logged_in"
    user: str
    role: str
    method: str = "badge"


@dataclass(frozen=True, slots=True)
class UserLoggedOut(DomainEvent):
    """A user logged out or was locked out for being idle."""

    TYPE: ClassVar[str] = "user.logged_out"
    user: str
    reason: str = "logout"


@dataclass(frozen=True, slots=True)
class TaskStarted(DomainEvent):
    """A picker started a pick task (a claim: the hub may refuse it if the lease moved)."""

    TYPE: ClassVar[str] = "task.started"
    KIND: ClassVar[EventKind] = "claim"
    task: str
    user: str
    task_version: int


@dataclass(frozen=True, slots=True)
class PickConfirmed(DomainEvent):
    """Units were taken from a location into a tote (``tote``: its code, "" when the task
    names no physical totes)."""

    TYPE: ClassVar[str] = "pick.confirmed"
    task: str
    line: str
    order: str
    sku: str
    location: str
    qty: int
    tote_position: int
    user: str
    tote: str = ""
    #: the lot picked of a lot-tracked item ("" otherwise); substituted: not the allocated one
    lot: str = ""
    lot_substituted: bool = False
    #: the unit's serial number (one unit per event) of a serial-tracked item ("" otherwise)
    serial: str = ""


@dataclass(frozen=True, slots=True)
class ToteAssigned(DomainEvent):
    """A picker scanned a physical tote for cart ``position`` of a task: it will hold
    ``order``. A claim: the hub refuses a tote that is not the site's or that still holds
    another order not packed yet."""

    TYPE: ClassVar[str] = "tote.assigned"
    KIND: ClassVar[EventKind] = "claim"
    task: str
    tote: str
    position: int
    order: str
    user: str


@dataclass(frozen=True, slots=True)
class TotePut(DomainEvent):
    """A scan of the tote confirmed that a line's picked units went into it."""

    TYPE: ClassVar[str] = "tote.put"
    task: str
    line: str
    tote: str
    order: str
    qty: int
    user: str


@dataclass(frozen=True, slots=True)
class ToteReleased(DomainEvent):
    """A pack station packed the order a tote held: the tote is empty and free again."""

    TYPE: ClassVar[str] = "tote.released"
    tote: str
    order: str
    station: str
    user: str


@dataclass(frozen=True, slots=True)
class PickUndone(DomainEvent):
    """Units confirmed earlier were put back (the picker's undo)."""

    TYPE: ClassVar[str] = "pick.undone"
    task: str
    line: str
    order: str
    sku: str
    location: str
    qty: int
    user: str
    #: the lot the units put back belong to ("" when not lot-tracked), the unit's serial
    lot: str = ""
    serial: str = ""


@dataclass(frozen=True, slots=True)
class ShortReported(DomainEvent):
    """A picker could not pick some units; the hub reallocates or holds."""

    TYPE: ClassVar[str] = "pick.short"
    task: str
    line: str
    order: str
    sku: str
    location: str
    qty: int
    reason: str
    user: str


@dataclass(frozen=True, slots=True)
class TaskCompleted(DomainEvent):
    """Every line of a pick task is picked or short."""

    TYPE: ClassVar[str] = "task.completed"
    task: str
    user: str


@dataclass(frozen=True, slots=True)
class PackCompleted(DomainEvent):
    """An order was verified and packed into a carton and weighed."""

    TYPE: ClassVar[str] = "pack.completed"
    order: str
    station: str
    carton: str
    weight_g: int
    user: str
    weight_override_by: str = ""
    #: the reason code of the supervisor who accepted a weight outside tolerance
    weight_override_reason: str = ""


@dataclass(frozen=True, slots=True)
class OrderHeld(DomainEvent):
    """A packer put an order on hold (a missing item, a damaged one)."""

    TYPE: ClassVar[str] = "order.held"
    KIND: ClassVar[EventKind] = "claim"
    order: str
    reason: str
    user: str
    order_version: int


@dataclass(frozen=True, slots=True)
class LabelPrinted(DomainEvent):
    """A shipping label was printed; ``job`` keys it so it never prints or applies twice."""

    TYPE: ClassVar[str] = "label.printed"
    job: str
    order: str
    tracking: str
    carrier: str
    user: str
    reprint_of: str = ""
    reprint_reason: str = ""


@dataclass(frozen=True, slots=True)
class LabelConfirmed(DomainEvent):
    """The printed label was scanned back and matched: the order is labelled."""

    TYPE: ClassVar[str] = "label.confirmed"
    job: str
    order: str
    tracking: str
    user: str


@dataclass(frozen=True, slots=True)
class ShortApproved(DomainEvent):
    """A supervisor accepted an order's shortage, for a reason code: it goes on picked, short."""

    TYPE: ClassVar[str] = "order.short_approved"
    KIND: ClassVar[EventKind] = "claim"
    order: str
    user: str
    order_version: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class HoldReleased(DomainEvent):
    """A supervisor released a held order back to the state it was held from (with a reason
    code)."""

    TYPE: ClassVar[str] = "order.released"
    KIND: ClassVar[EventKind] = "claim"
    order: str
    user: str
    order_version: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class TaskReassigned(DomainEvent):
    """A supervisor gave a pick task to another picker."""

    TYPE: ClassVar[str] = "task.reassigned"
    KIND: ClassVar[EventKind] = "claim"
    task: str
    to_user: str
    user: str
    task_version: int


@dataclass(frozen=True, slots=True)
class StockMoved(DomainEvent):
    """Units of a SKU were taken from one place and put at a storage location.

    ``from_location`` is a storage location (replenishment: the reserve) or another place
    (a tote, a station, the returns desk) that holds no counted stock. ``task`` is the
    stock task it serves ("" for a move without one). ``lot`` travels with the units;
    ``serial`` is the serial number of the one unit moved of a serial-tracked item.
    """

    TYPE: ClassVar[str] = "stock.moved"
    task: str
    sku: str
    from_location: str
    to_location: str
    qty: int
    reason: str
    user: str
    lot: str = ""
    serial: str = ""


@dataclass(frozen=True, slots=True)
class StockCounted(DomainEvent):
    """A user counted a SKU at a location (blind: the device did not show what to expect)."""

    TYPE: ClassVar[str] = "stock.counted"
    task: str
    location: str
    sku: str
    counted: int
    user: str
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class CountAcknowledged(DomainEvent):
    """A supervisor saw an accepted count difference (it leaves the exceptions queue)."""

    TYPE: ClassVar[str] = "count.acknowledged"
    count_id: int
    user: str


@dataclass(frozen=True, slots=True)
class StockTaskClosed(DomainEvent):
    """A stock task was finished with less than asked (source empty, damaged ...)."""

    TYPE: ClassVar[str] = "stock_task.closed"
    task: str
    reason: str
    user: str


@dataclass(frozen=True, slots=True)
class ReturnReceived(DomainEvent):
    """A returned unit was received, graded and put at ``to_location`` (storage or quarantine)."""

    TYPE: ClassVar[str] = "return.received"
    return_id: str
    order: str
    sku: str
    qty: int
    grade: str
    to_location: str
    user: str


@dataclass(frozen=True, slots=True)
class ReceiptCounted(DomainEvent):
    """Units of a delivery were counted at ``location``: a dock (good units) or quarantine
    (damaged ones). ``qty`` is negative when units counted before are taken back.
    ``receipt`` is the notice's receipt id, or one the device made for a blind receipt
    (then ``reference`` and ``supplier`` name the delivery). ``sscc`` is the pallet's."""

    TYPE: ClassVar[str] = "receipt.counted"
    receipt: str
    reference: str
    supplier: str
    sku: str
    qty: int
    condition: str
    location: str
    user: str
    lot: str = ""
    expiry: str = ""
    serial: str = ""
    sscc: str = ""


@dataclass(frozen=True, slots=True)
class ReceiptVarianceExplained(DomainEvent):
    """Why a SKU's good units on a receipt differ from its notice (recorded at closing)."""

    TYPE: ClassVar[str] = "receipt.variance"
    receipt: str
    sku: str
    expected: int
    received: int
    reason: str
    user: str


@dataclass(frozen=True, slots=True)
class ReceiptClosed(DomainEvent):
    """A delivery was counted to the end: its good units are to be put away."""

    TYPE: ClassVar[str] = "receipt.closed"
    receipt: str
    user: str


@dataclass(frozen=True, slots=True)
class CarrierChanged(DomainEvent):
    """A packer changed the carrier service the hub chose for an order (with a reason)."""

    TYPE: ClassVar[str] = "order.carrier_changed"
    KIND: ClassVar[EventKind] = "claim"
    order: str
    carrier: str
    service: str
    reason: str
    user: str
    order_version: int


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.TYPE: cls
    for cls in (
        UserLoggedIn,
        UserLoggedOut,
        TaskStarted,
        ToteAssigned,
        PickConfirmed,
        TotePut,
        PickUndone,
        ShortReported,
        TaskCompleted,
        PackCompleted,
        OrderHeld,
        LabelPrinted,
        LabelConfirmed,
        ShortApproved,
        HoldReleased,
        TaskReassigned,
        StockMoved,
        StockCounted,
        CountAcknowledged,
        StockTaskClosed,
        ReturnReceived,
        CarrierChanged,
        ToteReleased,
        ReceiptCounted,
        ReceiptVarianceExplained,
        ReceiptClosed,
    )
}


def event_from_payload(event_type: str, payload: dict[str, Any]) -> DomainEvent:
    """Rebuild an event from its wire type and payload.

    An unknown type and unknown or missing fields are a :class:`ValueError` naming them.
    """
    cls = EVENT_TYPES.get(event_type)
    if cls is None:
        raise ValueError(f"unknown event type {event_type!r}")
    fields = dataclasses.fields(cls)
    names = [f.name for f in fields]
    problems = [f"unknown field {n!r}" for n in sorted(set(payload) - set(names))]
    problems += [
        f"missing field {f.name!r}"
        for f in fields
        if f.name not in payload
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if problems:
        raise ValueError(f"{event_type} payload: {', '.join(problems)}; fields: {', '.join(names)}")
    return cls(**payload)
