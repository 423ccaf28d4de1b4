"""Cancellations from upstream on ``orders/cancel``: applied through the cancellation path
with a result and the order's status published; a repeat changes nothing; bad input
(unreadable, invalid, unknown order, labelled or shipped order) changes nothing, is answered
with the reason, dead-lettered and counted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hub_builders import SITE, apply, envelope, order_row, pick, reservation_problems, start_task
from sqlalchemy import Engine, select, update

from hub import Receiver, allocate, hub_stats, run_transaction
from hub.receiver import Handled
from hub.tables import OrderRow, ReservationRow, table_of
from sync.protocol import Topics

pytestmark = pytest.mark.integration

TOPICS = Topics(SITE)
ORDERS = table_of(OrderRow)
RESERVATIONS = table_of(ReservationRow)


def cancel(receiver: Receiver, payload: Any) -> Handled:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return receiver.handle(TOPICS.orders_cancel, raw)


def results(handled: Handled) -> list[dict[str, Any]]:
    return [json.loads(m.payload) for m in handled.messages if m.topic == TOPICS.cancel_result]


def dead(handled: Handled) -> list[dict[str, Any]]:
    return [json.loads(m.payload) for m in handled.messages if m.topic == TOPICS.dlq]


def statuses(handled: Handled) -> list[dict[str, Any]]:
    return [
        json.loads(m.payload)
        for m in handled.messages
        if m.topic.startswith(f"{TOPICS.base}/orders/") and m.topic.endswith("/status")
    ]


def stats(engine: Engine) -> dict[str, Any]:
    return run_transaction(engine, hub_stats)


def test_an_upstream_cancel_releases_the_order_and_answers(demo_engine: Engine) -> None:
    allocate(demo_engine, SITE)
    receiver = Receiver(demo_engine, SITE)
    handled = cancel(
        receiver,
        {
            "v": 1,
            "order_id": "SO-100004",
            "reason": "customer called",
            "request_id": "rq-1",
            "requested_by": "shop",
        },
    )
    assert [
        (r["order_id"], r["request_id"], r["outcome"], r["state"]) for r in results(handled)
    ] == [("SO-100004", "rq-1", "cancelled", "cancelled")]
    assert [s["state"] for s in statuses(handled)] == ["cancelled"]
    assert "customer called (upstream by shop)" in statuses(handled)[0]["reason"]
    assert dead(handled) == []
    assert order_row(demo_engine, "SO-100004").state == "cancelled"
    with demo_engine.connect() as conn:
        held = conn.execute(
            select(RESERVATIONS).where(RESERVATIONS.c.order_id == "SO-100004")
        ).all()
    assert held == []
    assert reservation_problems(demo_engine) == []
    again = cancel(receiver, {"v": 1, "order_id": "SO-100004", "reason": "customer called"})
    assert [r["outcome"] for r in results(again)] == ["already_cancelled"]
    assert dead(again) == [] and statuses(again) == []
    assert stats(demo_engine)["dead_letters"] == 0


def test_an_upstream_cancel_of_an_order_being_picked_tells_the_picker(demo_engine: Engine) -> None:
    device, task, lines, seq = start_task(demo_engine, "SO-100003")
    line = lines[0]
    picked = pick(
        "SO-100003", line.sku, task=task.task_id, line=line.line_id, qty=1, location=line.location
    )
    apply(demo_engine, device, [envelope(device, seq, picked)])
    handled = cancel(
        Receiver(demo_engine, SITE), {"v": 1, "order_id": "SO-100003", "reason": "fraud"}
    )
    result = results(handled)[0]
    assert result["outcome"] == "cancelled"
    assert "1 put-away tasks" in result["reason"]
    told = [
        json.loads(m.payload)["item"]["kind"]
        for m in handled.messages
        if m.topic == TOPICS.push(device)
    ]
    assert "order.cancelled" in told
    assert reservation_problems(demo_engine) == []


def _set_state(engine: Engine, order_id: str, state: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(ORDERS).where(ORDERS.c.order_id == order_id).values(state=state))


BAD = [
    ("malformed", b"{not json", "malformed_json", "not valid JSON", ""),
    (
        "wrong version",
        {"v": 2, "order_id": "SO-100005", "reason": "x"},
        "unsupported_version",
        "schema version 2",
        "",
    ),
    ("no reason", {"v": 1, "order_id": "SO-100005"}, "invalid", "reason", "SO-100005"),
    (
        "blank reason",
        {"v": 1, "order_id": "SO-100005", "reason": "  "},
        "invalid",
        "needs a reason",
        "SO-100005",
    ),
    (
        "unknown order",
        {"v": 1, "order_id": "SO-999999", "reason": "x"},
        "cancel_rejected",
        "not known to the hub",
        "SO-999999",
    ),
    (
        "labelled order",
        {"v": 1, "order_id": "SO-100005", "reason": "x"},
        "cancel_rejected",
        "is labelled",
        "SO-100005",
    ),
    (
        "shipped order",
        {"v": 1, "order_id": "SO-100005", "reason": "x"},
        "cancel_rejected",
        "is shipped",
        "SO-100005",
    ),
]


@pytest.mark.parametrize(
    ("case", "payload", "code", "says", "order_id"), BAD, ids=[b[0] for b in BAD]
)
def test_a_bad_upstream_cancel_changes_nothing_and_is_answered_and_counted(
    demo_engine: Engine, case: str, payload: Any, code: str, says: str, order_id: str
) -> None:
    allocate(demo_engine, SITE)
    if case in ("labelled order", "shipped order"):
        _set_state(demo_engine, "SO-100005", case.split()[0])
    before = order_row(demo_engine, "SO-100005")
    handled = cancel(Receiver(demo_engine, SITE), payload)
    [result] = results(handled)
    assert (result["outcome"], result["order_id"]) == ("rejected", order_id)
    assert says in result["reason"]
    [letter] = dead(handled)
    assert (letter["code"], letter["topic"]) == (code, TOPICS.orders_cancel)
    assert says in letter["reason"]
    assert statuses(handled) == []
    assert order_row(demo_engine, "SO-100005") == before
    figures = stats(demo_engine)
    assert figures["dead_letters_by_code"] == {code: 1}
    assert reservation_problems(demo_engine) == []
