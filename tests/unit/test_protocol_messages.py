import json
import time
from typing import Any

import pytest

from floor_app.demo import build_demo_site
from floor_app.domain.events import EVENT_TYPES, LabelPrinted, PickConfirmed, TaskStarted
from floor_app.domain.picking import PickLine, PickTask, TaskState, Tote
from floor_app.store.outbox import OutboxRecord
from sync.device.batches import batch_records
from sync.protocol import (
    MAX_BATCH_EVENTS,
    MAX_MESSAGE_BYTES,
    Ack,
    ClaimRefused,
    DeadLetter,
    DecisionEntry,
    DecisionLog,
    DeviceRoster,
    DeviceStatus,
    EventBatch,
    EventRejected,
    Health,
    OrderCancelled,
    OrderIntake,
    OrderModel,
    OrderSnapshot,
    PickTaskModel,
    ProtocolError,
    PushMessage,
    ResendRequest,
    RosterDevice,
    RosterUpdate,
    StationConfig,
    SyncRequest,
    TaskAssigned,
    TaskCancelled,
    UserModel,
    check_device,
    decode,
    decode_ack,
    encode,
)

pytestmark = pytest.mark.unit


def record(seq: int, event: Any = None, device: str = "hh-01") -> OutboxRecord:
    event = event or PickConfirmed(
        task="PT-1",
        line="L1",
        order="SO-1",
        sku="SKU-1",
        location="A-01-01-1-A",
        qty=1,
        tote_position=1,
        user="alice",
    )
    return OutboxRecord(
        seq,
        f"EV{seq:08d}",
        device,
        event.TYPE,
        event.KIND,
        event.order_id,
        3,
        event.payload(),
        time.time(),
    )


def batch_json(n: int = 3, first: int = 1) -> dict[str, Any]:
    [body] = batch_records([record(first + i) for i in range(n)], "hh-01")
    data: dict[str, Any] = json.loads(body)
    return data


def test_a_batch_round_trips_and_gives_back_the_domain_events() -> None:
    events = [
        record(1),
        record(2, TaskStarted(task="PT-1", user="alice", task_version=2)),
        record(3, LabelPrinted(job="J1", order="SO-1", tracking="TRK1", carrier="dhl", user="ben")),
    ]
    [body] = batch_records(events, "hh-01")
    batch = decode(EventBatch, body)
    assert (batch.first_seq, batch.last_seq) == (1, 3)
    assert batch.events[1].kind == "claim"
    assert batch.events[2].domain_event() == LabelPrinted(
        job="J1", order="SO-1", tracking="TRK1", carrier="dhl", user="ben"
    )


def test_every_event_type_is_accepted_in_an_envelope() -> None:
    for i, (name, cls) in enumerate(sorted(EVENT_TYPES.items()), start=1):
        fields = {
            f: ("x" if t in ("str", str) else True if t in ("bool", bool) else 1)
            for f, t in cls.__annotations__.items()
            if f not in ("TYPE", "KIND")
        }
        event = cls(**fields)
        [body] = batch_records([record(i, event)], "hh-01")
        assert decode(EventBatch, body).events[0].type == name


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda d: d["events"][0]["payload"].__setitem__("qty", "2"), "valid integer"),
        (lambda d: d["events"][0]["payload"].__setitem__("colour", "red"), "Extra inputs"),
        (lambda d: d["events"][0]["payload"].pop("sku"), "sku"),
        (lambda d: d["events"][0].__setitem__("type", "pick.teleported"), "unknown event type"),
        (lambda d: d["events"][0].__setitem__("kind", "claim"), "is a fact"),
        (lambda d: d["events"][0].__setitem__("order_id", "SO-2"), "differs"),
        (lambda d: d["events"][1].__setitem__("seq", 7), "contiguous"),
        (lambda d: d["events"][1].__setitem__("device_id", "hh-02"), "names device"),
        (lambda d: d["events"][0].__setitem__("seq", 0), "greater than or equal"),
        (lambda d: d.__setitem__("events", []), "at least 1"),
        (lambda d: d.__setitem__("extra", 1), "Extra inputs"),
    ],
)
def test_invalid_batches_are_refused_with_a_reason(mutate: Any, words: str) -> None:
    data = batch_json()
    mutate(data)
    with pytest.raises(ProtocolError) as err:
        decode(EventBatch, json.dumps(data))
    assert err.value.code == "invalid"
    assert words in err.value.reason


@pytest.mark.parametrize("version", [None, 0, 2, "1"])
def test_a_wrong_schema_version_is_its_own_error(version: Any) -> None:
    data = batch_json()
    if version is None:
        del data["v"]
    else:
        data["v"] = version
    with pytest.raises(ProtocolError) as err:
        decode(EventBatch, json.dumps(data))
    assert err.value.code == "unsupported_version"


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe", b"[1, 2]", b"null", b'"text"'])
def test_malformed_json_is_refused(raw: bytes) -> None:
    with pytest.raises(ProtocolError) as err:
        decode(PushMessage, raw)
    assert err.value.code == "malformed_json"


def test_a_huge_message_is_refused_before_parsing() -> None:
    raw = b'{"v": 1, "pad": "' + b"x" * MAX_MESSAGE_BYTES + b'"}'
    with pytest.raises(ProtocolError) as err:
        decode(PushMessage, raw)
    assert err.value.code == "too_large"


def test_batches_respect_the_count_and_size_limits() -> None:
    records = [record(i) for i in range(1, 1201)]
    bodies = batch_records(records, "hh-01")
    batches = [decode(EventBatch, b) for b in bodies]
    assert [len(b.events) for b in batches] == [MAX_BATCH_EVENTS, MAX_BATCH_EVENTS, 200]
    assert [e.seq for b in batches for e in b.events] == list(range(1, 1201))
    small = batch_records(records[:50], "hh-01", max_bytes=4000)
    assert len(small) > 1
    assert all(len(b) <= 4000 for b in small)


def test_every_ack_topic_message_decodes_by_kind() -> None:
    msgs = [
        Ack(device_id="hh-01", up_to_seq=5),
        ResendRequest(device_id="hh-01", from_seq=3, reason="gap"),
        ClaimRefused(
            device_id="hh-01",
            seq=4,
            event_id="E",
            type="task.started",
            task_id="PT-1",
            reason="task PT-1 is leased to hh-02",
            current_version=7,
        ),
        EventRejected(device_id="hh-01", seq=9, reason="unknown task"),
    ]
    for msg in msgs:
        assert decode_ack(encode(msg)) == msg
    with pytest.raises(ProtocolError):
        decode_ack(b'{"v": 1, "kind": "hug", "device_id": "hh-01"}')


def test_a_reason_travels_as_a_code_with_parameters_and_may_be_absent() -> None:
    coded = ClaimRefused(
        device_id="hh-01",
        seq=4,
        event_id="E",
        type="task.started",
        reason="task PT-1 is leased to device hh-02",
        code="hub.task_leased",
        params={"task": "PT-1", "device": "hh-02", "version": 3},
    )
    assert decode_ack(encode(coded)) == coded
    older = b'{"v": 1, "kind": "rejected", "device_id": "hh-01", "seq": 9, "reason": "no"}'
    message = decode_ack(older)
    assert isinstance(message, EventRejected)
    assert (message.code, message.params) == ("", {})
    for bad in ('"code": "Not A Code"', '"params": {"a": [1, 2]}'):
        raw = (
            f'{{"v": 1, "kind": "rejected", "device_id": "hh-01", "seq": 9, "reason": "no", {bad}}}'
        )
        with pytest.raises(ProtocolError):
            decode_ack(raw.encode())


def test_domain_objects_round_trip_through_push_items() -> None:
    site = build_demo_site()
    order = site.orders[0]
    assert OrderModel.from_domain(order).to_domain().lines == order.lines
    task = PickTask(
        "PT-9",
        [PickLine("L1", order.order_id, 1, "SKU-1", "04260123000017", "A-01-01-1-A", 2)],
        state=TaskState.ASSIGNED,
        assigned_to="alice",
        version=3,
        totes=[Tote("T-1", 1, order.order_id)],
    )
    back = PickTaskModel.from_domain(task).to_domain()
    assert (back.task_id, back.version, back.totes, back.lines[0].qty) == ("PT-9", 3, task.totes, 2)
    user = site.users[0]
    assert UserModel.from_domain(user).to_domain() == user
    items = [
        TaskAssigned(task=PickTaskModel.from_domain(task)),
        OrderSnapshot(order=OrderModel.from_domain(order)),
        OrderCancelled(order_id=order.order_id, reason="customer"),
        TaskCancelled(task_id="PT-9", reason="x"),
        RosterUpdate(users=[UserModel.from_domain(user)]),
        StationConfig(
            station="PACK-01", settings={"printer": "tcp://10.0.0.5:9100", "scale": True}
        ),
    ]
    for cursor, item in enumerate(items, start=1):
        msg = PushMessage(device_id="hh-01", cursor=cursor, item=item)
        assert decode(PushMessage, encode(msg)) == msg


def test_presence_intake_status_and_dead_letters_round_trip() -> None:
    status = DeviceStatus(
        device_id="hh-01",
        state="online",
        epoch=4,
        health=Health(devices={"scanner": "ready"}, outbox_depth=3, app_version="0.1.0"),
    )
    assert decode(DeviceStatus, encode(status)) == status
    sync = SyncRequest(device_id="hh-01", since_cursor=0, epoch=1, sent_at=1.0)
    assert decode(SyncRequest, encode(sync)) == sync
    order = build_demo_site().orders[0]
    model = OrderModel.from_domain(order)
    intake = OrderIntake(order_id=order.order_id, lines=list(model.lines), ship_to=model.ship_to)
    assert decode(OrderIntake, encode(intake)).order_id == order.order_id
    err = ProtocolError("malformed_json", "not valid JSON")
    letter = DeadLetter.about(
        "hub", "floor/v1/dc1/dev/hh-01/evt", b"{" * 5000, err, device_id="hh-01"
    )
    assert letter.payload_size == 5000
    assert len(letter.payload_excerpt) == 2048
    assert decode(DeadLetter, encode(letter)).code == "malformed_json"


def test_intake_refuses_negative_quantities_and_bad_order_ids() -> None:
    order = build_demo_site().orders[0]
    data = json.loads(
        encode(
            OrderIntake(
                order_id=order.order_id,
                lines=list(OrderModel.from_domain(order).lines),
                ship_to=OrderModel.from_domain(order).ship_to,
            )
        )
    )
    data["lines"][0]["qty"] = -1
    with pytest.raises(ProtocolError, match="greater than 0"):
        decode(OrderIntake, json.dumps(data))
    data["lines"][0]["qty"] = 1
    data["order_id"] = "SO/1"
    with pytest.raises(ProtocolError, match="cannot appear"):
        decode(OrderIntake, json.dumps(data))


def test_a_device_mismatch_is_named() -> None:
    check_device("hh-01", "hh-01")
    with pytest.raises(ProtocolError) as err:
        check_device("hh-01", "hh-02")
    assert err.value.code == "device_mismatch"


def test_the_roster_the_decision_log_and_a_choices_currency_round_trip() -> None:
    roster = DeviceRoster(
        devices=[
            RosterDevice(device_id="hh-01", role="picker", state="online", seen_at=1.0),
            RosterDevice(device_id="pk-01", station="PACK-01"),
        ],
        at=2.0,
    )
    back = decode(DeviceRoster, encode(roster))
    assert back == roster and back.devices[1].state == "unknown"
    entry = DecisionEntry(
        event_id="01E",
        kind="accept_weight",
        subject="SO-1",
        reason="scale_fault",
        user="grace",
        detail="1240 g",
        device_id="pk-01",
        at=1.0,
    )
    log = DecisionLog(decisions=[entry], at=2.0)
    assert decode(DecisionLog, encode(log)) == log
    bad = json.loads(encode(log))
    bad["decisions"][0]["kind"] = "fire_someone"
    with pytest.raises(ProtocolError) as err:
        decode(DecisionLog, json.dumps(bad).encode())
    assert err.value.code == "invalid"
    order = build_demo_site().orders[0]
    choice = OrderModel.from_domain(order).to_domain().carrier_choice
    assert choice is not None and (choice.currency, choice.sort_code) == ("EUR", "CN-SHA")
