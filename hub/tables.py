"""Tables of the hub's database (SQLAlchemy 2, typed), on their own metadata.

These are rows, not domain objects: :mod:`hub.repositories` maps orders and pick
tasks to :mod:`floor_app.domain` objects and back. The device store
(:mod:`floor_app.store.tables`) has a separate metadata; the two never share a database.

Lock order (PostgreSQL, ``SELECT ... FOR UPDATE``), followed by every transaction so that
two hub workers never deadlock on each other's rows: a device's inbox cursor, then orders
(sorted by id), then pick tasks (sorted), then site totes (sorted), then receipts, then stock rows
(sorted), then push streams (sorted). A transaction may skip a class, never go back to an
earlier one.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Row ids that grow for years: BIGINT on PostgreSQL, the rowid on SQLite.
BIG_ID = BigInteger().with_variant(Integer, "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class HubBase(DeclarativeBase):
    """Declarative base of the hub database (its own metadata)."""

    metadata = MetaData(naming_convention=NAMING)


# -- the site: reference data ----------------------------------------------------------


class HubMetaRow(HubBase):
    """Key/value facts about this hub database: site id, floor layout (JSON), demo loaded."""

    __tablename__ = "hub_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SkuRow(HubBase):
    """A SKU the site stocks (intake refuses orders naming any other)."""

    __tablename__ = "skus"
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    gtin: Mapped[str] = mapped_column(String(14), unique=True)
    description: Mapped[str] = mapped_column(Text)
    description_zh: Mapped[str] = mapped_column(Text, default="")
    length_mm: Mapped[int | None]
    width_mm: Mapped[int | None]
    height_mm: Mapped[int | None]
    weight_g: Mapped[int]
    #: Units carry a lot (GS1 AI 10): stock is held and allocated per lot, first expiry out.
    lot_tracked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Every unit carries a serial number (GS1 AI 21), captured when it leaves.
    serial_tracked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Days from production to expiry (None: the item does not expire).
    shelf_life_days: Mapped[int | None]


class BarcodeRow(HubBase):
    """A barcode (as GTIN-14) of a SKU and how many units it stands for: 1 for the unit,
    more for an inner pack or a case. The SKU's own ``gtin`` is one of its unit barcodes."""

    __tablename__ = "sku_barcodes"
    gtin: Mapped[str] = mapped_column(String(14), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), index=True)
    pack_qty: Mapped[int] = mapped_column(default=1)


class SerialRow(HubBase):
    """A serial number of a serial-tracked SKU and where the unit is now."""

    __tablename__ = "serials"
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    serial: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: The stock location holding the unit ("" once it left stock).
    location: Mapped[str] = mapped_column(String(32), default="", index=True)
    lot: Mapped[str] = mapped_column(String(32), default="")
    #: in_stock, picked, shipped.
    state: Mapped[str] = mapped_column(String(16), default="in_stock")
    #: the order the unit was picked for ("" while in stock)
    order_id: Mapped[str] = mapped_column(String(32), default="", server_default="")


class LocationRow(HubBase):
    """A storage or station location of the site."""

    __tablename__ = "locations"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    zone: Mapped[str] = mapped_column(String(8))
    aisle: Mapped[int]
    bay: Mapped[int]
    level: Mapped[int]
    bin: Mapped[str] = mapped_column(String(4))
    x: Mapped[float]
    y: Mapped[float]
    kind: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(8))


class StockRow(HubBase):
    """Units of a SKU at a location: ``qty`` on hand, ``reserved`` promised to orders.

    A reservation only ever succeeds through ``UPDATE ... WHERE qty - reserved >= n``
    (see :mod:`hub.stock`), so ``reserved`` never exceeds what was on hand.
    """

    __tablename__ = "stock"
    __table_args__ = (
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        Index("ix_stock_sku", "sku"),
    )
    location: Mapped[str] = mapped_column(String(32), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    qty: Mapped[int]
    reserved: Mapped[int] = mapped_column(default=0)
    #: The lot held here ("" when the SKU is not lot-tracked); one lot per location and SKU.
    lot: Mapped[str] = mapped_column(String(32), default="", server_default="")
    #: Best-before of that lot, ISO date ("" when none); replenishment takes the earliest.
    expiry: Mapped[str] = mapped_column(String(10), default="", server_default="")
    #: When the units arrived here (first in, first out among equal expiries).
    received_at: Mapped[float | None]


class PickFaceRow(HubBase):
    """A pick face of a SKU with its replenishment levels (``min_qty`` triggers a refill
    from reserve up to ``max_qty``)."""

    __tablename__ = "pick_faces"
    location: Mapped[str] = mapped_column(String(32), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    min_qty: Mapped[int]
    max_qty: Mapped[int]


class UserRow(HubBase):
    """A user of the site (pushed to devices as the roster so login works offline)."""

    __tablename__ = "users"
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    badge: Mapped[str] = mapped_column(String(32), unique=True)
    roles: Mapped[str] = mapped_column(String(64))  # comma-separated Role values
    pin_hash: Mapped[str] = mapped_column(String(128), default="")
    active: Mapped[bool] = mapped_column(Boolean)
    language: Mapped[str] = mapped_column(String(8), default="")


class CartonRow(HubBase):
    """A carton type of the site."""

    __tablename__ = "cartons"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    length_mm: Mapped[int]
    width_mm: Mapped[int]
    height_mm: Mapped[int]
    tare_g: Mapped[int]
    max_weight_g: Mapped[int]
    cost: Mapped[float]


# -- devices: registry, inbox cursor, push stream, presence ------------------------------


class DeviceRow(HubBase):
    """A known device: only these may send events. ``zones`` limits what a picker gets."""

    __tablename__ = "devices"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    station: Mapped[str] = mapped_column(String(16), default="")
    zones: Mapped[str] = mapped_column(String(64), default="")  # comma-separated, "" = all
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    added_at: Mapped[float]


class DeviceCursorRow(HubBase):
    """The inbox cursor of one device: the row every batch of that device locks first.

    ``last_seq`` is the highest contiguous sequence recorded; the counters feed
    ``floor-hub stats``.
    """

    __tablename__ = "device_cursors"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    applied: Mapped[int] = mapped_column(default=0)
    duplicates_ignored: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    gaps: Mapped[int] = mapped_column(default=0)
    batches: Mapped[int] = mapped_column(default=0)
    last_batch_at: Mapped[float | None]
    #: the identity of the device's store the hub last heard ("" before the first)
    store_id: Mapped[str] = mapped_column(String(40), default="", server_default="")
    #: why the device's store does not continue the hub's record ("" while it does): no
    #: event of it is applied until the device recovers
    stale: Mapped[str] = mapped_column(Text, default="", server_default="")


class PushStreamRow(HubBase):
    """The last push cursor handed out for a device (locked to number the next push)."""

    __tablename__ = "push_streams"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_cursor: Mapped[int] = mapped_column(default=0)


class PushRow(HubBase):
    """One item of a device's push stream, kept for replay on the device's sync request."""

    __tablename__ = "pushes"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[float]


class PresenceRow(HubBase):
    """The newest presence of a device (highest connection epoch wins)."""

    __tablename__ = "device_presence"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(8))
    epoch: Mapped[int]
    reason: Mapped[str] = mapped_column(Text, default="")
    health: Mapped[str] = mapped_column(Text, default="")  # JSON, may be empty
    device_at: Mapped[float]
    received_at: Mapped[float]


class DecisionRow(HubBase):
    """A supervisor decision the hub applied: what (``kind``, ``subject``), why (the reason
    code), who, on which device and event, and when (the device's time and the hub's)."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    subject: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(64), default="")
    user_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    device_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int]
    device_at: Mapped[float]
    at: Mapped[float]


class UserSessionRow(HubBase):
    """Who is logged in on which device (from user.logged_in / user.logged_out)."""

    __tablename__ = "user_sessions"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16), default="")
    since: Mapped[float]


class InboxRow(HubBase):
    """Every event recorded from a device, exactly once per (device, seq).

    ``outcome`` is ``applied``, ``refused`` (a stale claim) or ``rejected`` (failed the
    hub's validation). Both the device's time and the hub's receive time are kept.
    """

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_device_event", "device_id", "event_id"),)
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(8))
    order_id: Mapped[str | None] = mapped_column(String(32))
    order_version: Mapped[int | None]
    payload: Mapped[str] = mapped_column(Text)
    device_at: Mapped[float]
    received_at: Mapped[float]
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")


# -- orders ----------------------------------------------------------------------------


class OrderRow(HubBase):
    """An order the hub accepted. ``external_version`` is the version of the last change
    not caused by a device's own facts: a claim based on an older version is stale."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_state_priority", "state", "priority", "received_at"),)
    order_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    version: Mapped[int]
    external_version: Mapped[int] = mapped_column(default=1)
    priority: Mapped[int]
    carrier: Mapped[str] = mapped_column(String(32), default="")
    service: Mapped[str] = mapped_column(String(32), default="")
    channel: Mapped[str] = mapped_column(String(32), default="")
    #: Delivery promised by (ISO date, "" when none): the carrier choice must meet it.
    promised_date: Mapped[str] = mapped_column(String(10), default="", server_default="")
    #: How carrier and service were chosen, with the quotes (JSON, "" before a choice).
    carrier_choice: Mapped[str] = mapped_column(Text, default="", server_default="")
    ship_to: Mapped[str] = mapped_column(Text)  # JSON
    held_from: Mapped[str | None] = mapped_column(String(16))
    hold_reason: Mapped[str] = mapped_column(Text, default="")
    pack_station: Mapped[str] = mapped_column(String(16), default="")
    tracking: Mapped[str] = mapped_column(String(40), default="")
    intake_digest: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(32), default="")
    received_at: Mapped[float]
    updated_at: Mapped[float]


class OrderLineRow(HubBase):
    """An order line: ordered, reserved, picked, packed and short units."""

    __tablename__ = "order_lines"
    order_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    line_no: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sku: Mapped[str] = mapped_column(String(64))
    qty: Mapped[int]
    reserved: Mapped[int] = mapped_column(default=0)
    picked: Mapped[int] = mapped_column(default=0)
    packed: Mapped[int] = mapped_column(default=0)
    short: Mapped[int] = mapped_column(default=0)


class OrderHistoryRow(HubBase):
    """Every state change of an order, with its cause (for tracking and bottleneck analysis)."""

    __tablename__ = "order_history"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(32), index=True)
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    version: Mapped[int]
    reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[float]


class RejectedOrderRow(HubBase):
    """An order intake refused, with its reasons."""

    __tablename__ = "rejected_orders"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(64), default="")
    reasons: Mapped[str] = mapped_column(Text)  # JSON list
    source: Mapped[str] = mapped_column(String(64))
    excerpt: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[float]


class ReservationRow(HubBase):
    """Units of an order line promised from one location."""

    __tablename__ = "reservations"
    order_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    line_no: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    location: Mapped[str] = mapped_column(String(32), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    qty: Mapped[int]
    task_id: Mapped[str | None] = mapped_column(String(32), index=True)
    at: Mapped[float]


# -- picking ---------------------------------------------------------------------------


class PickTaskRow(HubBase):
    """A pick task and its lease: ``lease_device`` holds it until ``lease_expires_at``."""

    __tablename__ = "pick_tasks"
    __table_args__ = (Index("ix_pick_tasks_state", "state"),)
    task_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    batch_id: Mapped[str | None] = mapped_column(String(32))
    zone: Mapped[str] = mapped_column(String(16), default="")
    state: Mapped[str] = mapped_column(String(16))
    assigned_to: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int]
    priority: Mapped[int] = mapped_column(default=5)
    lease_device: Mapped[str | None] = mapped_column(String(64), index=True)
    lease_expires_at: Mapped[float | None]
    origin: Mapped[str] = mapped_column(String(16), default="allocation")
    created_at: Mapped[float]
    updated_at: Mapped[float]


class PickLineRow(HubBase):
    """One line of a pick task (a location visit)."""

    __tablename__ = "pick_lines"
    line_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(32), index=True)
    order_id: Mapped[str] = mapped_column(String(32), index=True)
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
    #: a lot-tracked item: the lot held at the location when the task was made, its expiry
    lot_tracked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    lot: Mapped[str] = mapped_column(String(20), default="", server_default="")
    expiry: Mapped[str] = mapped_column(String(10), default="", server_default="")
    serial_tracked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class LotPickRow(HubBase):
    """Units of a lot picked for an order line (negative when put back): where every unit
    of a lot went, for ``floor-hub trace``."""

    __tablename__ = "lot_picks"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    sku: Mapped[str] = mapped_column(String(64))
    lot: Mapped[str] = mapped_column(String(20), index=True)
    order_id: Mapped[str] = mapped_column(String(32), index=True)
    line_no: Mapped[int]
    location: Mapped[str] = mapped_column(String(32))
    qty: Mapped[int]
    substituted: Mapped[bool] = mapped_column(Boolean, default=False)
    device_id: Mapped[str] = mapped_column(String(64))
    user: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[float]


class ToteRow(HubBase):
    """A position on the cart of a pick task: the order it takes, where it goes once picked
    (the order's pack station) and the physical tote scanned for it ("" until then)."""

    __tablename__ = "totes"
    task_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    tote_id: Mapped[str] = mapped_column(String(16))
    order_id: Mapped[str | None] = mapped_column(String(32))
    destination: Mapped[str] = mapped_column(String(32), default="")


class SiteToteRow(HubBase):
    """One of the site's totes (site data, reused): free, being filled for an order on a
    task, or holding a picked order until it is packed; the cart it stands on, if any."""

    __tablename__ = "site_totes"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="free")
    order_id: Mapped[str | None] = mapped_column(String(32), index=True)
    task_id: Mapped[str | None] = mapped_column(String(32))
    destination: Mapped[str] = mapped_column(String(32), default="")
    cart: Mapped[str] = mapped_column(String(16), default="")
    cart_position: Mapped[int] = mapped_column(default=0)
    device_id: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[float]


class ShortageRow(HubBase):
    """A shortage reported by a picker and how the hub resolved it."""

    __tablename__ = "shortages"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(32), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    location: Mapped[str] = mapped_column(String(32))
    qty: Mapped[int]
    reason: Mapped[str] = mapped_column(String(16))
    user: Mapped[str] = mapped_column(String(64))
    task_id: Mapped[str] = mapped_column(String(32))
    line_id: Mapped[str] = mapped_column(String(48))
    device_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int]
    reallocated: Mapped[int] = mapped_column(default=0)
    resolution: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[float]


class ReturnTaskRow(HubBase):
    """Compensating work: units that must go back to stock (cancelled order, surplus pick)."""

    __tablename__ = "return_tasks"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(32), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    qty: Mapped[int]
    from_place: Mapped[str] = mapped_column(String(64))  # tote, station ...
    to_location: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="open")
    device_id: Mapped[str] = mapped_column(String(64), default="")
    seq: Mapped[int | None]
    at: Mapped[float]


# -- stock work: replenishment, put-away, counts, returns, the ledger ----------------------


class StockTaskRow(HubBase):
    """A stock task (:class:`floor_app.domain.stockwork.StockTask`) and its lease.

    ``expected`` is what a count should find (kept here, never sent to the device: counts
    are blind). ``origin`` says what created it (``min_level``, ``urgent``, ``cancelled``,
    ``shortage``, ``abc``, ``manual``, ``recount``) and ``origin_ref`` the row it came from.
    """

    __tablename__ = "stock_tasks"
    __table_args__ = (
        Index("ix_stock_tasks_state", "state"),
        Index("ix_stock_tasks_open_work", "kind", "to_location", "sku"),
    )
    task_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    sku: Mapped[str] = mapped_column(String(64), default="")
    gtin: Mapped[str] = mapped_column(String(14), default="")
    from_location: Mapped[str] = mapped_column(String(64), default="")
    to_location: Mapped[str] = mapped_column(String(32), default="")
    qty: Mapped[int] = mapped_column(default=0)
    moved: Mapped[int] = mapped_column(default=0)
    lot: Mapped[str] = mapped_column(String(32), default="")
    expiry: Mapped[str] = mapped_column(String(10), default="")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[int] = mapped_column(default=5)
    reason: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(16), default="manual")
    origin_ref: Mapped[str] = mapped_column(String(64), default="")
    attempt: Mapped[int] = mapped_column(default=1)
    not_user: Mapped[str] = mapped_column(String(64), default="")
    expected: Mapped[int | None]
    assigned_to: Mapped[str | None] = mapped_column(String(64))
    lease_device: Mapped[str | None] = mapped_column(String(64), index=True)
    lease_expires_at: Mapped[float | None]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[float]
    updated_at: Mapped[float]


class StockLedgerRow(HubBase):
    """Every change of on-hand stock, written in the transaction that made it.

    ``kind`` is ``event`` (a device's fact: ``device_id``/``seq`` name its inbox row),
    ``count`` (``qty`` becomes the new on-hand: a baseline for ``floor-hub stock check``),
    or ``load`` (stock loaded by the site: also a baseline). ``delta`` is the change; for a
    baseline it is the difference from what the hub held before.
    """

    __tablename__ = "stock_ledger"
    __table_args__ = (Index("ix_stock_ledger_place", "location", "sku", "id"),)
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    location: Mapped[str] = mapped_column(String(32))
    sku: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    delta: Mapped[int]
    qty: Mapped[int | None]  # the new on-hand, for baselines
    reason: Mapped[str] = mapped_column(String(16))
    event_type: Mapped[str] = mapped_column(String(40), default="")
    device_id: Mapped[str] = mapped_column(String(64), default="")
    seq: Mapped[int | None]
    ref: Mapped[str] = mapped_column(String(64), default="")
    user: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[float]


class StockCountRow(HubBase):
    """One count result: what the hub expected, what was counted, and what was decided."""

    __tablename__ = "stock_counts"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(String(32), index=True)
    location: Mapped[str] = mapped_column(String(32))
    sku: Mapped[str] = mapped_column(String(64))
    expected: Mapped[int]
    counted: Mapped[int]
    attempt: Mapped[int]
    user: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # match, recount, adjusted
    device_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int]
    at: Mapped[float]


class ReturnReceiptRow(HubBase):
    """Units of an order received back, graded and placed (storage or quarantine)."""

    __tablename__ = "return_receipts"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    return_id: Mapped[str] = mapped_column(String(40), index=True)
    order_id: Mapped[str] = mapped_column(String(32), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    qty: Mapped[int]
    grade: Mapped[str] = mapped_column(String(16))
    location: Mapped[str] = mapped_column(String(32))
    user: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int]
    at: Mapped[float]


class ReceiptRow(HubBase):
    """A delivery received (:class:`floor_app.domain.receiving.Receipt`): from an advance
    ship notice or blind. ``to_put_away`` is the good units counted when it was closed."""

    __tablename__ = "receipts"
    receipt_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    reference: Mapped[str] = mapped_column(String(64), index=True)
    supplier: Mapped[str] = mapped_column(String(128), default="")
    dock: Mapped[str] = mapped_column(String(32), default="")
    state: Mapped[str] = mapped_column(String(16), index=True)
    device_id: Mapped[str] = mapped_column(String(64), default="")
    closed_by: Mapped[str] = mapped_column(String(64), default="")
    to_put_away: Mapped[int] = mapped_column(default=0)
    put_away: Mapped[int] = mapped_column(default=0)
    #: what the notice announced when imported, as JSON ("" for a blind receipt)
    announced: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float]
    updated_at: Mapped[float]
    closed_at: Mapped[float | None] = mapped_column(default=None)


class ReceiptLineRow(HubBase):
    """A line of a receipt: what the notice announced and what was counted."""

    __tablename__ = "receipt_lines"
    receipt_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    line_no: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    gtin: Mapped[str] = mapped_column(String(14), default="")
    expected: Mapped[int] = mapped_column(default=0)
    lot: Mapped[str] = mapped_column(String(20), default="")
    expiry: Mapped[str] = mapped_column(String(10), default="")
    sscc: Mapped[str] = mapped_column(String(18), default="")
    received: Mapped[int] = mapped_column(default=0)
    damaged: Mapped[int] = mapped_column(default=0)
    put_away: Mapped[int] = mapped_column(default=0)
    #: the reason given for the SKU's variance ("" when none)
    reason: Mapped[str] = mapped_column(String(32), default="")


class ReceiptCountRow(HubBase):
    """Each count applied to a receipt (an event), for the trace of a lot or serial."""

    __tablename__ = "receipt_counts"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    receipt_id: Mapped[str] = mapped_column(String(40), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    lot: Mapped[str] = mapped_column(String(20), default="", index=True)
    expiry: Mapped[str] = mapped_column(String(10), default="")
    serial: Mapped[str] = mapped_column(String(40), default="", index=True)
    sscc: Mapped[str] = mapped_column(String(18), default="")
    qty: Mapped[int]
    condition: Mapped[str] = mapped_column(String(16))
    location: Mapped[str] = mapped_column(String(32))
    user: Mapped[str] = mapped_column(String(64), default="")
    device_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int]
    at: Mapped[float]


class CarrierChoiceRow(HubBase):
    """Each carrier service chosen for an order: by the hub's rules or changed by a user."""

    __tablename__ = "carrier_choices"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(32), index=True)
    carrier: Mapped[str] = mapped_column(String(32))
    service: Mapped[str] = mapped_column(String(32))
    cost: Mapped[float | None]
    rule: Mapped[str] = mapped_column(String(64), default="")
    chosen_by: Mapped[str] = mapped_column(String(64))  # "hub" or a user id
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[float]


# -- packing and labels ------------------------------------------------------------------


class PackRecordRow(HubBase):
    """An order packed at a station (from pack.completed)."""

    __tablename__ = "pack_records"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(32), index=True)
    station: Mapped[str] = mapped_column(String(16))
    carton: Mapped[str] = mapped_column(String(16))
    weight_g: Mapped[int]
    user: Mapped[str] = mapped_column(String(64))
    weight_override_by: Mapped[str] = mapped_column(String(64), default="")
    device_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int]
    at: Mapped[float]


class LabelJobRow(HubBase):
    """A shipping label, keyed by its job id: a job is recorded once and never again."""

    __tablename__ = "label_jobs"
    job_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(32), index=True)
    tracking: Mapped[str] = mapped_column(String(40))
    carrier: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    user: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int]
    reprint_of: Mapped[str] = mapped_column(String(40), default="")
    reprint_reason: Mapped[str] = mapped_column(Text, default="")
    printed_at: Mapped[float]
    confirmed_at: Mapped[float | None]


# -- messages out, dead letters ----------------------------------------------------------


class OutboxMessageRow(HubBase):
    """A message the hub must publish, written in the transaction that caused it.

    Published after commit; deleted once the broker acknowledged it. A row left behind by
    a crash is published again (acks, statuses and pushes are all idempotent to receive).
    """

    __tablename__ = "hub_outbox"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(200))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    retain: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(index=True)


class DeadLetterRow(HubBase):
    """A message that failed validation (or was refused at the edge), with the reason."""

    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(Text)
    device_id: Mapped[str | None] = mapped_column(String(64))
    excerpt: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(default=0)
    at: Mapped[float]


def table_of(model: type[HubBase]) -> Table:
    """The Core table of a mapped class (for statements that bypass the ORM)."""
    return cast(Table, model.__table__)
