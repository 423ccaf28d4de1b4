"""The hub's pure rules: claims are refused with reasons, leases run out, pickers chosen."""

from __future__ import annotations

import pytest

from floor_app.domain.errors import Reason
from floor_app.domain.order import Address, Order, OrderLine, OrderState
from floor_app.domain.picking import TaskState
from hub.leases import Picker, choose_picker
from hub.rules import lease_holder, order_claim_refusal, task_claim_refusal

pytestmark = pytest.mark.unit

S = OrderState


def order(state: OrderState = S.VALIDATED, *lines: tuple[int, int, int]) -> Order:
    return Order(
        "SO-1",
        [
            OrderLine(i + 1, f"SKU-{i}", qty, picked, 0, short)
            for i, (qty, picked, short) in enumerate(lines or [(2, 0, 0)])
        ],
        Address("A", ("1 Road",), "C", "P", "GB"),
        state=state,
    )


def test_a_lease_holds_until_it_expires() -> None:
    assert lease_holder("hh-01", 100.0, now=99.0) == "hh-01"
    assert lease_holder("hh-01", 100.0, now=101.0) is None
    assert lease_holder(None, None, now=1.0) is None
    assert lease_holder("hh-01", None, now=1e12) == "hh-01"


def claim(**overrides: object) -> str | None:
    values: dict[str, object] = {
        "task_id": "PT-1",
        "known": True,
        "state": TaskState.ASSIGNED,
        "hub_version": 2,
        "claim_version": 3,
        "lease_device": "hh-01",
        "lease_expires_at": 1000.0,
        "device_id": "hh-01",
        "now": 500.0,
    }
    values.update(overrides)
    return task_claim_refusal(**values)  # type: ignore[arg-type]


def test_task_claims_are_granted_to_the_lease_holder_with_a_current_version() -> None:
    assert claim() is None
    assert claim(claim_version=2) is None
    assert claim(lease_device=None, lease_expires_at=None, device_id="hh-09") is None
    assert claim(device_id="hh-02", now=2000.0) is None  # the lease ran out


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"known": False, "state": None}, "task PT-1 is not known to the hub"),
        ({"state": TaskState.DONE}, "task PT-1 is done; it cannot be started"),
        ({"state": TaskState.CANCELLED}, "task PT-1 is cancelled"),
        ({"device_id": "hh-02"}, "task PT-1 is leased to device hh-01 until"),
        ({"claim_version": 1}, "changed since this device saw it (version 1, the hub has 2)"),
    ],
)
def test_task_claims_are_refused_with_the_reason(overrides: dict[str, object], reason: str) -> None:
    refusal = claim(**overrides)
    assert refusal is not None and reason in refusal.text
    assert refusal.code.startswith("hub.") and refusal.params["task"] == "PT-1"


def test_order_claims() -> None:
    held = order(S.HELD)
    assert order_claim_refusal(
        order_id="SO-1", order=None, claim_version=1, external_version=1
    ) == Reason("order SO-1 is not known to the hub", "hub.unknown_order", {"order": "SO-1"})
    assert "cancelled; nothing can change it" in str(
        order_claim_refusal(
            order_id="SO-1", order=order(S.CANCELLED), claim_version=9, external_version=1
        )
    )
    assert "is held, not short" in str(
        order_claim_refusal(
            order_id="SO-1", order=held, claim_version=5, external_version=1, required=S.SHORT
        )
    )
    assert "already held" in str(
        order_claim_refusal(
            order_id="SO-1", order=held, claim_version=5, external_version=1, forbidden=(S.HELD,)
        )
    )
    stale = order_claim_refusal(
        order_id="SO-1", order=order(S.PICKING), claim_version=2, external_version=4
    )
    assert stale is not None and "the hub changed it at version 4" in stale.text
    assert (
        order_claim_refusal(
            order_id="SO-1", order=order(S.PICKING), claim_version=4, external_version=4
        )
        is None
    )


def test_a_task_goes_to_a_picker_serving_its_zones_online_first_then_least_loaded() -> None:
    pickers = [
        Picker("hh-01", frozenset(), online=False, load=0),
        Picker("hh-02", frozenset({"A"}), online=True, load=3),
        Picker("hh-03", frozenset({"A", "B"}), online=True, load=1),
    ]
    chosen = choose_picker(pickers, frozenset({"A"}))
    assert chosen is not None and chosen.device_id == "hh-03"
    chosen = choose_picker(pickers, frozenset({"C"}))
    assert chosen is not None and chosen.device_id == "hh-01"  # serves every zone
    assert choose_picker([p for p in pickers if p.zones], frozenset({"C"})) is None
