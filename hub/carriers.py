"""Carrier choice on the hub: each order gets its carrier service when it is allocated.

When the site has carrier rules (``floor-hub carriers FILE``; ``--demo`` loads the demo
site's), allocation gives every validated order without a choice its service before it
reserves stock (:func:`choose_for_order`): the parcel is estimated from the SKUs' weights
and dimensions and the smallest carton they fit (:func:`floor_app.domain.carriers.
estimate_parcel`), and :func:`floor_app.domain.carriers.choose_carrier` picks the cheapest
service that fits and arrives by the promised date. A service given with the order is kept.

An order no service can take (no zone for its destination, no rate for the zone, a parcel
too heavy or too big) is never given a default: it is held with the reason and what to
change in the rules, so a supervisor sees it; ``floor-hub stats`` counts it. Releasing the
hold brings it back to ``validated`` and the next pass chooses again with the rules then
loaded. Every choice, the hub's and a packer's change (``order.carrier_changed``), is a row
of ``carrier_choices``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, case, func, insert, select

from floor_app.domain.carriers import (
    CarrierChoice,
    CarrierRules,
    NoCarrierService,
    Shipment,
    changed_choice,
    choose_carrier,
    estimate_parcel,
    given_choice,
)
from floor_app.domain.errors import Reason
from floor_app.domain.order import OrderState
from floor_app.domain.packing import Carton
from floor_app.domain.sku import Dimensions, Sku

from .carrier_rules import stored_rules
from .repositories import ORDERS, OrderRecord
from .tables import CarrierChoiceRow, CartonRow, SkuRow, table_of

CHOICES = table_of(CarrierChoiceRow)
CARTONS = table_of(CartonRow)
SKUS = table_of(SkuRow)

#: Hold reasons of orders no carrier service can take start with this.
NO_SERVICE = "no carrier service"


@dataclass(frozen=True, slots=True)
class CarrierContext:
    """What one allocation pass chooses with: the rules and the site's cartons."""

    rules: CarrierRules
    cartons: tuple[Carton, ...]


def load_context(conn: Connection) -> CarrierContext | None:
    """The rules and cartons, or None when the site has no carrier rules."""
    rules = stored_rules(conn)
    if rules is None:
        return None
    cartons = tuple(
        Carton(
            r.code,
            Dimensions(r.length_mm, r.width_mm, r.height_mm),
            r.tare_g,
            r.max_weight_g,
            r.cost,
        )
        for r in conn.execute(select(CARTONS).order_by(CARTONS.c.code))
    )
    return CarrierContext(rules, cartons)


def _skus(conn: Connection, codes: Sequence[str]) -> dict[str, Sku]:
    out: dict[str, Sku] = {}
    for r in conn.execute(select(SKUS).where(SKUS.c.sku.in_(sorted(set(codes))))):
        dims = (
            Dimensions(r.length_mm, r.width_mm, r.height_mm)
            if r.length_mm and r.width_mm and r.height_mm
            else None
        )
        out[r.sku] = Sku(r.sku, r.gtin, r.description, dims, r.weight_g)
    return out


def shipment_of(conn: Connection, rec: OrderRecord, ctx: CarrierContext, now: float) -> Shipment:
    """The shipment an order will make, leaving on the day of ``now``."""
    order = rec.order
    skus = _skus(conn, [ln.sku for ln in order.lines])
    items = [(skus[ln.sku], ln.qty - ln.short) for ln in order.lines if ln.sku in skus]
    weight, dims = estimate_parcel([(s, q) for s, q in items if q > 0], ctx.cartons)
    promised = date.fromisoformat(order.promised_date) if order.promised_date else None
    return Shipment(
        weight,
        dims,
        order.ship_to.country,
        order.ship_to.postcode,
        date.fromtimestamp(now),
        promised,
    )


def record_choice(
    conn: Connection, order_id: str, choice: CarrierChoice, *, now: float, reason: str = ""
) -> None:
    """A row of ``carrier_choices`` for ``choice``."""
    short = choice.rule.split(" for ", 1)[0] if choice.chosen_by == "hub" else "changed"
    conn.execute(
        insert(CHOICES).values(
            order_id=order_id,
            carrier=choice.carrier[:32],
            service=choice.service[:32],
            cost=choice.cost,
            rule=short[:64],
            chosen_by=choice.chosen_by[:64],
            reason=reason or choice.rule,
            at=now,
        )
    )


def choose_for_order(
    conn: Connection, rec: OrderRecord, ctx: CarrierContext, now: float
) -> str | None:
    """Give a validated order its carrier service; the hold reason when none can take it.

    The caller saves the record (and publishes its status when it was held).
    """
    order = rec.order
    shipment = shipment_of(conn, rec, ctx, now)
    if order.carrier and order.service:
        choice = given_choice(ctx.rules, shipment, order.carrier, order.service)
    else:
        try:
            choice = choose_carrier(ctx.rules, shipment)
        except NoCarrierService as exc:
            reason = f"{exc.reason}: {exc.hint}" if exc.hint else exc.reason
            rec.change_source = "allocation"
            order.hold(reason)
            rec.external_version = order.version
            return reason
    order.set_carrier(choice)
    record_choice(conn, order.order_id, choice, now=now)
    return None


def change_carrier(
    conn: Connection,
    rec: OrderRecord,
    carrier: str,
    service: str,
    *,
    user: str,
    reason: str,
    now: float,
) -> Reason | None:
    """A user's change of an order's carrier service (``order.carrier_changed``): applied
    and recorded, or the reason it is refused (an empty reason; a service the site's rules
    do not have). The packer saw the parcel: a service the hub's estimate did not think fits
    is accepted."""
    if not reason.strip():
        return Reason("a carrier change needs a reason", "carrier.reason_needed")
    rules = stored_rules(conn)
    if rules is not None and rules.service(carrier, service) is None:
        known = ", ".join(s.name for s in rules.services)
        return Reason(
            f"{carrier} {service} is not a carrier service of this site (known: {known})",
            "carrier.unknown_service",
            {"carrier": carrier, "service": service, "known": known},
        )
    choice = changed_choice(
        rec.order.carrier_choice, carrier, service, user=user, reason=reason, check_fit=False
    )
    rec.order.set_carrier(choice)
    record_choice(conn, rec.order_id, choice, now=now, reason=reason.strip())
    return None


def held_without_service(conn: Connection) -> int:
    """Orders held because no carrier service can take them (for ``floor-hub stats``)."""
    return int(
        conn.execute(
            select(func.count())
            .select_from(ORDERS)
            .where(ORDERS.c.state == OrderState.HELD.value)
            .where(ORDERS.c.hold_reason.startswith(NO_SERVICE))
        ).scalar_one()
    )


def choice_counts(conn: Connection) -> dict[str, int]:
    """Carrier choices recorded: by the hub, and changed by users."""
    hub = func.sum(case((CHOICES.c.chosen_by == "hub", 1), else_=0))
    row = conn.execute(select(func.count(), hub).select_from(CHOICES)).one()
    total, by_hub = int(row[0] or 0), int(row[1] or 0)
    return {"chosen_by_hub": by_hub, "changed_by_users": total - by_hub}
