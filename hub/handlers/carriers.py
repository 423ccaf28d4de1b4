"""Carrier changes: ``order.carrier_changed``, a packer's claim on an order's service.

Refused like the other order claims (:mod:`hub.handlers.orders`), and for an empty reason or
a service the site's rules do not have (:func:`hub.carriers.change_carrier`); the device is
then sent the order's snapshot, so it shows the hub's service again.
"""

from __future__ import annotations

from floor_app.domain.events import CarrierChanged
from sync.protocol import OrderModel, OrderSnapshot

from ..carriers import change_carrier
from .batch import Handlers, Outcome
from .orders import order_claim


class Carriers(Handlers):
    """A user's change of an order's carrier service."""

    def changed(self, ev: CarrierChanged) -> Outcome:
        b = self.batch
        claim = order_claim(b, ev.order, ev.order_version)
        if isinstance(claim, Outcome):
            refused = claim
        else:
            refusal = change_carrier(
                b.conn, claim, ev.carrier, ev.service, user=ev.user, reason=ev.reason, now=b.now
            )
            if refusal is None:
                claim.change_source = b.device_id
                b.status_reason[claim.order_id] = (
                    f"carrier {ev.carrier} {ev.service} chosen by {ev.user}: {ev.reason}"
                )
                return Outcome.applied()
            refused = Outcome.refused(refusal, current_version=claim.order.version)
        rec = b.orders.get(ev.order)
        if rec is not None:  # the device goes back to the hub's choice
            b.out.push(b.device_id, OrderSnapshot(order=OrderModel.from_domain(rec.order)))
        return refused
