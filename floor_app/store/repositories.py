"""Repositories: load and save domain objects inside a unit of work's session."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from floor_app.domain.errors import NotFound
from floor_app.domain.location import Location
from floor_app.domain.order import Order, OrderState
from floor_app.domain.packing import Carton, LabelJob, PackSession
from floor_app.domain.picking import PickLine, PickTask, Shortage, ShortReason, TaskState
from floor_app.domain.receiving import COUNTABLE, Receipt
from floor_app.domain.sku import Sku
from floor_app.domain.stockwork import StockTask, StockTaskKind, StockTaskState
from floor_app.domain.totes import SiteTote, ToteState
from floor_app.domain.users import User

from . import mapping as m
from .tables import (
    BarcodeRow,
    CartonRow,
    LabelJobRow,
    LocationRow,
    MetaRow,
    OrderLineRow,
    OrderRow,
    PackSessionRow,
    PickLineRow,
    PickTaskRow,
    ReceiptRow,
    ShortageRow,
    SiteToteRow,
    SkuRow,
    StockRow,
    StockTaskRow,
    ToteRow,
    UserRow,
)


def _row_dict(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


class MetaRepository:
    """Key/value facts of the store."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, key: str, default: str | None = None) -> str | None:
        row = self.s.get(MetaRow, key)
        return row.value if row else default

    def set(self, key: str, value: str) -> None:
        row = self.s.get(MetaRow, key)
        if row is None:
            self.s.add(MetaRow(key=key, value=value))
        else:
            row.value = value


class CatalogueRepository:
    """SKUs, barcodes, locations, cartons and stock: the reference data on the device."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add_sku(self, sku: Sku) -> None:
        self.s.merge(m.sku_to_row(sku))
        for gtin in (sku.gtin, *sku.extra_gtins):
            self.s.merge(BarcodeRow(gtin=gtin, sku=sku.sku))

    def sku(self, code: str) -> Sku:
        row = self.s.get(SkuRow, code)
        if row is None:
            raise NotFound(f"unknown SKU {code}", code="store.unknown_sku", params={"sku": code})
        return m.sku_from_row(row)

    def sku_by_gtin(self, gtin14: str) -> Sku:
        code = self.s.scalar(select(BarcodeRow.sku).where(BarcodeRow.gtin == gtin14))
        if code is None:
            raise NotFound(
                f"no item with barcode {gtin14.lstrip('0') or gtin14} on this device",
                hint="check the item, or report it to a supervisor",
                code="store.unknown_barcode",
                params={"code": gtin14.lstrip("0") or gtin14},
            )
        return self.sku(code)

    def pack_qty(self, gtin14: str) -> int:
        """The units the barcode ``gtin14`` stands for (1 for a unit or an unknown code)."""
        qty = self.s.scalar(select(BarcodeRow.pack_qty).where(BarcodeRow.gtin == gtin14))
        return int(qty or 1)

    def tracking(self, sku: str) -> tuple[bool, bool]:
        """(lot-tracked, serial-tracked) of ``sku`` (False, False when unknown)."""
        row = self.s.get(SkuRow, sku)
        return (False, False) if row is None else (bool(row.lot_tracked), bool(row.serial_tracked))

    def add_skus(self, skus: list[Sku]) -> None:
        """Insert many new SKUs at once (initial load)."""
        if not skus:
            return
        self.s.execute(insert(SkuRow), [_row_dict(m.sku_to_row(s)) for s in skus])
        self.s.execute(
            insert(BarcodeRow),
            [{"gtin": g, "sku": s.sku} for s in skus for g in (s.gtin, *s.extra_gtins)],
        )

    def add_locations(self, locations: list[Location]) -> None:
        """Insert many new locations at once (initial load)."""
        if locations:
            self.s.execute(
                insert(LocationRow), [_row_dict(m.location_to_row(x)) for x in locations]
            )

    def add_stock(self, records: list[tuple[str, str, int]]) -> None:
        """Insert many new (location, sku, qty) stock records at once (initial load)."""
        if records:
            self.s.execute(
                insert(StockRow), [{"location": a, "sku": b, "qty": c} for a, b, c in records]
            )

    def add_location(self, loc: Location) -> None:
        self.s.merge(m.location_to_row(loc))

    def location(self, code: str) -> Location:
        row = self.s.get(LocationRow, code)
        if row is None:
            raise NotFound(
                f"unknown location {code}", code="store.unknown_location", params={"location": code}
            )
        return m.location_from_row(row)

    def add_carton(self, carton: Carton) -> None:
        self.s.merge(m.carton_to_row(carton))

    def cartons(self) -> list[Carton]:
        return [
            m.carton_from_row(r)
            for r in self.s.scalars(select(CartonRow).order_by(CartonRow.length_mm))
        ]

    def set_stock(self, location: str, sku: str, qty: int) -> None:
        self.s.merge(StockRow(location=location, sku=sku, qty=qty))

    def stock(self, location: str, sku: str) -> int:
        row = self.s.get(StockRow, (location, sku))
        return row.qty if row else 0

    def adjust_stock(self, location: str, sku: str, delta: int) -> int:
        row = self.s.get(StockRow, (location, sku))
        if row is None:
            row = StockRow(location=location, sku=sku, qty=0)
            self.s.add(row)
        row.qty = max(0, row.qty + delta)
        return row.qty

    def holding(self, sku: str) -> list[tuple[str, str]]:
        """(location, kind) of the locations holding ``sku``, pick faces first."""
        q = (
            select(StockRow.location, LocationRow.kind)
            .join(LocationRow, LocationRow.code == StockRow.location)
            .where(StockRow.sku == sku, StockRow.qty > 0)
            .order_by((LocationRow.kind != "pick"), StockRow.location)
        )
        return [(str(a), str(b)) for a, b in self.s.execute(q)]

    def location_kind(self, code: str) -> str | None:
        """The kind of location ``code`` (None when there is no such location)."""
        return self.s.scalar(select(LocationRow.kind).where(LocationRow.code == code))

    def put_items(self, items: list[dict[str, Any]]) -> None:
        """Add or replace items of the site's reference data, each with all its barcodes
        (``barcodes``: list of ``{"gtin", "pack_qty"}``; those it no longer carries go)."""
        # an item's main barcode may be another's until that one's change comes: free it
        incoming = {item["gtin"]: item["sku"] for item in items}
        for start in range(0, len(incoming), 500):
            chunk = list(incoming)[start : start + 500]
            for code, gtin in self.s.execute(
                select(SkuRow.sku, SkuRow.gtin).where(SkuRow.gtin.in_(chunk))
            ).all():
                if incoming[gtin] != code:
                    placeholder = "~" + hashlib.sha256(code.encode()).hexdigest()[:13]
                    self.s.execute(
                        update(SkuRow).where(SkuRow.sku == code).values(gtin=placeholder)
                    )
        for item in items:
            fields = {k: v for k, v in item.items() if k != "barcodes"}
            self.s.merge(SkuRow(**fields))
            self.s.flush()
            wanted = {b["gtin"]: b["pack_qty"] for b in item.get("barcodes", [])}
            wanted.setdefault(item["gtin"], 1)
            self.s.execute(
                delete(BarcodeRow)
                .where(BarcodeRow.sku == item["sku"])
                .where(BarcodeRow.gtin.not_in(sorted(wanted)))
            )
            for gtin, pack_qty in wanted.items():
                # a barcode that moved from another item moves with its row
                self.s.merge(BarcodeRow(gtin=gtin, sku=item["sku"], pack_qty=pack_qty))
        self.s.flush()

    def remove_items(self, skus: list[str]) -> None:
        """Forget items the site no longer stocks (and what this device held of them)."""
        if skus:
            self.s.execute(delete(BarcodeRow).where(BarcodeRow.sku.in_(skus)))
            self.s.execute(delete(StockRow).where(StockRow.sku.in_(skus)))
            self.s.execute(delete(SkuRow).where(SkuRow.sku.in_(skus)))

    def put_locations(self, locations: list[dict[str, Any]], site: str) -> None:
        """Add or replace locations of the site's reference data."""
        for loc in locations:
            self.s.merge(LocationRow(site=site, **loc))

    def remove_locations(self, codes: list[str]) -> None:
        if codes:
            self.s.execute(delete(StockRow).where(StockRow.location.in_(codes)))
            self.s.execute(delete(LocationRow).where(LocationRow.code.in_(codes)))

    def put_cartons(self, cartons: list[dict[str, Any]]) -> None:
        for carton in cartons:
            self.s.merge(CartonRow(**carton))

    def remove_cartons(self, codes: list[str]) -> None:
        if codes:
            self.s.execute(delete(CartonRow).where(CartonRow.code.in_(codes)))

    def counts(self) -> dict[str, int]:
        return {
            "skus": self.s.scalar(select(func.count()).select_from(SkuRow)) or 0,
            "locations": self.s.scalar(select(func.count()).select_from(LocationRow)) or 0,
            "cartons": self.s.scalar(select(func.count()).select_from(CartonRow)) or 0,
        }


class UserRepository:
    """The cached roster, so login works offline."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, user: User) -> None:
        """Add or replace ``user``; another user holding that badge until now gives it up
        (a badge passed on: that user's own change follows)."""
        self.s.execute(
            update(UserRow)
            .where(UserRow.badge == user.badge)
            .where(UserRow.user_id != user.user_id)
            .values(badge="~" + hashlib.sha256(user.user_id.encode()).hexdigest()[:31])
        )
        self.s.merge(m.user_to_row(user))

    def by_badge(self, badge: str) -> User | None:
        row = self.s.scalar(select(UserRow).where(UserRow.badge == badge))
        return m.user_from_row(row) if row else None

    def get(self, user_id: str) -> User | None:
        row = self.s.get(UserRow, user_id)
        return m.user_from_row(row) if row else None

    def all(self) -> list[User]:
        return [
            m.user_from_row(r) for r in self.s.scalars(select(UserRow).order_by(UserRow.user_id))
        ]


class OrderRepository:
    """Orders and their lines."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, order_id: str) -> Order:
        row = self.s.get(OrderRow, order_id)
        if row is None:
            raise NotFound(
                f"unknown order {order_id}", code="store.unknown_order", params={"order": order_id}
            )
        lines = list(self.s.scalars(select(OrderLineRow).where(OrderLineRow.order_id == order_id)))
        return m.order_from_rows(row, lines)

    def exists(self, order_id: str) -> bool:
        return self.s.get(OrderRow, order_id) is not None

    def save(self, order: Order) -> None:
        """Insert or update the order and its lines."""
        now = time.time()
        row = self.s.get(OrderRow, order.order_id)
        new = row is None
        if row is None:
            row = OrderRow(order_id=order.order_id)
            self.s.add(row)
        m.apply_order(row, order, now)
        if new:
            self.s.flush()  # the header first: lines reference it
        for line in order.lines:
            (self.s.add if new else self.s.merge)(
                OrderLineRow(
                    order_id=order.order_id,
                    line_no=line.line_no,
                    sku=line.sku,
                    qty=line.qty,
                    picked=line.picked,
                    packed=line.packed,
                    short=line.short,
                )
            )

    def by_state(self, *states: OrderState) -> list[str]:
        q = select(OrderRow.order_id).where(OrderRow.state.in_([s.value for s in states]))
        return list(self.s.scalars(q.order_by(OrderRow.priority, OrderRow.order_id)))

    def count_by_state(self) -> dict[str, int]:
        rows = self.s.execute(select(OrderRow.state, func.count()).group_by(OrderRow.state))
        return {state: n for state, n in rows}

    def waiting_by_state(self) -> dict[str, tuple[int, float]]:
        """State -> (orders in it, the oldest ``updated_at`` among them)."""
        rows = self.s.execute(
            select(OrderRow.state, func.count(), func.min(OrderRow.updated_at)).group_by(
                OrderRow.state
            )
        )
        return {state: (int(n), float(oldest)) for state, n, oldest in rows}

    def set_packed(self, order_id: str, line_no: int, packed: int) -> None:
        """Set the packed count of one order line."""
        row = self.s.get(OrderLineRow, (order_id, line_no))
        if row is None:
            raise NotFound(f"order {order_id} has no line {line_no}")
        row.packed = packed


class TaskRepository:
    """Pick tasks with their lines and totes."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, task_id: str) -> PickTask:
        row = self.s.get(PickTaskRow, task_id)
        if row is None:
            raise NotFound(
                f"unknown pick task {task_id}", code="store.unknown_task", params={"task": task_id}
            )
        lines = list(self.s.scalars(select(PickLineRow).where(PickLineRow.task_id == task_id)))
        totes = list(self.s.scalars(select(ToteRow).where(ToteRow.task_id == task_id)))
        return m.task_from_rows(row, lines, totes)

    def save(self, task: PickTask) -> None:
        now = time.time()
        row = self.s.get(PickTaskRow, task.task_id)
        if row is None:
            row = PickTaskRow(task_id=task.task_id)
            self.s.add(row)
        row.batch_id = task.batch_id
        row.zone = task.zone
        row.state = task.state.value
        row.assigned_to = task.assigned_to
        row.version = task.version
        row.updated_at = now
        self.s.flush()  # the header first: lines and totes reference it
        for line in task.lines:
            self.s.merge(m.pick_line_to_row(task.task_id, line))
        self.s.execute(delete(ToteRow).where(ToteRow.task_id == task.task_id))
        for tote in task.totes:
            self.s.add(
                ToteRow(
                    task_id=task.task_id,
                    position=tote.position,
                    tote_id=tote.tote_id,
                    order_id=tote.order_id,
                    destination=tote.destination,
                )
            )

    def save_line(self, task_id: str, line: PickLine) -> None:
        """Write back one changed line (the hot path of picking)."""
        row = self.s.get(PickLineRow, line.line_id)
        if row is None or row.task_id != task_id:
            raise NotFound(f"pick task {task_id} has no line {line.line_id}")
        row.picked = line.picked
        row.short = line.short
        row.short_reason = line.short_reason.value if line.short_reason else None
        row.sequence = line.sequence
        row.put_tote = line.put_tote

    def ids(self, *states: TaskState, assigned_to: str | None = None) -> list[str]:
        q = select(PickTaskRow.task_id)
        if states:
            q = q.where(PickTaskRow.state.in_([s.value for s in states]))
        if assigned_to is not None:
            q = q.where(PickTaskRow.assigned_to == assigned_to)
        return list(self.s.scalars(q.order_by(PickTaskRow.task_id)))

    def add_shortage(self, shortage: Shortage) -> None:
        self.s.add(
            ShortageRow(
                task_id=shortage.task_id,
                line_id=shortage.line_id,
                order_id=shortage.order_id,
                sku=shortage.sku,
                location=shortage.location,
                qty=shortage.qty,
                reason=shortage.reason.value,
                reported_by=shortage.reported_by,
                at=time.time(),
            )
        )

    def save_totes(self, task: PickTask) -> None:
        """Write back the task's totes (the physical codes scanned for its positions)."""
        for tote in task.totes:
            row = self.s.get(ToteRow, (task.task_id, tote.position))
            if row is None:
                raise NotFound(f"pick task {task.task_id} has no tote {tote.position}")
            row.tote_id = tote.tote_id
            row.order_id = tote.order_id
            row.destination = tote.destination

    def shortages(self, order_id: str | None = None) -> list[Shortage]:
        """Shortages reported on this device (of one order, or all), oldest first."""
        q = select(ShortageRow).order_by(ShortageRow.id)
        if order_id is not None:
            q = q.where(ShortageRow.order_id == order_id)
        return [
            Shortage(
                r.order_id,
                r.sku,
                r.location,
                r.qty,
                ShortReason(r.reason),
                r.reported_by,
                r.task_id,
                r.line_id,
            )
            for r in self.s.scalars(q)
        ]

    def task_rows(self, *states: TaskState) -> list[tuple[str, str, str | None, float]]:
        """(task id, state, assigned to, updated at) of the tasks in ``states`` (all: none)."""
        q = select(
            PickTaskRow.task_id, PickTaskRow.state, PickTaskRow.assigned_to, PickTaskRow.updated_at
        )
        if states:
            q = q.where(PickTaskRow.state.in_([s.value for s in states]))
        return [(a, b, c, d) for a, b, c, d in self.s.execute(q.order_by(PickTaskRow.task_id))]


class PackRepository:
    """Pack sessions and label jobs."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def get_session(self, session_id: str) -> PackSession:
        row = self.s.get(PackSessionRow, session_id)
        if row is None:
            raise NotFound(
                f"unknown pack session {session_id}",
                code="store.unknown_session",
                params={"session": session_id},
            )
        return m.pack_from_row(row)

    def save_session(self, ps: PackSession) -> None:
        row = self.s.get(PackSessionRow, ps.session_id)
        if row is None:
            row = PackSessionRow(session_id=ps.session_id, started_at=time.time())
            self.s.add(row)
        row.order_id = ps.order_id
        row.station = ps.station
        row.state = ps.state.value
        row.expected = json.dumps(ps.expected)
        row.verified = json.dumps(ps.verified)
        row.carton = ps.carton
        row.weight_g = ps.weight_g

    def label(self, job_id: str) -> LabelJob | None:
        row = self.s.get(LabelJobRow, job_id)
        return m.label_from_row(row) if row else None

    def save_label(self, job: LabelJob) -> None:
        row = self.s.get(LabelJobRow, job.job_id)
        if row is None:
            row = LabelJobRow(job_id=job.job_id, created_at=time.time())
            self.s.add(row)
        row.order_id = job.order_id
        row.tracking = job.tracking
        row.carrier = job.carrier
        row.state = job.state.value
        row.attempts = job.attempts
        row.last_error = job.last_error
        row.reprint_of = job.reprint_of
        row.reprint_reason = job.reprint_reason

    def labels_for(self, order_id: str) -> list[LabelJob]:
        q = (
            select(LabelJobRow)
            .where(LabelJobRow.order_id == order_id)
            .order_by(LabelJobRow.created_at)
        )
        return [m.label_from_row(r) for r in self.s.scalars(q)]

    def packed_weight(self, order_id: str) -> int | None:
        """The weight the newest weighed pack session of ``order_id`` accepted, if any."""
        q = (
            select(PackSessionRow.weight_g)
            .where(PackSessionRow.order_id == order_id, PackSessionRow.weight_g.is_not(None))
            .order_by(PackSessionRow.started_at.desc())
            .limit(1)
        )
        return self.s.scalar(q)

    def newest_open_session(self, station: str) -> PackSession | None:
        """The newest pack session at ``station`` that is not finished (packed or held)."""
        return self._newest_open(PackSessionRow.station == station)

    def open_session_for(self, order_id: str) -> PackSession | None:
        """The newest pack session of ``order_id`` that is not finished (packed or held)."""
        return self._newest_open(PackSessionRow.order_id == order_id)

    def _newest_open(self, which: ColumnElement[bool]) -> PackSession | None:
        q = (
            select(PackSessionRow)
            .where(which, PackSessionRow.state.not_in(["packed", "held"]))
            .order_by(PackSessionRow.started_at.desc())
            .limit(1)
        )
        row = self.s.scalar(q)
        return m.pack_from_row(row) if row else None

    def order_for_tracking(self, tracking: str) -> str | None:
        """The order whose label (not voided) carries ``tracking``, if this device made it."""
        q = (
            select(LabelJobRow.order_id)
            .where(LabelJobRow.tracking == tracking, LabelJobRow.state != "voided")
            .limit(1)
        )
        return self.s.scalar(q)

    def labels_in(self, *states: str) -> list[LabelJob]:
        """Label jobs in ``states`` (all when none), oldest first."""
        q = select(LabelJobRow).order_by(LabelJobRow.created_at)
        if states:
            q = q.where(LabelJobRow.state.in_(list(states)))
        return [m.label_from_row(r) for r in self.s.scalars(q)]


class ToteRepository:
    """The site's totes as this device knows them (see :class:`SiteTote`)."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, code: str) -> SiteTote | None:
        """The tote ``code``, if it is one of the site's totes this device knows."""
        row = self.s.get(SiteToteRow, code)
        return m.site_tote_from_row(row) if row is not None else None

    def save(self, tote: SiteTote) -> None:
        """Add or change one tote."""
        row = self.s.get(SiteToteRow, tote.code)
        if row is None:
            row = SiteToteRow(code=tote.code)
            self.s.add(row)
        m.site_tote_to_row(tote, row, time.time())

    def add_many(self, totes: list[SiteTote]) -> None:
        """Insert many totes at once (the site's tote list on first load).

        A tote the store already knows keeps its row: the hub's word on it may have
        arrived before the local list was loaded.
        """
        if not totes:
            return
        now = time.time()
        rows = []
        for tote in totes:
            row = SiteToteRow(code=tote.code)
            m.site_tote_to_row(tote, row, now)
            rows.append(_row_dict(row))
        self.s.execute(
            sqlite_insert(SiteToteRow).on_conflict_do_nothing(index_elements=["code"]), rows
        )

    def all(self) -> dict[str, SiteTote]:
        """Every tote this device knows, by code."""
        return {r.code: m.site_tote_from_row(r) for r in self.s.scalars(select(SiteToteRow))}

    def put_many(self, totes: list[SiteTote]) -> None:
        """Add or change many totes in one statement (the hub's word on them)."""
        if not totes:
            return
        now = time.time()
        rows = []
        for tote in totes:
            row = SiteToteRow(code=tote.code)
            m.site_tote_to_row(tote, row, now)
            rows.append(_row_dict(row))
        upsert = sqlite_insert(SiteToteRow)
        changed = {c: upsert.excluded[c] for c in rows[0] if c != "code"}
        self.s.execute(upsert.on_conflict_do_update(index_elements=["code"], set_=changed), rows)

    def count(self) -> int:
        """How many of the site's totes this device knows (0: none heard of yet)."""
        return int(self.s.scalar(select(func.count()).select_from(SiteToteRow)) or 0)

    def codes(self) -> set[str]:
        """Every tote code this device knows."""
        return set(self.s.scalars(select(SiteToteRow.code)))

    def remove(self, codes: list[str]) -> None:
        """Forget totes that are no longer the site's."""
        for start in range(0, len(codes), 500):
            self.s.execute(
                delete(SiteToteRow).where(SiteToteRow.code.in_(codes[start : start + 500]))
            )

    def on_cart(self, cart: str) -> list[SiteTote]:
        """The totes standing on ``cart``, in cart order."""
        q = select(SiteToteRow).where(SiteToteRow.cart == cart).order_by(SiteToteRow.cart_position)
        return [m.site_tote_from_row(r) for r in self.s.scalars(q)]

    def holding(self, order_id: str) -> list[SiteTote]:
        """The totes holding (or being filled with) ``order_id``'s goods."""
        q = (
            select(SiteToteRow)
            .where(SiteToteRow.order_id == order_id)
            .where(SiteToteRow.state != ToteState.FREE.value)
            .order_by(SiteToteRow.code)
        )
        return [m.site_tote_from_row(r) for r in self.s.scalars(q)]

    def in_state(
        self, state: ToteState, *, limit: int = 100, loose: bool = False
    ) -> list[SiteTote]:
        """Totes in ``state`` by code (``loose``: only those on no cart)."""
        q = select(SiteToteRow).where(SiteToteRow.state == state.value)
        if loose:
            q = q.where(SiteToteRow.cart == "")
        q = q.order_by(SiteToteRow.code).limit(limit)
        return [m.site_tote_from_row(r) for r in self.s.scalars(q)]

    def carts(self) -> dict[str, list[SiteTote]]:
        """Every cart with its totes, in cart order."""
        q = (
            select(SiteToteRow)
            .where(SiteToteRow.cart != "")
            .order_by(SiteToteRow.cart, SiteToteRow.cart_position)
        )
        out: dict[str, list[SiteTote]] = {}
        for row in self.s.scalars(q):
            out.setdefault(row.cart, []).append(m.site_tote_from_row(row))
        return out


class StockTaskRepository:
    """Stock tasks leased to this device (replenish, put-away, count)."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, task_id: str) -> StockTask:
        row = self.s.get(StockTaskRow, task_id)
        if row is None:
            raise NotFound(
                f"unknown stock task {task_id}",
                code="store.unknown_stock_task",
                params={"task": task_id},
            )
        return m.stock_task_from_row(row)

    def find(self, task_id: str) -> StockTask | None:
        row = self.s.get(StockTaskRow, task_id)
        return None if row is None else m.stock_task_from_row(row)

    def save(self, task: StockTask) -> None:
        row = self.s.get(StockTaskRow, task.task_id)
        if row is None:
            row = StockTaskRow(task_id=task.task_id)
            self.s.add(row)
        m.apply_stock_task(row, task, time.time())

    def open(self, *kinds: StockTaskKind) -> list[StockTask]:
        """Open tasks (urgent first, then by id), of ``kinds`` when given."""
        q = select(StockTaskRow).where(
            StockTaskRow.state.in_(
                [StockTaskState.ASSIGNED.value, StockTaskState.IN_PROGRESS.value]
            )
        )
        if kinds:
            q = q.where(StockTaskRow.kind.in_([k.value for k in kinds]))
        rows = self.s.scalars(q.order_by(StockTaskRow.urgent.desc(), StockTaskRow.task_id))
        return [m.stock_task_from_row(r) for r in rows]


class ReceiptRepository:
    """Deliveries to receive on this device: notices the hub pushed, blind receipts."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def find(self, receipt_id: str) -> Receipt | None:
        row = self.s.get(ReceiptRow, receipt_id)
        return None if row is None else Receipt.from_dict(json.loads(row.body))

    def open(self) -> list[Receipt]:
        """Receipts that can still be counted, by reference."""
        rows = self.s.scalars(
            select(ReceiptRow)
            .where(ReceiptRow.state.in_([s.value for s in COUNTABLE]))
            .order_by(ReceiptRow.reference)
        )
        return [Receipt.from_dict(json.loads(r.body)) for r in rows]

    def by_reference(self, reference: str) -> Receipt | None:
        """The open receipt with this reference (case as typed or upper case)."""
        for receipt in self.open():
            if reference in (receipt.reference, receipt.reference.upper()):
                return receipt
        return None

    def by_sscc(self, sscc: str) -> Receipt | None:
        """The open receipt whose notice puts the pallet ``sscc`` on it."""
        return next((r for r in self.open() if r.sscc_lines(sscc)), None)

    def save(self, receipt: Receipt) -> None:
        row = self.s.get(ReceiptRow, receipt.receipt_id)
        if row is None:
            row = ReceiptRow(receipt_id=receipt.receipt_id)
            self.s.add(row)
        row.reference = receipt.reference
        row.state = receipt.state.value
        row.body = json.dumps(receipt.as_dict(), ensure_ascii=False, sort_keys=True)
        row.updated_at = time.time()
