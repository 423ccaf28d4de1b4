"""Order claims: ``order.held``, ``order.released`` and ``order.short_approved``.

Each is refused (:func:`hub.rules.order_claim_refusal`) for an unknown or finished order, an
order in the wrong state, or a version older than the hub's last change of its own;
granted, the order moves through the domain's state machine (:class:`Order`).
"""

from __future__ import annotations

from floor_app.domain.events import HoldReleased, OrderHeld, ShortApproved
from floor_app.domain.order import OrderState

from ..repositories import OrderRecord
from ..rules import order_claim_refusal
from .batch import Batch, Handlers, Outcome


def order_claim(
    batch: Batch,
    order_id: str,
    version: int,
    *,
    required: OrderState | None = None,
    forbidden: tuple[OrderState, ...] = (),
) -> OrderRecord | Outcome:
    """The claimed order when the claim is granted, else the claim's refusal."""
    rec = batch.orders.get(order_id)
    refusal = order_claim_refusal(
        order_id=order_id,
        order=rec.order if rec else None,
        claim_version=version,
        external_version=rec.external_version if rec else 0,
        required=required,
        forbidden=forbidden,
    )
    if refusal is not None or rec is None:
        return Outcome.refused(
            refusal or f"order {order_id} is not known to the hub",
            current_version=rec.order.version if rec else None,
            code="hub.unknown_order",
            params={"order": order_id},
        )
    return rec


class Orders(Handlers):
    """A supervisor's holds, releases and approved shortages."""

    def held(self, ev: OrderHeld) -> Outcome:
        b = self.batch
        rec = order_claim(b, ev.order, ev.order_version, forbidden=(OrderState.HELD,))
        if isinstance(rec, Outcome):
            return rec
        rec.change_source = b.device_id
        rec.order.hold(ev.reason or f"held by {ev.user}")
        b.status_reason[rec.order_id] = f"held by {ev.user}: {ev.reason}"
        return Outcome.applied()

    def released(self, ev: HoldReleased) -> Outcome:
        b = self.batch
        rec = order_claim(b, ev.order, ev.order_version, required=OrderState.HELD)
        if isinstance(rec, Outcome):
            return rec
        rec.change_source = b.device_id
        rec.order.release()
        b.status_reason[rec.order_id] = f"released by {ev.user}"
        if rec.order.state is OrderState.PICKED:
            b.reached_picked.add(rec.order_id)
        return Outcome.applied()

    def short_approved(self, ev: ShortApproved) -> Outcome:
        b = self.batch
        rec = order_claim(b, ev.order, ev.order_version, required=OrderState.SHORT)
        if isinstance(rec, Outcome):
            return rec
        if any(ln.open_to_pick > 0 for ln in rec.order.lines):
            return Outcome.refused(
                f"order {ev.order} still has units to pick; wait until its tasks are done",
                current_version=rec.order.version,
                code="hub.order_lines_open",
                params={"order": ev.order},
            )
        rec.change_source = b.device_id
        rec.order.transition(OrderState.PICKED, f"short approved by {ev.user}")
        b.status_reason[rec.order_id] = f"short approved by {ev.user}"
        b.reached_picked.add(rec.order_id)
        return Outcome.applied()
