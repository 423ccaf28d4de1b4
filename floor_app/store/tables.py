"""Tables of the device's local store (SQLAlchemy 2, typed). Rows, not domain objects:
:mod:`floor_app.store.repositories` maps between the two."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the device store."""


class MetaRow(Base):
    """Key/value facts about this store: device id, site, next outbox sequence, push cursor."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SkuRow(Base):
    """A SKU as the device knows it."""

    __tablename__ = "skus"
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    gtin: Mapped[str] = mapped_column(String(14), unique=True)
    description: Mapped[str] = mapped_column(Text)
    description_zh: Mapped[str] = mapped_column(Text, default="")
    length_mm: Mapped[int | None]
    width_mm: Mapped[int | None]
    height_mm: Mapped[int | None]
    weight_g: Mapped[int]
    #: From the site's reference data: units carry a lot / a serial; days until expiry.
    lot_tracked: Mapped[bool] = mapped_column(default=False, server_default=false())
    serial_tracked: Mapped[bool] = mapped_column(default=False, server_default=false())
    shelf_life_days: Mapped[int | None]


class BarcodeRow(Base):
    """Every GTIN-14 that identifies a SKU (its own and alternates), and the units it
    stands for (1: the unit; more: an inner pack or a case)."""

    __tablename__ = "barcodes"
    gtin: Mapped[str] = mapped_column(String(14), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("skus.sku"), index=True)
    pack_qty: Mapped[int] = mapped_column(default=1, server_default="1")


class LocationRow(Base):
    """A storage or station location."""

    __tablename__ = "locations"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    site: Mapped[str] = mapped_column(String(32))
    zone: Mapped[str] = mapped_column(String(8))
    aisle: Mapped[int]
    bay: Mapped[int]
    level: Mapped[int]
    bin: Mapped[str] = mapped_column(String(4))
    x: Mapped[float]
    y: Mapped[float]
    kind: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(8))


class StockRow(Base):
    """Units of a SKU at a location, as last known on this device."""

    __tablename__ = "stock"
    location: Mapped[str] = mapped_column(ForeignKey("locations.code"), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("skus.sku"), primary_key=True)
    qty: Mapped[int]


class UserRow(Base):
    """A user of the cached roster (so login works offline)."""

    __tablename__ = "users"
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    badge: Mapped[str] = mapped_column(String(32), unique=True)
    roles: Mapped[str] = mapped_column(String(64))  # comma-separated Role values
    pin_hash: Mapped[str] = mapped_column(String(128), default="")
    active: Mapped[bool]
    language: Mapped[str] = mapped_column(String(8), default="")


class CartonRow(Base):
    """A carton type."""

    __tablename__ = "cartons"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    length_mm: Mapped[int]
    width_mm: Mapped[int]
    height_mm: Mapped[int]
    tare_g: Mapped[int]
    max_weight_g: Mapped[int]
    cost: Mapped[float]


class OrderRow(Base):
    """An order header; ``ship_to`` is the address as JSON."""

    __tablename__ = "orders"
    order_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int]
    priority: Mapped[int]
    carrier: Mapped[str] = mapped_column(String(32), default="")
    service: Mapped[str] = mapped_column(String(32), default="")
    channel: Mapped[str] = mapped_column(String(32), default="")
    promised_date: Mapped[str] = mapped_column(String(10), default="", server_default="")
    #: How carrier and service were chosen, with the quotes (JSON; "" when not known).
    carrier_choice: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: lots and serials picked for its lines (JSON list; "" when none known)
    traced: Mapped[str] = mapped_column(Text, default="", server_default="")
    ship_to: Mapped[str] = mapped_column(Text)
    held_from: Mapped[str | None] = mapped_column(String(16))
    hold_reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[float]


class OrderLineRow(Base):
    """An order line with its picked, packed and short counts."""

    __tablename__ = "order_lines"
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    qty: Mapped[int]
    picked: Mapped[int] = mapped_column(default=0)
    packed: Mapped[int] = mapped_column(default=0)
    short: Mapped[int] = mapped_column(default=0)


class PickTaskRow(Base):
    """A pick task header."""

    __tablename__ = "pick_tasks"
    task_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    batch_id: Mapped[str | None] = mapped_column(String(32))
    zone: Mapped[str] = mapped_column(String(8), default="")
    state: Mapped[str] = mapped_column(String(16), index=True)
    assigned_to: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int]
    updated_at: Mapped[float]


class PickLineRow(Base):
    """One line of a pick task."""

    __tablename__ = "pick_lines"
    line_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("pick_tasks.task_id"), index=True)
    order_id: Mapped[str] = mapped_column(String(32))
    order_line_no: Mapped[int]
    sku: Mapped[str] = mapped_column(String(64))
    gtin: Mapped[str] = mapped_column(String(14))
    location: Mapped[str] = mapped_column(String(32))
    qty: Mapped[int]
    tote_position: Mapped[int]
    sequence: Mapped[int]
    picked: Mapped[int] = mapped_column(default=0)
    short: Mapped[int] = mapped_column(default=0)
    short_reason: Mapped[str | None] = mapped_column(String(16))
    put_tote: Mapped[str] = mapped_column(String(16), default="")
    #: a lot-tracked item: the lot held at the location and its expiry (ISO date or "")
    lot_tracked: Mapped[bool] = mapped_column(default=False, server_default=false())
    lot: Mapped[str] = mapped_column(String(20), default="", server_default="")
    expiry: Mapped[str] = mapped_column(String(10), default="", server_default="")
    serial_tracked: Mapped[bool] = mapped_column(default=False, server_default=false())


class ToteRow(Base):
    """A tote on the cart of a pick task (``tote_id`` is "" until the picker scans one)."""

    __tablename__ = "totes"
    task_id: Mapped[str] = mapped_column(ForeignKey("pick_tasks.task_id"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    tote_id: Mapped[str] = mapped_column(String(16))
    order_id: Mapped[str | None] = mapped_column(String(32))
    destination: Mapped[str] = mapped_column(String(32), default="")


class SiteToteRow(Base):
    """A tote of the site as this device knows it (its own picks and packs, and what the
    hub pushed): free, or the order it holds; the cart it stands on."""

    __tablename__ = "site_totes"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    order_id: Mapped[str | None] = mapped_column(String(32), index=True)
    task_id: Mapped[str | None] = mapped_column(String(32))
    destination: Mapped[str] = mapped_column(String(32), default="")
    cart: Mapped[str] = mapped_column(String(16), default="", index=True)
    cart_position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[float]


class ReceiptRow(Base):
    """A delivery to receive (an advance ship notice the hub pushed, or a blind receipt
    started here) with its lines and what this device counted, as JSON
    (:meth:`floor_app.domain.receiving.Receipt.as_dict`)."""

    __tablename__ = "receipts"
    receipt_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[float]


class StockTaskRow(Base):
    """A stock task leased to this device (replenish, put-away, count); see
    :class:`floor_app.domain.stockwork.StockTask`. A count never holds its expected qty."""

    __tablename__ = "stock_tasks"
    task_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    sku: Mapped[str] = mapped_column(String(64), default="")
    gtin: Mapped[str] = mapped_column(String(14), default="")
    from_location: Mapped[str] = mapped_column(String(64), default="")
    to_location: Mapped[str] = mapped_column(String(32), default="")
    qty: Mapped[int] = mapped_column(default=0)
    moved: Mapped[int] = mapped_column(default=0)
    lot: Mapped[str] = mapped_column(String(32), default="")
    expiry: Mapped[str] = mapped_column(String(10), default="")
    urgent: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    assigned_to: Mapped[str | None] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(default=1)
    not_user: Mapped[str] = mapped_column(String(64), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int]
    updated_at: Mapped[float]


class PackSessionRow(Base):
    """A packer's verification of one order; ``verified`` is JSON {sku: qty}."""

    __tablename__ = "pack_sessions"
    session_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(32), index=True)
    station: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    expected: Mapped[str] = mapped_column(Text)
    verified: Mapped[str] = mapped_column(Text)
    carton: Mapped[str | None] = mapped_column(String(16))
    weight_g: Mapped[int | None]
    started_at: Mapped[float]


class LabelJobRow(Base):
    """A label job: keyed by the event id that asked for it, so it prints once."""

    __tablename__ = "label_jobs"
    job_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(32), index=True)
    tracking: Mapped[str] = mapped_column(String(40))
    carrier: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    reprint_of: Mapped[str | None] = mapped_column(String(40))
    reprint_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float]


class ShortageRow(Base):
    """A shortage reported on this device."""

    __tablename__ = "shortages"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(String(32))
    line_id: Mapped[str] = mapped_column(String(48))
    order_id: Mapped[str] = mapped_column(String(32))
    sku: Mapped[str] = mapped_column(String(64))
    location: Mapped[str] = mapped_column(String(32))
    qty: Mapped[int]
    reason: Mapped[str] = mapped_column(String(16))
    reported_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[float]


class OutboxRow(Base):
    """One event waiting for (or acknowledged by) the hub.

    ``seq`` is this device's gap-free sequence; it is allocated in the same transaction as
    the state change, so a row exists exactly when its action was confirmed.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("event_id", name="uq_outbox_event_id"),
        Index("ix_outbox_unacked", "acked_at", "seq"),
    )
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(40))
    device_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(8))
    order_id: Mapped[str | None] = mapped_column(String(32))
    order_version: Mapped[int | None]
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float]
    acked_at: Mapped[float | None]
