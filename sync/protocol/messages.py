"""Message schemas of the floor protocol, version 1 (pydantic v2), validated at the edge.

Every message is one JSON object with ``"v": 1``. :func:`decode` checks, in this order, the
size limit, that the bytes are a JSON object, the schema version and then the schema; each
failure raises :class:`ProtocolError` with a ``code`` (``too_large``, ``malformed_json``,
``unsupported_version``, ``invalid``, ``device_mismatch``) and a reason a person can read.
:func:`encode` is the inverse. docs/protocol.md describes every field and guarantee.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import MISSING
from dataclasses import fields as dataclass_fields
from datetime import date
from functools import cache
from typing import Annotated, Any, Final, Literal, TypeVar, get_type_hints

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticSerializationError, to_json

from floor_app.domain.carriers import CarrierChoice, Quote
from floor_app.domain.events import EVENT_TYPES, DomainEvent
from floor_app.domain.order import Address, Order, OrderLine, OrderState, TracedUnits
from floor_app.domain.picking import PickLine, PickTask, ShortReason, TaskState, Tote
from floor_app.domain.receiving import LINE_FIELDS, Receipt, ReceiptKind, ReceiptLine, ReceiptState
from floor_app.domain.stockwork import StockTask, StockTaskKind, StockTaskState
from floor_app.domain.totes import SiteTote, ToteState
from floor_app.domain.users import Role, User

from .topics import TopicError, check_level

SCHEMA_VERSION: Final = 1
#: No message may be larger than this (bytes of UTF-8 JSON). Mosquitto's
#: ``message_size_limit`` should be set a little above it.
MAX_MESSAGE_BYTES: Final = 256 * 1024
#: An event batch holds at most this many events (and stays under MAX_MESSAGE_BYTES).
MAX_BATCH_EVENTS: Final = 500
#: A site has at most this many totes (its whole list fits one push under the size limit).
MAX_SITE_TOTES: Final = 2000
#: A dead letter keeps at most this much of the offending payload.
DEAD_LETTER_EXCERPT: Final = 2048

ErrorCode = Literal[
    "too_large",
    "malformed_json",
    "out_of_range",
    "unsupported_version",
    "invalid",
    "device_mismatch",
    "future_ack",
    "events_pruned",
]
#: Every integer in a message fits the database's 32-bit integer columns: a larger one
#: would be refused by PostgreSQL ("integer out of range") after the message was taken in.
INT_MIN: Final = -(2**31)
INT_MAX: Final = 2**31 - 1


class ProtocolError(ValueError):
    """A message failed validation at the edge; ``code`` says how, ``reason`` says why."""

    def __init__(self, code: ErrorCode, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code: ErrorCode = code
        self.reason = reason


DeviceId = Annotated[str, Field(min_length=1, max_length=64)]
#: a reason's code (:class:`floor_app.domain.errors.Reason`): dotted lower-case words
ReasonCode = Annotated[str, Field(max_length=64, pattern=r"^([a-z][a-z0-9_]*(\.[a-z0-9_]+)+)?$")]
#: a reason's parameters: at most 16 short values
ReasonParams = Annotated[
    dict[Annotated[str, Field(max_length=32)], str | int | float], Field(max_length=16)
]
Seq = Annotated[int, Field(ge=1)]


def _level(value: str) -> str:
    try:
        return check_level(value)
    except TopicError as exc:
        raise ValueError(str(exc)) from None


class Message(BaseModel):
    """Base of every message: the schema version and strict, closed fields."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    v: Literal[1] = 1


# -- device -> hub: events --------------------------------------------------------------


#: The most an event's whole number may be, by field name: beyond the 32-bit check every
#: message gets, a quantity, a weight or a position no floor can have. (Too small a number
#: is the domain's to refuse, with its own reason: "quantity must be positive" ...)
EVENT_INT_LIMITS: Final[dict[str, int]] = {
    "qty": 1_000_000,
    "counted": 10_000_000,
    "weight_g": 2_000_000,
    "attempt": 1_000,
    "position": 1_000,
    "tote_position": 1_000,
}


#: Text fields of events bounded by what the floor's codes carry (a GS1 lot is at most 20).
EVENT_STR_LIMITS: Final[dict[str, int]] = {
    "lot": 20,
    "serial": 20,
    "sscc": 18,
    "expiry": 10,
    "condition": 16,
    "receipt": 40,
    "reference": 64,
    "supplier": 128,
}


@cache
def _payload_model(event_type: str) -> type[BaseModel]:
    """A strict, closed pydantic model with the fields of the event dataclass ``event_type``
    (whole numbers up to :data:`EVENT_INT_LIMITS`)."""
    cls = EVENT_TYPES[event_type]
    hints = get_type_hints(cls)
    spec: dict[str, Any] = {}
    for f in dataclass_fields(cls):
        default = f.default if f.default is not MISSING else ...
        hint = hints[f.name]
        if hint is int and f.name in EVENT_INT_LIMITS:
            hint = Annotated[int, Field(le=EVENT_INT_LIMITS[f.name])]
        if hint is str and f.name in EVENT_STR_LIMITS:
            hint = Annotated[str, Field(max_length=EVENT_STR_LIMITS[f.name])]
        spec[f.name] = (hint, default)
    return create_model(
        f"{cls.__name__}Payload",
        __config__=ConfigDict(strict=True, extra="forbid", allow_inf_nan=False),
        **spec,
    )


def _event_from_payload(event_type: str, payload: dict[str, Any]) -> DomainEvent:
    data = _payload_model(event_type).model_validate(payload)
    # the validated fields as they are (scalars; strict: not coerced), without model_dump
    return EVENT_TYPES[event_type](**data.__dict__)


@cache
def _plain_order_field(event_type: str) -> bool:
    """True when building the event checks nothing more than its payload model does (no
    ``__post_init__``) and its order is the ``order`` field (the base ``order_id``)."""
    cls = EVENT_TYPES[event_type]
    return cls.order_id is DomainEvent.order_id and not hasattr(cls, "__post_init__")


def _payload_order(event_type: str, payload: dict[str, Any]) -> object:
    """The order of a valid payload (raises :class:`ValidationError` for an invalid one);
    the event itself is built only when building it may check or derive more."""
    if not _plain_order_field(event_type):
        return _event_from_payload(event_type, payload).order_id
    return getattr(_payload_model(event_type).model_validate(payload), "order", None)


class EventEnvelope(BaseModel):
    """One outbox event on the wire (an outbox record of the device store).

    ``type`` must be one of :data:`floor_app.domain.events.EVENT_TYPES`, ``kind`` must be that
    event's kind, ``payload`` must hold exactly that event's fields with the right types, and
    ``order_id`` must be the payload's order (if it names one).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    seq: Seq
    event_id: str = Field(min_length=1, max_length=40)
    device_id: DeviceId
    type: str
    kind: Literal["fact", "claim"]
    order_id: str | None = Field(default=None, max_length=32)
    order_version: int | None = Field(default=None, ge=0)
    payload: dict[str, Any]
    created_at: float

    @model_validator(mode="after")
    def _known_event(self) -> EventEnvelope:
        cls = EVENT_TYPES.get(self.type)
        if cls is None:
            raise ValueError(
                f"unknown event type {self.type!r}; known: {', '.join(sorted(EVENT_TYPES))}"
            )
        if self.kind != cls.KIND:
            raise ValueError(f"event type {self.type} is a {cls.KIND}, not a {self.kind}")
        try:
            order = _payload_order(self.type, self.payload)
        except ValidationError as exc:
            raise ValueError(f"{self.type} payload: {_short(exc)}") from None
        if order != self.order_id:
            raise ValueError(
                f"order_id {self.order_id!r} differs from the payload's order {order!r}"
            )
        return self

    def domain_event(self) -> DomainEvent:
        """The domain event this envelope carries."""
        return _event_from_payload(self.type, self.payload)


class EventBatch(Message):
    """Device -> hub on ``dev/{device}/evt``: consecutive outbox events, in sequence order.

    The sequences are contiguous and ascending (``seq``, ``seq+1`` ...), and every event's
    ``device_id`` is the batch's.
    """

    device_id: DeviceId
    sent_at: float
    events: list[EventEnvelope] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)

    @field_validator("device_id")
    @classmethod
    def _device_level(cls, value: str) -> str:
        return _level(value)

    @model_validator(mode="after")
    def _contiguous(self) -> EventBatch:
        first = self.events[0].seq
        for i, event in enumerate(self.events):
            if event.device_id != self.device_id:
                raise ValueError(
                    f"event {event.seq} names device {event.device_id!r}, "
                    f"the batch {self.device_id!r}"
                )
            if event.seq != first + i:
                raise ValueError(
                    f"sequences are not contiguous: {first + i} expected, {event.seq} found"
                )
        return self

    @property
    def first_seq(self) -> int:
        """Sequence of the first event."""
        return self.events[0].seq

    @property
    def last_seq(self) -> int:
        """Sequence of the last event."""
        return self.events[-1].seq


class SyncRequest(Message):
    """Device -> hub on ``dev/{device}/sync``: "send me every push after ``since_cursor``".

    Sent after every (re)connect, once the device has subscribed, and when the device sees
    a gap in the push stream. The hub answers with the missing pushes, in cursor order, and
    with an :class:`Ack` carrying its current cumulative ack for the device.
    """

    device_id: DeviceId
    since_cursor: int = Field(ge=0)
    epoch: int = Field(ge=1)
    last_seq: int = Field(default=0, ge=0)
    acked_seq: int = Field(default=0, ge=0)
    sent_at: float
    #: the identity of the device's store, made when the store was created ("" from an
    #: older device): a store the hub has not seen under this device id is checked
    store_id: str = Field(default="", max_length=40)


#: A recovery names at most this many of the device's events (its unacknowledged ones).
RECOVERY_EVENT_LIMIT: Final = 5000


class StoreRecovery(Message):
    """Device -> hub on ``dev/{device}/sync``: "my store is behind you; here is what it
    holds that you may not have acknowledged". The hub answers with a :class:`StoreHistory`.
    """

    kind: Literal["recover"] = "recover"
    device_id: DeviceId
    store_id: str = Field(min_length=1, max_length=40)
    #: the highest sequence this store saw acknowledged
    acked_seq: int = Field(ge=0)
    #: the ids of the store's events above ``acked_seq``, in sequence order
    event_ids: list[str] = Field(default_factory=list, max_length=RECOVERY_EVENT_LIMIT)
    user: str = Field(default="", max_length=64)
    sent_at: float


# -- hub -> device: acks ----------------------------------------------------------------


class Ack(Message):
    """Hub -> device: every event with ``seq <= up_to_seq`` is durably recorded by the hub.

    Cumulative: it covers all earlier sequences, applied or refused. ``up_to_seq = 0`` means
    the hub has nothing from this device yet.
    """

    kind: Literal["ack"] = "ack"
    device_id: DeviceId
    up_to_seq: int = Field(ge=0)
    at: float = Field(default_factory=time.time)
    #: the id of the event the hub recorded under ``up_to_seq`` ("" not said): a device
    #: whose own event there has another id does not hold the hub's record (a store
    #: restored from an older copy) and must not count its events as delivered
    event_id: str = Field(default="", max_length=40)


class ResendRequest(Message):
    """Hub -> device: a gap was seen; send every event from ``from_seq`` on again."""

    kind: Literal["resend"] = "resend"
    device_id: DeviceId
    from_seq: Seq
    reason: str = ""
    at: float = Field(default_factory=time.time)


class ClaimRefused(Message):
    """Hub -> device: a claim (``kind == "claim"``) was stale and was refused, with the reason.

    The event still counts as recorded (it is covered by the cumulative ack); the device
    shows ``reason`` to the user. ``current_version`` is the version the hub holds, if known.
    """

    kind: Literal["refused"] = "refused"
    device_id: DeviceId
    seq: Seq
    event_id: str
    type: str
    order_id: str | None = None
    task_id: str | None = None
    reason: str = Field(min_length=1)
    current_version: int | None = None
    at: float = Field(default_factory=time.time)
    #: the reason as a code and parameters the device translates ("" from an older hub)
    code: ReasonCode = ""
    params: ReasonParams = Field(default_factory=dict)


class EventRejected(Message):
    """Hub -> device: an event failed the hub's validation and went to the dead-letter topic.

    It is covered by the cumulative ack (resending it cannot help); the device counts it
    and shows it in diagnostics.
    """

    kind: Literal["rejected"] = "rejected"
    device_id: DeviceId
    seq: Seq
    event_id: str = ""
    reason: str = Field(min_length=1)
    at: float = Field(default_factory=time.time)
    #: the reason as a code and parameters the device translates ("" from an older hub)
    code: ReasonCode = ""
    params: ReasonParams = Field(default_factory=dict)


class StoreStale(Message):
    """Hub -> device: this device's store does not continue what the hub recorded from it
    (a copy restored from before its last events, an emptied or replaced store, another
    store under the same device id). The hub applies nothing more from it and sends no ack
    until the device recovers (:class:`StoreRecovery`); the device stops sending.
    """

    kind: Literal["stale"] = "stale"
    device_id: DeviceId
    #: ``behind``: the store's newest event is older than the hub's; ``other_store``: a
    #: store the hub has not seen; ``conflict``: an event differs from the one recorded
    cause: Literal["behind", "other_store", "conflict"]
    #: the highest sequence the hub recorded from this device
    hub_seq: int = Field(ge=0)
    #: the store's newest sequence as the hub saw it
    store_seq: int = Field(default=0, ge=0)
    #: the first sequence whose event differs from the hub's (``conflict``)
    conflict_seq: int | None = Field(default=None, ge=1)
    reason: str = Field(min_length=1, max_length=500)
    at: float = Field(default_factory=time.time)


class HistoryEvent(BaseModel):
    """One event the hub recorded from a device (an entry of :class:`StoreHistory`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    seq: Seq
    event_id: str = Field(max_length=40)
    type: str = Field(max_length=40)
    order_id: str | None = Field(default=None, max_length=32)
    device_at: float


class StoreHistory(Message):
    """Hub -> device, the answer to a :class:`StoreRecovery`: the hub's last sequence from
    the device, which of the store's events it already holds, and the events it recorded
    that the store does not have (confirmed by the store's earlier copy after it was made;
    listed for a supervisor). The store continues after ``hub_seq``.
    """

    kind: Literal["history"] = "history"
    device_id: DeviceId
    hub_seq: int = Field(ge=0)
    #: ids of the store's events the hub already recorded
    known: list[str] = Field(default_factory=list, max_length=RECOVERY_EVENT_LIMIT)
    #: the hub's events the store does not hold (the first 500; ``missing_count`` all)
    missing: list[HistoryEvent] = Field(default_factory=list, max_length=500)
    missing_count: int = Field(default=0, ge=0)
    at: float = Field(default_factory=time.time)


AckTopicMessage = Annotated[
    Ack | ResendRequest | ClaimRefused | EventRejected | StoreStale | StoreHistory,
    Field(discriminator="kind"),
]


class AckEnvelope(BaseModel):
    """Wrapper used to decode any message of the ``ack`` topic (see :func:`decode_ack`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    message: AckTopicMessage


# -- hub -> device: the push stream -----------------------------------------------------


class AddressModel(BaseModel):
    """A ship-to address (:class:`floor_app.domain.order.Address`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str
    lines: list[str]
    city: str
    postcode: str
    country: str
    phone: str = ""
    region: str = ""

    @staticmethod
    def from_domain(a: Address) -> AddressModel:
        return AddressModel(
            name=a.name,
            lines=list(a.lines),
            city=a.city,
            postcode=a.postcode,
            country=a.country,
            phone=a.phone,
            region=a.region,
        )

    def to_domain(self) -> Address:
        return Address(
            self.name,
            tuple(self.lines),
            self.city,
            self.postcode,
            self.country,
            self.phone,
            self.region,
        )


class OrderLineModel(BaseModel):
    """An order line with its progress counters."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    line_no: int = Field(ge=1)
    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(gt=0)
    picked: int = Field(default=0, ge=0)
    packed: int = Field(default=0, ge=0)
    short: int = Field(default=0, ge=0)


class QuoteModel(BaseModel):
    """A carrier service quoted for an order (:class:`floor_app.domain.carriers.Quote`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    carrier: str = Field(min_length=1, max_length=32)
    service: str = Field(min_length=1, max_length=32)
    cost: float | None = None
    transit_days: int | None = Field(default=None, ge=0)
    fits: bool
    late: bool = False
    why_not: str = ""

    @staticmethod
    def from_domain(q: Quote) -> QuoteModel:
        return QuoteModel.model_validate(q.to_dict())

    def to_domain(self) -> Quote:
        return Quote.from_dict(self.model_dump())


class CarrierChoiceModel(BaseModel):
    """How an order's carrier service was chosen (:class:`~floor_app.domain.carriers.
    CarrierChoice`), with the services quoted."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    carrier: str = Field(min_length=1, max_length=32)
    service: str = Field(min_length=1, max_length=32)
    cost: float | None = None
    rule: str = ""
    chosen_by: str = Field(default="hub", min_length=1, max_length=64)
    options: list[QuoteModel] = Field(default_factory=list)
    currency: str = Field(default="", pattern=r"^([A-Z]{3})?$")
    sort_code: str = Field(default="", max_length=16)

    @staticmethod
    def from_domain(c: CarrierChoice) -> CarrierChoiceModel:
        return CarrierChoiceModel.model_validate(c.to_dict())

    def to_domain(self) -> CarrierChoice:
        return CarrierChoice.from_dict(self.model_dump())


class TracedUnitsModel(BaseModel):
    """Units of one lot, or the unit of one serial, picked for an order line."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    line_no: int = Field(ge=1, le=100_000)
    lot: str = Field(default="", max_length=20)
    serial: str = Field(default="", max_length=40)
    qty: int = Field(default=1, ge=1, le=1_000_000)


class OrderModel(BaseModel):
    """An order snapshot (:class:`floor_app.domain.order.Order`, without its history)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    order_id: str = Field(min_length=1, max_length=32)
    lines: list[OrderLineModel] = Field(min_length=1)
    ship_to: AddressModel
    priority: int = 5
    carrier: str = ""
    service: str = ""
    state: OrderState = OrderState.RECEIVED
    version: int = Field(default=1, ge=1)
    held_from: OrderState | None = None
    hold_reason: str = ""
    channel: str = ""
    promised_date: str = ""
    carrier_choice: CarrierChoiceModel | None = None
    #: lots and serials picked for its lines (sent once the order is picked)
    traced: list[TracedUnitsModel] = Field(default_factory=list, max_length=2000)

    @staticmethod
    def from_domain(o: Order) -> OrderModel:
        return OrderModel(
            order_id=o.order_id,
            lines=[
                OrderLineModel(
                    line_no=ln.line_no,
                    sku=ln.sku,
                    qty=ln.qty,
                    picked=ln.picked,
                    packed=ln.packed,
                    short=ln.short,
                )
                for ln in o.lines
            ],
            ship_to=AddressModel.from_domain(o.ship_to),
            priority=o.priority,
            carrier=o.carrier,
            service=o.service,
            state=o.state,
            version=o.version,
            held_from=o.held_from,
            hold_reason=o.hold_reason,
            channel=o.channel,
            promised_date=o.promised_date,
            carrier_choice=CarrierChoiceModel.from_domain(o.carrier_choice)
            if o.carrier_choice
            else None,
            traced=[
                TracedUnitsModel(line_no=t.line_no, lot=t.lot, serial=t.serial, qty=t.qty)
                for t in o.traced
            ],
        )

    def to_domain(self) -> Order:
        return Order(
            order_id=self.order_id,
            lines=[
                OrderLine(ln.line_no, ln.sku, ln.qty, ln.picked, ln.packed, ln.short)
                for ln in self.lines
            ],
            ship_to=self.ship_to.to_domain(),
            priority=self.priority,
            carrier=self.carrier,
            service=self.service,
            state=self.state,
            version=self.version,
            held_from=self.held_from,
            hold_reason=self.hold_reason,
            channel=self.channel,
            promised_date=self.promised_date,
            carrier_choice=self.carrier_choice.to_domain() if self.carrier_choice else None,
            traced=[TracedUnits(t.line_no, t.lot, t.serial, t.qty) for t in self.traced],
        )


class PickLineModel(BaseModel):
    """One line of a pick task (:class:`floor_app.domain.picking.PickLine`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    line_id: str = Field(min_length=1, max_length=48)
    order_id: str = Field(min_length=1, max_length=32)
    order_line_no: int = Field(ge=1)
    sku: str = Field(min_length=1, max_length=64)
    gtin: str = Field(min_length=8, max_length=14)
    location: str = Field(min_length=1, max_length=32)
    qty: int = Field(gt=0)
    tote_position: int = Field(default=1, ge=1)
    sequence: int = Field(default=0, ge=0)
    picked: int = Field(default=0, ge=0)
    short: int = Field(default=0, ge=0)
    short_reason: ShortReason | None = None
    #: a lot-tracked item: the lot held at the location and its expiry (YYYY-MM-DD or "")
    lot_tracked: bool = False
    lot: str = Field(default="", max_length=20)
    expiry: str = Field(default="", max_length=10)
    serial_tracked: bool = False


class ToteModel(BaseModel):
    """A tote on the cart of a pick task: ``tote_id`` is the physical tote's code, "" until
    the picker scanned one; ``destination`` is where it goes once picked."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    tote_id: str = Field(default="", max_length=16)
    position: int = Field(ge=1)
    order_id: str | None = None
    destination: str = Field(default="", max_length=32)


class PickTaskModel(BaseModel):
    """A pick task (:class:`floor_app.domain.picking.PickTask`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    task_id: str = Field(min_length=1, max_length=32)
    lines: list[PickLineModel] = Field(min_length=1)
    batch_id: str | None = None
    zone: str = ""
    state: TaskState = TaskState.ASSIGNED
    assigned_to: str | None = None
    version: int = Field(default=1, ge=1)
    totes: list[ToteModel] = Field(default_factory=list)

    @staticmethod
    def from_domain(t: PickTask) -> PickTaskModel:
        return PickTaskModel(
            task_id=t.task_id,
            lines=[
                PickLineModel(
                    line_id=ln.line_id,
                    order_id=ln.order_id,
                    order_line_no=ln.order_line_no,
                    sku=ln.sku,
                    gtin=ln.gtin,
                    location=ln.location,
                    qty=ln.qty,
                    tote_position=ln.tote_position,
                    sequence=ln.sequence,
                    picked=ln.picked,
                    short=ln.short,
                    short_reason=ln.short_reason,
                    lot_tracked=ln.lot_tracked,
                    lot=ln.lot,
                    expiry=ln.expiry,
                    serial_tracked=ln.serial_tracked,
                )
                for ln in t.lines
            ],
            batch_id=t.batch_id,
            zone=t.zone,
            state=t.state,
            assigned_to=t.assigned_to,
            version=t.version,
            totes=[
                ToteModel(
                    tote_id=x.tote_id,
                    position=x.position,
                    order_id=x.order_id,
                    destination=x.destination,
                )
                for x in t.totes
            ],
        )

    def to_domain(self) -> PickTask:
        return PickTask(
            task_id=self.task_id,
            lines=[
                PickLine(
                    ln.line_id,
                    ln.order_id,
                    ln.order_line_no,
                    ln.sku,
                    ln.gtin,
                    ln.location,
                    ln.qty,
                    ln.tote_position,
                    ln.sequence,
                    ln.picked,
                    ln.short,
                    ln.short_reason,
                    lot_tracked=ln.lot_tracked,
                    lot=ln.lot,
                    expiry=ln.expiry,
                    serial_tracked=ln.serial_tracked,
                )
                for ln in self.lines
            ],
            batch_id=self.batch_id,
            zone=self.zone,
            state=self.state,
            assigned_to=self.assigned_to,
            version=self.version,
            totes=[Tote(x.tote_id, x.position, x.order_id, x.destination) for x in self.totes],
        )


class UserModel(BaseModel):
    """A user of the roster (:class:`floor_app.domain.users.User`).

    ``pin_hash`` travels so that login by PIN works offline.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    user_id: str = Field(min_length=1, max_length=64)
    name: str
    badge: str = Field(min_length=1, max_length=32)
    roles: list[Role]
    pin_hash: str = ""
    active: bool = True
    language: str = ""

    @staticmethod
    def from_domain(u: User) -> UserModel:
        return UserModel(
            user_id=u.user_id,
            name=u.name,
            badge=u.badge,
            roles=sorted(u.roles),
            pin_hash=u.pin_hash,
            active=u.active,
            language=u.language,
        )

    def to_domain(self) -> User:
        return User(
            self.user_id,
            self.name,
            self.badge,
            frozenset(self.roles),
            self.pin_hash,
            self.active,
            self.language,
        )


class TaskAssigned(BaseModel):
    """Push item: a pick task (new, or changed) leased to this device."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: Literal["task.assigned"] = "task.assigned"
    task: PickTaskModel


class TaskCancelled(BaseModel):
    """Push item: a task was cancelled or its lease moved to another device."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: Literal["task.cancelled"] = "task.cancelled"
    task_id: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1)
    task_version: int | None = None
    #: the reason as a code and parameters the device translates ("" from an older hub)
    code: ReasonCode = ""
    params: ReasonParams = Field(default_factory=dict)


class OrderSnapshot(BaseModel):
    """Push item: the hub's current view of an order this device works on."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: Literal["order.snapshot"] = "order.snapshot"
    order: OrderModel


class OrderCancelled(BaseModel):
    """Push item: an order was cancelled upstream; the device stops work on it."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: Literal["order.cancelled"] = "order.cancelled"
    order_id: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1)
    order_version: int | None = None


class RosterUpdate(BaseModel):
    """Push item: users to add or replace in the device's roster (login works offline)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: Literal["roster"] = "roster"
    users: list[UserModel]


class StockTaskModel(BaseModel):
    """A stock task (:class:`floor_app.domain.stockwork.StockTask`). A count carries no
    expected quantity: counts are blind."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    task_id: str = Field(min_length=1, max_length=32)
    kind: StockTaskKind
    sku: str = Field(default="", max_length=64)
    gtin: str = Field(default="", max_length=14)
    from_location: str = Field(default="", max_length=64)
    to_location: str = Field(default="", max_length=32)
    qty: int = Field(default=0, ge=0)
    moved: int = Field(default=0, ge=0)
    lot: str = Field(default="", max_length=32)
    expiry: str = Field(default="", max_length=10)
    urgent: bool = False
    reason: str = Field(default="", max_length=500)
    state: StockTaskState = StockTaskState.ASSIGNED
    version: int = Field(default=1, ge=1)
    assigned_to: str | None = None
    attempt: int = Field(default=1, ge=1)
    not_user: str = Field(default="", max_length=64)
    description: str = Field(default="", max_length=500)

    @staticmethod
    def from_domain(t: StockTask) -> StockTaskModel:
        return StockTaskModel(
            task_id=t.task_id,
            kind=t.kind,
            sku=t.sku,
            gtin=t.gtin,
            from_location=t.from_location,
            to_location=t.to_location,
            qty=t.qty,
            moved=t.moved,
            lot=t.lot,
            expiry=t.expiry,
            urgent=t.urgent,
            reason=t.reason,
            state=t.state,
            version=t.version,
            assigned_to=t.assigned_to,
            attempt=t.attempt,
            not_user=t.not_user,
            description=t.description,
        )

    def to_domain(self) -> StockTask:
        return StockTask(**self.model_dump())


class StockTaskAssigned(BaseModel):
    """Push item: a stock task (new, or changed) leased to this device."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: Literal["stock_task.assigned"] = "stock_task.assigned"
    task: StockTaskModel


class StockTaskCancelled(BaseModel):
    """Push item: a stock task was cancelled or given to another device."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: Literal["stock_task.cancelled"] = "stock_task.cancelled"
    task_id: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1)
    #: the reason as a code and parameters the device translates ("" from an older hub)
    code: ReasonCode = ""
    params: ReasonParams = Field(default_factory=dict)


class SiteToteModel(BaseModel):
    """One of the site's totes (:class:`floor_app.domain.totes.SiteTote`): free, or the
    order it holds and where that goes; the cart it stands on."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    tote: str = Field(min_length=1, max_length=16)
    state: ToteState = ToteState.FREE
    order_id: str | None = Field(default=None, max_length=32)
    destination: str = Field(default="", max_length=32)
    cart: str = Field(default="", max_length=16)
    cart_position: int = Field(default=0, ge=0)

    @staticmethod
    def from_domain(t: SiteTote) -> SiteToteModel:
        return SiteToteModel(
            tote=t.code,
            state=t.state,
            order_id=t.order_id,
            destination=t.destination,
            cart=t.cart,
            cart_position=t.cart_position,
        )

    def to_domain(self) -> SiteTote:
        return SiteTote(
            self.tote,
            self.state,
            self.order_id,
            None,
            self.destination,
            self.cart,
            self.cart_position,
        )


class ToteContents(BaseModel):
    """Push item: which order is in which tote now (totes filled, picked or released).

    With ``registry`` the list is every tote of the site (the device forgets any other).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: Literal["tote.contents"] = "tote.contents"
    totes: list[SiteToteModel] = Field(max_length=MAX_SITE_TOTES)
    registry: bool = False


StationValue = str | int | float | bool


class StationConfig(BaseModel):
    """Push item: settings of the station this device serves (printer, scale, carton set ...)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: Literal["station.config"] = "station.config"
    station: str = Field(min_length=1, max_length=16)
    settings: dict[str, StationValue]


#: Entries of one kind in one site.reference push item (a load of 50,000 items is sent in
#: parts so that no message is large).
MAX_REFERENCE_PART: Final = 500


class ItemBarcodeModel(BaseModel):
    """A barcode of an item (GTIN-14) and the units it stands for (1: the unit itself)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    gtin: str = Field(pattern=r"^[0-9]{14}$")
    pack_qty: int = Field(default=1, ge=1, le=1_000_000)


class ItemModel(BaseModel):
    """An item of the site's reference data, with every barcode it carries."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    sku: str = Field(min_length=1, max_length=64)
    gtin: str = Field(pattern=r"^[0-9]{14}$")
    description: str = Field(max_length=500)
    description_zh: str = Field(default="", max_length=500)
    length_mm: int | None = Field(default=None, ge=1, le=100_000)
    width_mm: int | None = Field(default=None, ge=1, le=100_000)
    height_mm: int | None = Field(default=None, ge=1, le=100_000)
    weight_g: int = Field(ge=0, le=2_000_000)
    lot_tracked: bool = False
    serial_tracked: bool = False
    shelf_life_days: int | None = Field(default=None, ge=1, le=36_500)
    barcodes: list[ItemBarcodeModel] = Field(default_factory=list, max_length=100)


class LocationModel(BaseModel):
    """A location of the site's reference data (``x``, ``y`` in metres on the floor)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    code: str = Field(min_length=1, max_length=32)
    zone: str = Field(max_length=8)
    aisle: int = Field(ge=0, le=1_000)
    bay: int = Field(ge=0, le=1_000)
    level: int = Field(ge=0, le=100)
    bin: str = Field(max_length=4)
    x: float = Field(ge=-100_000, le=100_000)
    y: float = Field(ge=-100_000, le=100_000)
    kind: str = Field(max_length=16)
    side: str = Field(max_length=8)


class CartonModel(BaseModel):
    """A carton type (inner dimensions) of the site's reference data."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    code: str = Field(min_length=1, max_length=16)
    length_mm: int = Field(ge=1, le=100_000)
    width_mm: int = Field(ge=1, le=100_000)
    height_mm: int = Field(ge=1, le=100_000)
    tare_g: int = Field(ge=0, le=2_000_000)
    max_weight_g: int = Field(ge=1, le=2_000_000)
    cost: float = Field(default=0.0, ge=0, le=1_000_000)


class SiteReference(BaseModel):
    """Push item: part ``part`` of ``parts`` of version ``version`` of the site's reference
    data: items, locations and cartons added or changed, and those removed. The device runs
    that version once it applied the last part (users come as :class:`RosterUpdate`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: Literal["site.reference"] = "site.reference"
    version: int = Field(ge=1, le=2**31 - 1)
    part: int = Field(default=1, ge=1, le=1_000_000)
    parts: int = Field(default=1, ge=1, le=1_000_000)
    items: list[ItemModel] = Field(default_factory=list, max_length=MAX_REFERENCE_PART)
    removed_items: list[str] = Field(default_factory=list, max_length=MAX_REFERENCE_PART)
    locations: list[LocationModel] = Field(default_factory=list, max_length=MAX_REFERENCE_PART)
    removed_locations: list[str] = Field(default_factory=list, max_length=MAX_REFERENCE_PART)
    cartons: list[CartonModel] = Field(default_factory=list, max_length=MAX_REFERENCE_PART)
    removed_cartons: list[str] = Field(default_factory=list, max_length=MAX_REFERENCE_PART)


class ReceiptLineModel(BaseModel):
    """A line of a receipt (:class:`floor_app.domain.receiving.ReceiptLine`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    line_no: int = Field(ge=1, le=100_000)
    sku: str = Field(min_length=1, max_length=64)
    gtin: str = Field(default="", max_length=14)
    expected: int = Field(default=0, ge=0, le=1_000_000)
    lot: str = Field(default="", max_length=20)
    expiry: str = Field(default="", max_length=10)
    sscc: str = Field(default="", max_length=18)
    received: int = Field(default=0, ge=0, le=10_000_000)
    damaged: int = Field(default=0, ge=0, le=10_000_000)
    put_away: int = Field(default=0, ge=0, le=10_000_000)
    reason: str = Field(default="", max_length=32)


#: Lines of one advance ship notice (so that a notice fits one message).
MAX_RECEIPT_LINES: Final = 1000


class ReceiptNotice(BaseModel):
    """Push item: an advance ship notice to receive (``state`` expected or receiving), or
    one that no longer is (closed, put away or cancelled: the device drops it)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: Literal["receipt.notice"] = "receipt.notice"
    receipt_id: str = Field(min_length=1, max_length=40)
    reference: str = Field(min_length=1, max_length=64)
    supplier: str = Field(default="", max_length=128)
    dock: str = Field(default="", max_length=32)
    state: ReceiptState
    lines: list[ReceiptLineModel] = Field(default_factory=list, max_length=MAX_RECEIPT_LINES)

    def to_domain(self) -> Receipt:
        return Receipt(
            receipt_id=self.receipt_id,
            reference=self.reference,
            supplier=self.supplier,
            kind=ReceiptKind.NOTICE,
            dock=self.dock,
            state=self.state,
            lines=[
                ReceiptLine(
                    **ln.model_dump(include=set(LINE_FIELDS), exclude={"received", "damaged"})
                )
                for ln in self.lines
            ],
        )


PushItem = Annotated[
    TaskAssigned
    | TaskCancelled
    | OrderSnapshot
    | OrderCancelled
    | RosterUpdate
    | StationConfig
    | StockTaskAssigned
    | StockTaskCancelled
    | ToteContents
    | SiteReference
    | ReceiptNotice,
    Field(discriminator="kind"),
]


class PushMessage(Message):
    """Hub -> device on ``dev/{device}/push``: one item of the device's state stream.

    ``cursor`` is per device, starts at 1 and grows by exactly 1 per item; the device stores
    the last cursor it applied and drops anything at or below it.
    """

    device_id: DeviceId
    cursor: Seq
    sent_at: float = Field(default_factory=time.time)
    item: PushItem


# -- presence ---------------------------------------------------------------------------


class Health(BaseModel):
    """The health part of a heartbeat."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    devices: dict[str, str] = Field(default_factory=dict)  # "scanner" -> "ready" ...
    outbox_depth: int = Field(default=0, ge=0)
    oldest_unsent_age_s: float | None = None
    last_seq: int = Field(default=0, ge=0)
    acked_seq: int = Field(default=0, ge=0)
    push_cursor: int = Field(default=0, ge=0)
    app_version: str = ""
    battery_pct: int | None = Field(default=None, ge=0, le=100)
    user: str = ""
    bad_input: dict[str, int] = Field(default_factory=dict)
    #: The version of the site's reference data the device runs (0: none from the hub).
    site_version: int = Field(default=0, ge=0, le=2**31 - 1)


class DeviceStatus(Message):
    """Retained on ``dev/{device}/status``: online or offline, the connection epoch, health.

    ``epoch`` grows by one on every connection of the device (it is kept in the device's
    store). A reader keeps the highest epoch it has seen per device and ignores a status
    with a lower one, so a late will ("offline", old epoch) never hides a newer "online".
    """

    device_id: DeviceId
    state: Literal["online", "offline"]
    epoch: int = Field(ge=1)
    at: float = Field(default_factory=time.time)
    reason: str = ""
    health: Health | None = None


#: A roster names at most this many devices (about 150 KB, under MAX_MESSAGE_BYTES).
ROSTER_LIMIT: Final = 1000


class RosterDevice(BaseModel):
    """One registered device as the hub knows it (an entry of :class:`DeviceRoster`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    device_id: DeviceId
    role: str = Field(default="", max_length=16)
    station: str = Field(default="", max_length=16)
    active: bool = True
    #: the last presence the hub recorded ("unknown": it never heard from the device)
    state: Literal["online", "offline", "unknown"] = "unknown"
    #: when the hub last heard the device's status (null: never)
    seen_at: float | None = None
    #: why it went offline, if it said
    reason: str = Field(default="", max_length=200)
    #: who is logged in there, as far as the hub knows
    user: str = Field(default="", max_length=64)


class DeviceRoster(Message):
    """Hub -> supervisors, retained on ``devices``: every device registered with the hub,
    so the supervisor's board lists the ones that are off or never came online too."""

    devices: list[RosterDevice] = Field(default_factory=list, max_length=ROSTER_LIMIT)
    at: float = Field(default_factory=time.time)


DecisionKindName = Literal[
    "approve_short", "release_hold", "accept_weight", "reassign_task", "acknowledge_count"
]


class DecisionEntry(BaseModel):
    """One supervisor decision the hub recorded (an entry of :class:`DecisionLog`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    event_id: str = Field(min_length=1, max_length=40)
    kind: DecisionKindName
    subject: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="", max_length=64)
    user: str = Field(default="", max_length=64)
    detail: str = Field(default="", max_length=200)
    device_id: str = Field(default="", max_length=64)
    at: float


class DecisionLog(Message):
    """Hub -> supervisors, retained on ``decisions``: the newest supervisor decisions the
    hub recorded (newest first), for the board's exceptions history."""

    decisions: list[DecisionEntry] = Field(default_factory=list, max_length=500)
    at: float = Field(default_factory=time.time)


# -- orders in and out, dead letters ----------------------------------------------------


class OrderIntake(Message):
    """Upstream -> hub on ``orders/in``: a new order. The hub checks SKUs and duplicates."""

    order_id: str = Field(min_length=1, max_length=32)
    lines: list[OrderLineModel] = Field(min_length=1)
    ship_to: AddressModel
    priority: int = Field(default=5, ge=0, le=9)
    carrier: str = ""
    service: str = ""
    channel: str = ""
    #: Delivery promised by this date: the hub's carrier choice must arrive in time.
    promised_date: date | None = None

    @field_validator("order_id")
    @classmethod
    def _order_level(cls, value: str) -> str:
        return _level(value)

    @staticmethod
    def from_domain(o: Order) -> OrderIntake:
        """The intake message of an order as upstream would send it (no progress)."""
        return OrderIntake(
            order_id=o.order_id,
            lines=[OrderLineModel(line_no=ln.line_no, sku=ln.sku, qty=ln.qty) for ln in o.lines],
            ship_to=AddressModel.from_domain(o.ship_to),
            priority=o.priority,
            carrier=o.carrier,
            service=o.service,
            channel=o.channel,
            promised_date=date.fromisoformat(o.promised_date) if o.promised_date else None,
        )


class OrderCancel(Message):
    """Upstream -> hub on ``orders/cancel``: cancel an order, with the reason.

    ``request_id`` (optional) comes back in the :class:`CancelResult`; ``requested_by`` says
    who asked (kept in the order's history with the reason).
    """

    order_id: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1, max_length=500)
    request_id: str = Field(default="", max_length=64)
    requested_by: str = Field(default="", max_length=64)

    @field_validator("order_id")
    @classmethod
    def _order_level(cls, value: str) -> str:
        return _level(value)

    @field_validator("reason")
    @classmethod
    def _reason_given(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a cancellation needs a reason")
        return value


class CancelResult(Message):
    """Hub -> upstream on ``orders/cancel/result``: what became of one cancellation.

    ``outcome`` is ``cancelled`` (done now; the order's status says so too),
    ``already_cancelled`` (a repeat: nothing changed) or ``rejected`` (nothing changed;
    ``reason`` says why, and the message is dead-lettered). ``order_id`` is empty when none
    could be read.
    """

    order_id: str = Field(default="", max_length=64)
    request_id: str = Field(default="", max_length=64)
    outcome: Literal["cancelled", "already_cancelled", "rejected"]
    reason: str = ""
    state: OrderState | None = None
    at: float = Field(default_factory=time.time)


class OrderLot(BaseModel):
    """Units of one lot picked for a line of an order."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    line_no: int = Field(ge=1)
    sku: str = Field(min_length=1, max_length=64)
    lot: str = Field(min_length=1, max_length=20)
    qty: int = Field(ge=1)


class OrderStatus(Message):
    """Hub -> tracking, retained on ``orders/{order}/status``: where an order is now.

    ``state`` is an order state or ``"rejected"`` (intake refused it; ``reasons`` say why).
    ``returned`` is the units of the order received back at the returns desk so far (sent
    with each return the hub records; 0 otherwise).
    """

    order_id: str = Field(min_length=1, max_length=32)
    state: OrderState | Literal["rejected"]
    version: int = Field(default=0, ge=0)
    at: float = Field(default_factory=time.time)
    reason: str = ""
    reasons: list[str] = Field(default_factory=list)
    device_id: str | None = None
    returned: int = Field(default=0, ge=0)
    #: lots picked for the order's lines so far: the lot scanned, or the one the location held
    #: (for a recall: which lot went where)
    lots: list[OrderLot] = Field(default_factory=list)


class ReceiptStatus(Message):
    """Hub -> upstream, retained on ``receipts/{receipt}/status``: where a delivery is now,
    line by line: units expected, counted good and damaged, put away, and the reason given
    for a SKU's variance."""

    receipt_id: str = Field(min_length=1, max_length=40)
    reference: str = Field(min_length=1, max_length=64)
    supplier: str = Field(default="", max_length=128)
    kind: ReceiptKind
    state: ReceiptState
    lines: list[ReceiptLineModel] = Field(default_factory=list, max_length=MAX_RECEIPT_LINES)
    closed_by: str = Field(default="", max_length=64)
    at: float = Field(default_factory=time.time)


class CountDifference(Message):
    """Hub -> supervisors, retained on ``counts/{count}/difference``: an accepted count that
    changed stock, for the supervisor's exceptions; ``acknowledged_by`` once a supervisor
    has seen it (the same topic, republished)."""

    count_id: int = Field(ge=1)
    task_id: str = Field(min_length=1, max_length=32)
    location: str = Field(min_length=1, max_length=32)
    sku: str = Field(min_length=1, max_length=64)
    expected: int
    counted: int = Field(ge=0)
    user: str = Field(default="", max_length=64)
    reason: str = Field(default="", max_length=500)
    at: float = Field(default_factory=time.time)
    acknowledged_by: str = Field(default="", max_length=64)

    @property
    def difference(self) -> int:
        """Units found more (positive) or fewer (negative) than the hub held."""
        return self.counted - self.expected


class DeadLetter(Message):
    """On ``dlq``: a message that failed validation, with the reason. Never silently dropped."""

    source: str = Field(min_length=1)  # "hub" or the reporting device's id
    topic: str
    code: str
    reason: str
    device_id: str | None = None
    payload_excerpt: str = Field(default="", max_length=DEAD_LETTER_EXCERPT)
    payload_size: int = Field(default=0, ge=0)
    at: float = Field(default_factory=time.time)

    @staticmethod
    def about(
        source: str, topic: str, raw: bytes, error: ProtocolError, device_id: str | None = None
    ) -> DeadLetter:
        """A dead letter for ``raw`` received on ``topic`` that failed with ``error``."""
        excerpt = raw[:DEAD_LETTER_EXCERPT].decode("utf-8", errors="replace")[:DEAD_LETTER_EXCERPT]
        return DeadLetter(
            source=source,
            topic=_printable(topic),
            code=error.code,
            reason=_printable(error.reason[:1000]),
            device_id=device_id,
            payload_excerpt=_printable(excerpt),
            payload_size=len(raw),
        )


def _printable(text: str) -> str:
    """``text`` without NUL characters, which no text column of PostgreSQL can hold."""
    return text.replace("\x00", "\ufffd")


# -- encoding and decoding --------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


def _short(exc: ValidationError, limit: int = 3) -> str:
    parts = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "message"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def _bounded_int(text: str) -> int:
    if len(text) > 11:  # longer than any 32-bit integer: refused without converting it
        raise ProtocolError("out_of_range", f"the number {text[:20]}... is too large")
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        raise ProtocolError("out_of_range", f"the number {value} is beyond {INT_MIN}..{INT_MAX}")
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ProtocolError("out_of_range", f"the number {text[:20]} is not finite")
    return value


def _no_constant(text: str) -> float:
    raise ProtocolError("out_of_range", f"{text} is not a number a message may carry")


def load_json(raw: bytes | str, *, max_bytes: int = MAX_MESSAGE_BYTES) -> dict[str, Any]:
    """Size check, JSON parse and version check; the object on success. Numbers are
    checked as they are parsed: integers within 32 bits, no NaN or infinity."""
    size = len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw)
    if size > max_bytes:
        raise ProtocolError("too_large", f"message is {size} bytes; the limit is {max_bytes}")
    try:
        data = json.loads(raw, parse_int=_bounded_int, parse_float=_finite_float,
                          parse_constant=_no_constant)  # fmt: skip
    except ProtocolError:
        raise
    except RecursionError:
        raise ProtocolError("malformed_json", "nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError("malformed_json", f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("malformed_json", f"expected a JSON object, got {type(data).__name__}")
    version = data.get("v")
    if version != SCHEMA_VERSION:
        raise ProtocolError(
            "unsupported_version",
            f"schema version {version!r} is not supported (this side speaks v{SCHEMA_VERSION})",
        )
    return data


def decode(model: type[M], raw: bytes | str, *, max_bytes: int = MAX_MESSAGE_BYTES) -> M:
    """Validate ``raw`` as ``model`` or raise :class:`ProtocolError`."""
    data = load_json(raw, max_bytes=max_bytes)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError("invalid", f"{model.__name__}: {_short(exc)}") from None


def decode_ack(
    raw: bytes | str,
) -> Ack | ResendRequest | ClaimRefused | EventRejected | StoreStale | StoreHistory:
    """Decode any message of a device's ``ack`` topic."""
    data = load_json(raw)
    try:
        return AckEnvelope.model_validate({"message": data}).message
    except ValidationError as exc:
        raise ProtocolError("invalid", f"ack topic message: {_short(exc)}") from None


def decode_sync(raw: bytes | str) -> SyncRequest | StoreRecovery:
    """Decode any message of a device's ``sync`` topic."""
    data = load_json(raw)
    model: type[SyncRequest] | type[StoreRecovery] = SyncRequest
    if isinstance(data, dict) and data.get("kind") == "recover":
        model = StoreRecovery
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError("invalid", f"{model.__name__}: {_short(exc)}") from None


def encode(message: BaseModel) -> bytes:
    """The wire form of ``message`` (compact UTF-8 JSON)."""
    return message.model_dump_json().encode("utf-8")


def check_device(topic_device: str | None, message_device: str) -> None:
    """Raise ``device_mismatch`` unless the device named by the topic is the message's device."""
    if topic_device != message_device:
        raise ProtocolError(
            "device_mismatch",
            f"topic names device {topic_device!r} but the message names {message_device!r}",
        )


def compact_json(value: Any) -> str:
    """``value`` as compact JSON text (no spaces, non-ASCII as is): what
    ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` writes, except that a
    float's exponent may have fewer digits (``1.5e-7``, not ``1.5e-07``: the same value).

    pydantic-core's serializer writes it several times faster than :mod:`json` (the backlog
    drain encodes every event on the device and its payload again on the hub); what it
    cannot write (a string with a lone surrogate) goes through :mod:`json`.
    """
    try:
        return to_json(value).decode()
    except (PydanticSerializationError, UnicodeDecodeError):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
