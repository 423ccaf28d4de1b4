"""Domain events: every type survives the trip through its payload, bad payloads are named."""

import dataclasses
import json
from typing import Any

import pytest

from floor_app.domain.events import (
    EVENT_TYPES,
    CarrierChanged,
    CountAcknowledged,
    DomainEvent,
    HoldReleased,
    LabelConfirmed,
    LabelPrinted,
    OrderHeld,
    PackCompleted,
    PickConfirmed,
    PickUndone,
    ReceiptClosed,
    ReceiptCounted,
    ReceiptVarianceExplained,
    ReturnReceived,
    ShortApproved,
    ShortReported,
    StockCounted,
    StockMoved,
    StockTaskClosed,
    TaskCompleted,
    TaskReassigned,
    TaskStarted,
    ToteAssigned,
    TotePut,
    ToteReleased,
    UserLoggedIn,
    UserLoggedOut,
    event_from_payload,
)

pytestmark = pytest.mark.unit

SAMPLES: list[DomainEvent] = [
    UserLoggedIn("alice", "picker", "pin"),
    UserLoggedOut("alice", "idle"),
    TaskStarted("PT-1", "alice", 3),
    PickConfirmed("PT-1", "L1", "SO-100001", "SKU-1", "A01-01-1A", 2, 1, "alice", "T0007"),
    ToteAssigned("PT-1", "T0007", 1, "SO-100001", "alice"),
    TotePut("PT-1", "L1", "T0007", "SO-100001", 2, "alice"),
    ToteReleased("T0007", "SO-100001", "PACK-01", "ben"),
    PickUndone("PT-1", "L1", "SO-100001", "SKU-1", "A01-01-1A", 1, "alice"),
    ShortReported("PT-1", "L1", "SO-100001", "SKU-1", "A01-01-1A", 1, "empty", "alice"),
    TaskCompleted("PT-1", "alice"),
    PackCompleted("SO-100001", "PACK-01", "CTN-M", 1234, "ben", "grace"),
    OrderHeld("SO-100001", "damaged item", "ben", 7),
    LabelPrinted("evt-1", "SO-100001", "TRK1", "DHL", "ben", "evt-0", "smudged"),
    LabelConfirmed("evt-1", "SO-100001", "TRK1", "ben"),
    ShortApproved("SO-100001", "grace", 5),
    HoldReleased("SO-100001", "grace", 8),
    TaskReassigned("PT-1", "sam", "grace", 4),
    StockMoved("ST-1", "SKU-1", "R01-01-1A", "A01-01-1A", 12, "replenish", "alice", "LOT7"),
    StockCounted("ST-2", "A01-01-1A", "SKU-1", 9, "alice", 2),
    CountAcknowledged(7, "sam"),
    StockTaskClosed("ST-1", "source empty", "alice"),
    ReturnReceived("RT-1", "SO-100001", "SKU-1", 1, "resaleable", "A01-01-1A", "rita"),
    CarrierChanged("SO-100001", "DPD", "express", "promised tomorrow", "ben", 9),
    ReceiptCounted("R-000001", "ASN-1", "Acme", "SKU-1", 12, "good", "DOCK-01", "amara"),
    ReceiptVarianceExplained("R-000001", "SKU-1", 12, 10, "short_shipped", "amara"),
    ReceiptClosed("R-000001", "amara"),
]
CLAIMS = {
    TaskStarted,
    OrderHeld,
    ShortApproved,
    HoldReleased,
    TaskReassigned,
    CarrierChanged,
    ToteAssigned,
}


def test_samples_cover_every_event_type() -> None:
    assert {type(e) for e in SAMPLES} == set(EVENT_TYPES.values())
    assert len(EVENT_TYPES) == len(SAMPLES)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.TYPE)
def test_round_trip_through_the_payload(event: DomainEvent) -> None:
    assert EVENT_TYPES[event.TYPE] is type(event)
    payload = event.payload()
    assert event_from_payload(event.TYPE, payload) == event


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.TYPE)
def test_round_trip_through_json(event: DomainEvent) -> None:
    wire = json.dumps(event.payload())
    assert event_from_payload(event.TYPE, json.loads(wire)) == event


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.TYPE)
def test_payload_holds_every_field_and_nothing_else(event: DomainEvent) -> None:
    names = {f.name for f in dataclasses.fields(event)}
    assert set(event.payload()) == names
    assert "TYPE" not in event.payload() and "KIND" not in event.payload()


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.TYPE)
def test_kind_fact_or_claim(event: DomainEvent) -> None:
    expected = "claim" if type(event) in CLAIMS else "fact"
    assert expected == event.KIND


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.TYPE)
def test_order_id(event: DomainEvent) -> None:
    expected = event.payload().get("order")
    assert event.order_id == expected


def test_type_names_are_unique_and_dotted() -> None:
    types = [cls.TYPE for cls in EVENT_TYPES.values()]
    assert len(set(types)) == len(types)
    assert all("." in t for t in types)


def test_defaults_are_filled_in() -> None:
    event = event_from_payload("user.logged_in", {"user": "alice", "role": "picker"})
    assert event == UserLoggedIn("alice", "picker", "badge")


def test_events_are_immutable() -> None:
    event = TaskCompleted("PT-1", "alice")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.task = "PT-2"  # type: ignore[misc]


def test_unknown_event_type() -> None:
    with pytest.raises(ValueError, match=r"unknown event type 'pick\.teleported'"):
        event_from_payload("pick.teleported", {})


def test_unknown_field_is_named() -> None:
    payload: dict[str, Any] = {**TaskCompleted("PT-1", "alice").payload(), "colour": "red"}
    with pytest.raises(ValueError, match=r"task\.completed payload: unknown field 'colour'"):
        event_from_payload("task.completed", payload)


def test_missing_field_is_named() -> None:
    with pytest.raises(ValueError, match="missing field 'user'") as info:
        event_from_payload("task.completed", {"task": "PT-1"})
    assert "fields: task, user" in str(info.value)
