"""Mapping between table rows and domain objects (the domain never sees SQLAlchemy)."""

from __future__ import annotations

import json

from floor_app.domain.carriers import CarrierChoice
from floor_app.domain.location import Location, LocationKind, Side
from floor_app.domain.order import Address, Order, OrderLine, OrderState, TracedUnits
from floor_app.domain.packing import Carton, LabelJob, LabelState, PackSession, PackState
from floor_app.domain.picking import PickLine, PickTask, ShortReason, TaskState, Tote
from floor_app.domain.sku import Dimensions, Sku
from floor_app.domain.stockwork import StockTask
from floor_app.domain.totes import SiteTote, ToteState
from floor_app.domain.users import Role, User

from .tables import (
    CartonRow,
    LabelJobRow,
    LocationRow,
    OrderLineRow,
    OrderRow,
    PackSessionRow,
    PickLineRow,
    PickTaskRow,
    SiteToteRow,
    SkuRow,
    StockTaskRow,
    ToteRow,
    UserRow,
)


def sku_from_row(row: SkuRow, extra_gtins: tuple[str, ...] = ()) -> Sku:
    dims = (
        Dimensions(row.length_mm, row.width_mm, row.height_mm)
        if row.length_mm and row.width_mm and row.height_mm
        else None
    )
    return Sku(
        row.sku, row.gtin, row.description, dims, row.weight_g, row.description_zh, extra_gtins
    )


def sku_to_row(sku: Sku) -> SkuRow:
    d = sku.dimensions
    return SkuRow(
        sku=sku.sku,
        gtin=sku.gtin,
        description=sku.description,
        description_zh=sku.description_zh,
        length_mm=d.length_mm if d else None,
        width_mm=d.width_mm if d else None,
        height_mm=d.height_mm if d else None,
        weight_g=sku.weight_g,
    )


def location_from_row(row: LocationRow) -> Location:
    return Location(
        row.code,
        row.site,
        row.zone,
        row.aisle,
        row.bay,
        row.level,
        row.bin,
        row.x,
        row.y,
        LocationKind(row.kind),
        Side(row.side),
    )


def location_to_row(loc: Location) -> LocationRow:
    return LocationRow(
        code=loc.code,
        site=loc.site,
        zone=loc.zone,
        aisle=loc.aisle,
        bay=loc.bay,
        level=loc.level,
        bin=loc.bin,
        x=loc.x,
        y=loc.y,
        kind=loc.kind.value,
        side=loc.side.value,
    )


def user_from_row(row: UserRow) -> User:
    roles = frozenset(Role(r) for r in row.roles.split(",") if r)
    return User(row.user_id, row.name, row.badge, roles, row.pin_hash, row.active, row.language)


def user_to_row(user: User) -> UserRow:
    return UserRow(
        user_id=user.user_id,
        name=user.name,
        badge=user.badge,
        roles=",".join(sorted(r.value for r in user.roles)),
        pin_hash=user.pin_hash,
        active=user.active,
        language=user.language,
    )


def carton_from_row(row: CartonRow) -> Carton:
    return Carton(
        row.code,
        Dimensions(row.length_mm, row.width_mm, row.height_mm),
        row.tare_g,
        row.max_weight_g,
        row.cost,
    )


def carton_to_row(c: Carton) -> CartonRow:
    return CartonRow(
        code=c.code,
        length_mm=c.inner.length_mm,
        width_mm=c.inner.width_mm,
        height_mm=c.inner.height_mm,
        tare_g=c.tare_g,
        max_weight_g=c.max_weight_g,
        cost=c.cost,
    )


def address_to_json(a: Address) -> str:
    return json.dumps(
        {
            "name": a.name,
            "lines": list(a.lines),
            "city": a.city,
            "postcode": a.postcode,
            "country": a.country,
            "phone": a.phone,
            "region": a.region,
        },
        ensure_ascii=False,
    )


def address_from_json(text: str) -> Address:
    d = json.loads(text)
    return Address(
        d["name"],
        tuple(d["lines"]),
        d["city"],
        d["postcode"],
        d["country"],
        d.get("phone", ""),
        d.get("region", ""),
    )


def order_from_rows(row: OrderRow, lines: list[OrderLineRow]) -> Order:
    return Order(
        order_id=row.order_id,
        lines=[
            OrderLine(ln.line_no, ln.sku, ln.qty, ln.picked, ln.packed, ln.short)
            for ln in sorted(lines, key=lambda r: r.line_no)
        ],
        ship_to=address_from_json(row.ship_to),
        priority=row.priority,
        carrier=row.carrier,
        service=row.service,
        state=OrderState(row.state),
        version=row.version,
        held_from=OrderState(row.held_from) if row.held_from else None,
        hold_reason=row.hold_reason,
        channel=row.channel,
        promised_date=row.promised_date,
        carrier_choice=CarrierChoice.from_dict(json.loads(row.carrier_choice))
        if row.carrier_choice
        else None,
        traced=[TracedUnits(**t) for t in json.loads(row.traced)] if row.traced else [],
    )


def apply_order(row: OrderRow, order: Order, now: float) -> None:
    row.state = order.state.value
    row.version = order.version
    row.priority = order.priority
    row.carrier = order.carrier
    row.service = order.service
    row.channel = order.channel
    row.promised_date = order.promised_date
    choice = order.carrier_choice
    row.carrier_choice = json.dumps(choice.to_dict(), ensure_ascii=False) if choice else ""
    traced = [
        {"line_no": t.line_no, "lot": t.lot, "serial": t.serial, "qty": t.qty} for t in order.traced
    ]
    row.traced = json.dumps(traced, ensure_ascii=False) if traced else ""
    row.ship_to = address_to_json(order.ship_to)
    row.held_from = order.held_from.value if order.held_from else None
    row.hold_reason = order.hold_reason
    row.updated_at = now


def task_from_rows(row: PickTaskRow, lines: list[PickLineRow], totes: list[ToteRow]) -> PickTask:
    return PickTask(
        task_id=row.task_id,
        lines=[
            PickLine(
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
                short_reason=ShortReason(ln.short_reason) if ln.short_reason else None,
                put_tote=ln.put_tote,
                lot_tracked=ln.lot_tracked,
                lot=ln.lot,
                expiry=ln.expiry,
                serial_tracked=ln.serial_tracked,
            )
            for ln in lines
        ],
        batch_id=row.batch_id,
        zone=row.zone,
        state=TaskState(row.state),
        assigned_to=row.assigned_to,
        version=row.version,
        totes=[
            Tote(t.tote_id, t.position, t.order_id, t.destination)
            for t in sorted(totes, key=lambda t: t.position)
        ],
    )


def pick_line_to_row(task_id: str, ln: PickLine) -> PickLineRow:
    return PickLineRow(
        line_id=ln.line_id,
        task_id=task_id,
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
        short_reason=ln.short_reason.value if ln.short_reason else None,
        put_tote=ln.put_tote,
        lot_tracked=ln.lot_tracked,
        lot=ln.lot,
        expiry=ln.expiry,
        serial_tracked=ln.serial_tracked,
    )


def site_tote_from_row(row: SiteToteRow) -> SiteTote:
    return SiteTote(
        code=row.code,
        state=ToteState(row.state),
        order_id=row.order_id,
        task_id=row.task_id,
        destination=row.destination,
        cart=row.cart,
        cart_position=row.cart_position,
    )


def site_tote_to_row(tote: SiteTote, row: SiteToteRow, now: float) -> None:
    row.state = tote.state.value
    row.order_id = tote.order_id
    row.task_id = tote.task_id
    row.destination = tote.destination
    row.cart = tote.cart
    row.cart_position = tote.cart_position
    row.updated_at = now


def pack_from_row(row: PackSessionRow) -> PackSession:
    return PackSession(
        session_id=row.session_id,
        order_id=row.order_id,
        station=row.station,
        expected=json.loads(row.expected),
        verified=json.loads(row.verified),
        carton=row.carton,
        weight_g=row.weight_g,
        state=PackState(row.state),
    )


def label_from_row(row: LabelJobRow) -> LabelJob:
    return LabelJob(
        job_id=row.job_id,
        order_id=row.order_id,
        tracking=row.tracking,
        carrier=row.carrier,
        state=LabelState(row.state),
        attempts=row.attempts,
        last_error=row.last_error,
        reprint_of=row.reprint_of,
        reprint_reason=row.reprint_reason,
        created_at=row.created_at,
    )


def stock_task_from_row(row: StockTaskRow) -> StockTask:
    return StockTask.from_record(row)


def apply_stock_task(row: StockTaskRow, t: StockTask, now: float) -> None:
    row.kind = t.kind.value
    row.state = t.state.value
    row.sku = t.sku
    row.gtin = t.gtin
    row.from_location = t.from_location
    row.to_location = t.to_location
    row.qty = t.qty
    row.moved = t.moved
    row.lot = t.lot
    row.expiry = t.expiry
    row.urgent = t.urgent
    row.reason = t.reason
    row.assigned_to = t.assigned_to
    row.attempt = t.attempt
    row.not_user = t.not_user
    row.description = t.description
    row.version = t.version
    row.updated_at = now
