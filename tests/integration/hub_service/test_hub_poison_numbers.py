"""A number no column can hold never stops the hub: each message carrying one (an event's
quantity, a sync request's cursor, a retained status's epoch, an intake line's quantity),
or a NaN, an infinity, or JSON nested past reason, is dead-lettered with code
``out_of_range`` (or ``malformed_json``), and the next normal batch of the same device is
applied. On SQLite and on PostgreSQL, whose integer columns are 32-bit."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hub_builders import SITE, batch_bytes, envelope, inbox_seqs, pick
from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc

from hub import Receiver, hub_stats, run_transaction
from hub.errors import DatabaseUnavailable
from hub.receiver import DB_REFUSED
from sync.protocol import INT_MAX, ProtocolError, Topics, load_json

pytestmark = pytest.mark.integration

TOPICS = Topics(SITE)
ORDER, SKU = "SO-100003", "SKU-00020"
BIG = INT_MAX + 1


def good_batch(seq: int) -> dict[str, Any]:
    return json.loads(batch_bytes("hh-01", [envelope("hh-01", seq, pick(ORDER, SKU))]))


def pick_with_qty(qty: object) -> bytes:
    body = good_batch(1)
    body["events"][0]["payload"]["qty"] = "QTY"
    return json.dumps(body).encode().replace(b'"QTY"', str(qty).encode())


CASES = {
    "event quantity 2^31": (TOPICS.evt("hh-01"), pick_with_qty(BIG)),
    "event quantity a GTIN": (TOPICS.evt("hh-01"), pick_with_qty(4260123000011)),
    "event quantity NaN": (TOPICS.evt("hh-01"), pick_with_qty("NaN")),
    "event quantity 1e400": (TOPICS.evt("hh-01"), pick_with_qty("1e400")),
    "sequence 2^40": (
        TOPICS.evt("hh-01"),
        json.dumps(good_batch(1)).encode().replace(b'"seq": 1', f'"seq": {2**40}'.encode()),
    ),
    "sync cursor 2^31": (
        TOPICS.sync("hh-01"),
        json.dumps(
            {"v": 1, "device_id": "hh-01", "since_cursor": BIG, "epoch": 1, "sent_at": 1.0}
        ).encode(),
    ),
    "status epoch 2^31": (
        TOPICS.status("hh-01"),
        json.dumps(
            {"v": 1, "device_id": "hh-01", "state": "online", "epoch": BIG, "at": time.time()}
        ).encode(),
    ),
    "status time Infinity": (
        TOPICS.status("hh-01"),
        b'{"v": 1, "device_id": "hh-01", "state": "online", "epoch": 1, "at": Infinity}',
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_number_beyond_its_column_is_dead_lettered_and_the_stream_goes_on(
    demo_engine: Engine, case: str
) -> None:
    topic, payload = CASES[case]
    receiver = Receiver(demo_engine, SITE)
    handled = receiver.handle(topic, payload)
    letters = [json.loads(m.payload) for m in handled.messages if m.topic == TOPICS.dlq]
    assert [d["code"] for d in letters] == ["out_of_range"], letters
    receiver.handle(
        TOPICS.evt("hh-01"), batch_bytes("hh-01", [envelope("hh-01", 1, pick(ORDER, SKU))])
    )
    figures = run_transaction(demo_engine, hub_stats)
    assert figures["devices"]["hh-01"]["applied"] == 1  # the next message went on


def test_an_intake_line_of_a_pasted_gtin_is_refused_and_orders_go_on(demo_engine: Engine) -> None:
    receiver = Receiver(demo_engine, SITE)
    order = {
        "v": 1,
        "order_id": "SO-POISON",
        "lines": [{"line_no": 1, "sku": SKU, "qty": 4260123000011}],
    }
    handled = receiver.handle(TOPICS.orders_in, json.dumps(order).encode())
    codes = [json.loads(m.payload).get("code") for m in handled.messages if m.topic == TOPICS.dlq]
    assert codes == ["out_of_range"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("qty", 2_000_000), ("weight_g", 3_000_000), ("tote_position", 5000)],
)
def test_a_number_no_floor_has_rejects_its_event_and_the_next_is_applied(
    demo_engine: Engine, field: str, value: int
) -> None:
    """Within 32 bits but beyond any floor's business (a million units in one pick, a
    three-tonne parcel): the event is rejected with the field named, the sequence goes on."""
    from floor_app.domain.events import PackCompleted

    if field == "weight_g":
        absurd = envelope(
            "hh-01",
            1,
            PackCompleted(order=ORDER, station="PACK-01", carton="CTN-M", weight_g=900, user="ben"),
        )
    else:
        absurd = envelope("hh-01", 1, pick(ORDER, SKU))
    body = json.loads(batch_bytes("hh-01", [absurd, envelope("hh-01", 2, pick(ORDER, SKU))]))
    body["events"][0]["payload"][field] = value
    handled = Receiver(demo_engine, SITE).handle(TOPICS.evt("hh-01"), json.dumps(body).encode())
    said = [json.loads(m.payload) for m in handled.messages if m.topic == TOPICS.ack("hh-01")]
    rejected = [m for m in said if m.get("kind") == "rejected"]
    assert [m["seq"] for m in rejected] == [1] and field in rejected[0]["reason"]
    assert [m["up_to_seq"] for m in said if m.get("kind") == "ack"] == [2]
    assert inbox_seqs(demo_engine, "hh-01") == [1, 2]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b'{"v": 1, "x": ' + b"[" * 5000 + b"]" * 5000 + b"}", "malformed_json"),
        (b'{"v": 1, "x": -Infinity}', "out_of_range"),
        (b'{"v": 1, "x": ' + b"9" * 5000 + b"}", "out_of_range"),
        (b'{"v": 1, "x": -2147483649}', "out_of_range"),
    ],
    ids=["deep", "minus-infinity", "5000-digits", "below-int32"],
)
def test_the_edge_refuses_what_no_column_holds(raw: bytes, code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        load_json(raw)
    assert caught.value.code == code
    assert load_json(b'{"v": 1, "x": -2147483648, "y": 2147483647, "z": 1.5}')["y"] == INT_MAX


class Refused(Exception):
    pass


def test_content_the_database_refuses_is_dead_lettered_an_outage_is_not(
    demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Told apart by the error's class: a DataError or IntegrityError is this message's
    fault (dead letter, go on), an OperationalError the database's (the hub waits)."""
    status = CASES["status epoch 2^31"][1].replace(str(BIG).encode(), b"3")
    receiver = Receiver(demo_engine, SITE)

    def refuse(*_args: object) -> None:
        raise sa_exc.DataError("UPDATE ...", {}, Refused("value out of range"))

    monkeypatch.setattr(Receiver, "_status", refuse)
    handled = receiver.handle(TOPICS.status("hh-01"), status)
    letters = [json.loads(m.payload) for m in handled.messages if m.topic == TOPICS.dlq]
    assert [d["code"] for d in letters] == [DB_REFUSED]
    assert "value out of range" in letters[0]["reason"]

    def down(*_args: object) -> None:
        raise sa_exc.OperationalError("SELECT 1", {}, Refused("server closed the connection"))

    monkeypatch.setattr(Receiver, "_status", down)
    with pytest.raises(DatabaseUnavailable):
        receiver.handle(TOPICS.status("hh-01"), status)


def test_a_push_cursor_no_restore_explains_leaves_the_devices_stream_alone(
    demo_engine: Engine,
) -> None:
    """A status saying the device saw push 2^31-1 would number the hub's next push beyond
    its column: the hub follows a device's cursor only below PUSH_CURSOR_LIMIT."""
    from sqlalchemy import select

    from hub.tables import PushStreamRow, table_of

    streams = table_of(PushStreamRow)

    def hub_cursor() -> int:
        with demo_engine.connect() as conn:
            value = conn.execute(
                select(streams.c.last_cursor).where(streams.c.device_id == "hh-01")
            ).scalar()
        return int(value or 0)

    before = hub_cursor()
    status = {
        "v": 1, "device_id": "hh-01", "state": "online", "epoch": 1, "at": time.time(),
        "health": {"push_cursor": INT_MAX, "acked_seq": 0},
    }  # fmt: skip
    Receiver(demo_engine, SITE).handle(TOPICS.status("hh-01"), json.dumps(status).encode())
    assert hub_cursor() == before
    status["epoch"], status["health"] = 2, {"push_cursor": before + 7, "acked_seq": 0}
    Receiver(demo_engine, SITE).handle(TOPICS.status("hh-01"), json.dumps(status).encode())
    assert hub_cursor() >= before + 7  # a restored hub: its next push is numbered after it
