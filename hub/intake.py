"""Order intake: validate an order from upstream and accept it, or reject it with reasons.

An order is accepted when it has every required field with the right types, at least one
line, positive quantities, line numbers used once, only SKUs the site stocks, a complete
ship-to address (:meth:`floor_app.domain.order.Address.missing_fields`) and an order id
not used before. An accepted order is stored as ``validated`` and its status published.

A rejected order is stored in ``rejected_orders`` (counted by ``floor-hub stats``) and
published with its reasons as ``OrderStatus(state="rejected")`` on the order's status topic;
when no usable order id can be read, or the id belongs to an order already accepted, the
rejection goes to the dead-letter topic instead (a rejection must never overwrite the
status of a real order). The same order sent again unchanged (a redelivery) is accepted
once and ignored after that.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import Connection, insert, select

from floor_app.domain.errors import DomainError
from floor_app.domain.order import Order, OrderLine, OrderState
from sync.protocol import OrderIntake, OrderStatus, ProtocolError, TopicError, load_json
from sync.protocol.topics import check_level

from . import dead_letters
from .outbound import Outbound
from .repositories import ORDERS, insert_order, save_orders
from .site_data import known_skus
from .tables import RejectedOrderRow, table_of

REJECTED = table_of(RejectedOrderRow)


@dataclass
class IntakeResult:
    """The outcome for one order: accepted (maybe as an unchanged redelivery) or rejected."""

    order_id: str
    accepted: bool
    reasons: list[str] = field(default_factory=list)
    replay: bool = False


def _where(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts[-1:] = [f"{parts[-1]}[{p}]"] if parts else [f"[{p}]"]
        else:
            parts.append(str(p))
    return ".".join(parts) or "order"


def _reason(err: ErrorDetails) -> str:
    loc = tuple(err["loc"])
    where = _where(loc)
    if loc and loc[-1] == "qty" and err["type"] in ("greater_than", "greater_than_equal"):
        line = loc[1] + 1 if len(loc) > 2 and isinstance(loc[1], int) else "?"
        return f"line {line}: quantity must be positive, got {err.get('input')!r}"
    if err["type"] == "missing":
        return f"{where}: required field is missing"
    if err["type"] == "extra_forbidden":
        return f"{where}: unknown field"
    shown = err.get("input")
    got = (
        f" (got {shown!r})" if isinstance(shown, int | float | str) and len(str(shown)) < 40 else ""
    )
    return f"{where}: {err['msg']}{got}"


def schema_reasons(exc: ValidationError) -> list[str]:
    """Readable reasons from a pydantic validation error (at most 20)."""
    return [_reason(err) for err in exc.errors()[:20]]


def digest(intake: OrderIntake) -> str:
    """A fingerprint of the order's content (to tell a redelivery from a different order)."""
    # an order without a promised date keeps the digest it had before the field existed
    skip = {"promised_date"} if intake.promised_date is None else None
    text = json.dumps(
        intake.model_dump(mode="json", exclude=skip), sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(text.encode()).hexdigest()


def readable_order_id(data: Any) -> str | None:
    """The order id in ``data`` if it can name a status topic, else None."""
    if not isinstance(data, dict):
        return None
    value = data.get("order_id")
    if not isinstance(value, str):
        return None
    try:
        check_level(value, "order id")
    except TopicError:
        return None
    return value if len(value) <= 32 else None


@dataclass(frozen=True, slots=True)
class IntakeLimits:
    """The most one order may ask for (``floor-hub run --max-line-qty`` ...): an order
    beyond them is refused with the reason, so no absurd quantity (a barcode pasted into
    it) ever reaches allocation, cartons or routes."""

    max_lines: int = 500
    max_line_qty: int = 10_000
    max_units: int = 50_000


def check_limits(intake: OrderIntake, limits: IntakeLimits) -> list[str]:
    """Reasons the order asks for more than the site takes in one order."""
    reasons: list[str] = []
    if len(intake.lines) > limits.max_lines:
        reasons.append(
            f"{len(intake.lines)} lines; the site takes at most {limits.max_lines} per order"
        )
    for ln in intake.lines:
        if ln.qty > limits.max_line_qty:
            reasons.append(
                f"line {ln.line_no}: quantity {ln.qty} is more than the site's limit of "
                f"{limits.max_line_qty} per line (a barcode in the quantity?)"
            )
    units = sum(ln.qty for ln in intake.lines)
    if units > limits.max_units:
        reasons.append(f"{units} units; the site takes at most {limits.max_units} per order")
    return reasons


def check_content(
    conn: Connection, intake: OrderIntake, limits: IntakeLimits | None = None
) -> list[str]:
    """Reasons beyond the schema: the site's limits, line numbers, SKUs, address."""
    reasons: list[str] = check_limits(intake, limits or IntakeLimits())
    seen: set[int] = set()
    for ln in intake.lines:
        if ln.line_no in seen:
            reasons.append(f"line {ln.line_no} appears twice")
        seen.add(ln.line_no)
    skus = [ln.sku for ln in intake.lines]
    known = known_skus(conn, skus)
    for sku in dict.fromkeys(skus):
        if sku not in known:
            reasons.append(f"unknown SKU {sku!r}")
    missing = intake.ship_to.to_domain().missing_fields()
    if missing:
        reasons.append(f"ship-to address is incomplete: {', '.join(missing)} missing")
    return reasons


def take_order(
    conn: Connection,
    out: Outbound,
    data: dict[str, Any],
    *,
    source: str,
    now: float | None = None,
    limits: IntakeLimits | None = None,
) -> IntakeResult:
    """Validate ``data`` (an ``OrderIntake`` object) and accept or reject it."""
    now = time.time() if now is None else now
    order_id = readable_order_id(data)
    try:
        intake = OrderIntake.model_validate(data)
    except ValidationError as exc:
        return reject(conn, out, order_id, schema_reasons(exc), source=source, data=data, now=now)
    reasons = check_content(conn, intake, limits)
    existing = conn.execute(
        select(ORDERS.c.intake_digest).where(ORDERS.c.order_id == intake.order_id)
    ).first()
    fingerprint = digest(intake)
    if existing is not None:
        if existing[0] == fingerprint:
            return IntakeResult(intake.order_id, accepted=True, replay=True)
        reasons.insert(0, f"order id {intake.order_id} is already used by another order")
        return reject(
            conn, out, intake.order_id, reasons, source=source, data=data, now=now, taken=True
        )
    if reasons:
        return reject(conn, out, intake.order_id, reasons, source=source, data=data, now=now)
    try:
        order = Order(
            order_id=intake.order_id,
            lines=[OrderLine(ln.line_no, ln.sku, ln.qty) for ln in intake.lines],
            ship_to=intake.ship_to.to_domain(),
            priority=intake.priority,
            carrier=intake.carrier,
            service=intake.service,
            channel=intake.channel,
            promised_date=intake.promised_date.isoformat() if intake.promised_date else "",
        )
        order.transition(OrderState.VALIDATED, f"accepted from {source}")
    except DomainError as exc:
        return reject(conn, out, intake.order_id, [exc.reason], source=source, data=data, now=now)
    rec = insert_order(conn, order, now=now, source=source, digest=fingerprint)
    rec.change_source = source
    rec.history_from = 0  # store the received -> validated step in the history
    save_orders(conn, [rec], now=now)
    out.order_status(
        OrderStatus(
            order_id=order.order_id,
            state=order.state,
            version=order.version,
            reason=f"accepted from {source}",
        )
    )
    return IntakeResult(order.order_id, accepted=True)


def reject(
    conn: Connection,
    out: Outbound,
    order_id: str | None,
    reasons: list[str],
    *,
    source: str,
    data: Any,
    now: float,
    taken: bool = False,
) -> IntakeResult:
    """Record and publish a rejection (status topic when the id is usable, else dlq)."""
    excerpt = json.dumps(data, ensure_ascii=False, default=str)[:2048]
    conn.execute(
        insert(REJECTED).values(
            order_id=(order_id or "")[:64],
            reasons=json.dumps(reasons, ensure_ascii=False),
            source=source[:64],
            excerpt=excerpt,
            at=now,
        )
    )
    if order_id is not None and not taken:
        out.order_status(
            OrderStatus(
                order_id=order_id,
                state="rejected",
                version=0,
                reason=reasons[0][:500] if reasons else "rejected",
                reasons=reasons,
            )
        )
    else:
        code = dead_letters.DUPLICATE_ORDER if taken else dead_letters.INTAKE_REJECTED
        dead_letters.record(
            conn,
            out,
            dead_letters.letter(out.topics.orders_in, excerpt.encode(), code, "; ".join(reasons)),
            now,
        )
    return IntakeResult(order_id or "", accepted=False, reasons=reasons)


def take_raw(
    conn: Connection,
    out: Outbound,
    raw: bytes,
    *,
    source: str,
    now: float | None = None,
    limits: IntakeLimits | None = None,
) -> IntakeResult:
    """Take an order as received on ``orders/in``: size, JSON and version first."""
    now = time.time() if now is None else now
    try:
        data = load_json(raw)
    except ProtocolError as exc:
        dead_letters.record(
            conn,
            out,
            dead_letters.letter(out.topics.orders_in, raw, exc.code, exc.reason),
            now,
        )
        conn.execute(
            insert(REJECTED).values(
                order_id="",
                reasons=json.dumps([f"{exc.code}: {exc.reason}"]),
                source=source[:64],
                excerpt=raw[:2048].decode("utf-8", errors="replace"),
                at=now,
            )
        )
        return IntakeResult("", accepted=False, reasons=[f"{exc.code}: {exc.reason}"])
    return take_order(conn, out, data, source=source, now=now, limits=limits)
