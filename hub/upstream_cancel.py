"""Cancellations from upstream on ``floor/v1/{site}/orders/cancel`` (``OrderCancel``).

A valid cancellation of an order the floor has not labelled yet goes through
:func:`hub.cancellation.cancel_order` (the same path as ``floor-hub cancel``: reserved
units released, picked units put away, devices told, the order's status published). Every
cancellation gets one :class:`~sync.protocol.CancelResult` on ``orders/cancel/result``:

* ``cancelled``: done in this transaction;
* ``already_cancelled``: the order was cancelled before (a redelivery or a repeat): nothing
  changes and nothing is counted as bad;
* ``rejected``: nothing changes; the reason is in the result, and the message is
  dead-lettered (``dlq``, counted by ``floor-hub stats``) with the protocol's code for a
  message that cannot be read (``too_large``, ``malformed_json``, ``unsupported_version``,
  ``invalid``) or ``cancel_rejected`` for an order that is unknown, labelled (its parcel
  is ready to go: stop it at the dock) or shipped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import Connection

from floor_app.domain.order import OrderState
from sync.protocol import CancelResult, OrderCancel, ProtocolError, load_json

from . import dead_letters
from .cancellation import cancel_order
from .errors import HubError
from .intake import readable_order_id, schema_reasons
from .outbound import Outbound
from .repositories import load_orders

#: Orders in these states are not cancelled from upstream: the parcel is labelled or gone.
TOO_LATE = (OrderState.LABELLED, OrderState.SHIPPED)


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """What one upstream cancellation did (``result.outcome``) and its dead-letter code."""

    result: CancelResult
    code: str = ""


def take_cancel(
    conn: Connection, out: Outbound, raw: bytes, *, now: float | None = None
) -> CancelOutcome:
    """Handle one ``orders/cancel`` message in the caller's transaction."""
    now = time.time() if now is None else now
    try:
        data = load_json(raw)
    except ProtocolError as exc:
        return _reject(out, conn, raw, exc.code, exc.reason, "", "", now)
    order_id = readable_order_id(data) or ""
    request_id = data.get("request_id") if isinstance(data.get("request_id"), str) else ""
    request_id = str(request_id)[:64]
    try:
        cancel = OrderCancel.model_validate(data)
    except ValidationError as exc:
        reason = "; ".join(schema_reasons(exc))
        return _reject(out, conn, raw, "invalid", reason, order_id, request_id, now)
    rec = load_orders(conn, [cancel.order_id], lock=True).get(cancel.order_id)
    refusal = None
    if rec is None:
        refusal = f"order {cancel.order_id} is not known to the hub"
    elif rec.order.state is OrderState.CANCELLED:
        result = CancelResult(
            order_id=cancel.order_id,
            request_id=cancel.request_id,
            outcome="already_cancelled",
            reason=f"order {cancel.order_id} was already cancelled; nothing changed",
            state=rec.order.state,
        )
        _publish(out, result)
        return CancelOutcome(result)
    elif rec.order.state in TOO_LATE:
        tracking = f" (tracking {rec.tracking})" if rec.tracking else ""
        refusal = (
            f"order {cancel.order_id} is {rec.order.state.value}{tracking}: its parcel is "
            "ready to go and is not cancelled from upstream; stop it at the dock"
        )
    if refusal is None:
        who = f" by {cancel.requested_by}" if cancel.requested_by else ""
        try:
            summary = cancel_order(
                conn, out, cancel.order_id, f"{cancel.reason} (upstream{who})", now=now
            )
        except HubError as exc:
            refusal = exc.reason
        else:
            result = CancelResult(
                order_id=cancel.order_id,
                request_id=cancel.request_id,
                outcome="cancelled",
                reason=(
                    f"{summary['released_units']} units released, "
                    f"{_count(summary['putaway_tasks'])} put-away tasks, "
                    f"{_count(summary['cancelled_tasks'])} pick tasks cancelled"
                ),
                state=OrderState.CANCELLED,
            )
            _publish(out, result)
            return CancelOutcome(result)
    return _reject(
        out,
        conn,
        raw,
        dead_letters.CANCEL_REJECTED,
        refusal,
        cancel.order_id,
        cancel.request_id,
        now,
        state=rec.order.state if rec else None,
    )


def _count(items: object) -> int:
    return len(items) if isinstance(items, list) else 0


def _publish(out: Outbound, result: CancelResult) -> None:
    out.publish(out.topics.cancel_result, result)


def _reject(
    out: Outbound,
    conn: Connection,
    raw: bytes,
    code: str,
    reason: str,
    order_id: str,
    request_id: str,
    now: float,
    *,
    state: OrderState | None = None,
) -> CancelOutcome:
    dead_letters.record(
        conn, out, dead_letters.letter(out.topics.orders_cancel, raw, code, reason), now
    )
    result = CancelResult(
        order_id=order_id[:64],
        request_id=request_id,
        outcome="rejected",
        reason=reason[:1000],
        state=state,
    )
    _publish(out, result)
    return CancelOutcome(result, code)
