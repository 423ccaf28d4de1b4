"""Bad input at the hub's edge, each case through :class:`hub.Receiver` on a real
database: nothing raises, each lands in the dead-letter topic or the rejection reply with a
reason, and each is counted by ``floor-hub stats``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hub_builders import SITE, batch_bytes, envelope, pick
from sqlalchemy import Engine

from hub import Handled, Receiver, hub_stats, run_transaction
from sync.protocol import MAX_MESSAGE_BYTES, Topics, decode_ack

pytestmark = pytest.mark.integration

TOPICS = Topics(SITE)
ORDER, SKU = "SO-100003", "SKU-00020"


def stats(engine: Engine) -> dict[str, Any]:
    return run_transaction(engine, hub_stats)


def dead(handled: Handled) -> list[dict[str, Any]]:
    return [json.loads(m.payload) for m in handled.messages if m.topic == TOPICS.dlq]


def events_batch(device: str, seqs: list[int]) -> bytes:
    return batch_bytes(device, [envelope(device, s, pick(ORDER, SKU)) for s in seqs])


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b'{"v": 1, "device_id": "hh-01", "events": [', "malformed_json"),
        (b"\xff\xfe not even text", "malformed_json"),
        (b"[1, 2, 3]", "malformed_json"),
        (json.dumps({"v": 2, "device_id": "hh-01", "events": []}).encode(), "unsupported_version"),
        (json.dumps({"device_id": "hh-01", "events": []}).encode(), "unsupported_version"),
        (b'{"v": 1, "pad": "' + b"x" * MAX_MESSAGE_BYTES + b'"}', "too_large"),
        (json.dumps({"v": 1, "device_id": "hh-01", "events": []}).encode(), "invalid"),
    ],
    ids=["truncated", "not-utf8", "not-an-object", "version-2", "no-version", "huge", "empty"],
)
def test_an_unreadable_event_batch_is_dead_lettered_and_counted(
    demo_engine: Engine, payload: bytes, code: str
) -> None:
    receiver = Receiver(demo_engine, SITE)
    handled = receiver.handle(TOPICS.evt("hh-01"), payload)
    letters = dead(handled)
    assert [d["code"] for d in letters] == [code]
    assert letters[0]["reason"] and letters[0]["payload_size"] == len(payload)
    assert len(letters[0]["payload_excerpt"]) <= 2048
    figures = stats(demo_engine)
    assert figures["dead_letters"] == 1 and figures["dead_letters_by_code"] == {code: 1}
    assert figures["devices"]["hh-01"]["applied"] == 0


def test_a_sequence_from_the_future_is_held_and_a_resend_asked_for(demo_engine: Engine) -> None:
    receiver = Receiver(demo_engine, SITE)
    receiver.handle(TOPICS.evt("hh-01"), events_batch("hh-01", [1, 2]))
    handled = receiver.handle(TOPICS.evt("hh-01"), events_batch("hh-01", [7, 8]))
    replies = [decode_ack(m.payload) for m in handled.messages if m.topic == TOPICS.ack("hh-01")]
    kinds = {r.kind: r for r in replies}
    assert kinds["ack"].up_to_seq == 2  # type: ignore[attr-defined]
    assert kinds["resend"].from_seq == 3  # type: ignore[attr-defined]
    assert "7 arrived but 3 is the next one" in kinds["resend"].reason  # type: ignore[attr-defined]
    figures = stats(demo_engine)["devices"]["hh-01"]
    assert (figures["applied"], figures["last_seq"], figures["gaps"]) == (2, 2, 1)


def test_a_replayed_old_sequence_is_acked_again_not_applied_and_counted(
    demo_engine: Engine,
) -> None:
    receiver = Receiver(demo_engine, SITE)
    receiver.handle(TOPICS.evt("hh-01"), events_batch("hh-01", [1, 2, 3]))
    handled = receiver.handle(TOPICS.evt("hh-01"), events_batch("hh-01", [2, 3]))
    replies = [decode_ack(m.payload) for m in handled.messages if m.topic == TOPICS.ack("hh-01")]
    assert [(r.kind, getattr(r, "up_to_seq", None)) for r in replies] == [("ack", 3)]
    figures = stats(demo_engine)["devices"]["hh-01"]
    assert (figures["applied"], figures["last_seq"], figures["duplicates_ignored"]) == (3, 3, 2)


def test_an_unknown_device_is_dead_lettered(demo_engine: Engine) -> None:
    handled = Receiver(demo_engine, SITE).handle(TOPICS.evt("hh-77"), events_batch("hh-77", [1]))
    letters = dead(handled)
    assert [d["code"] for d in letters] == ["unknown_device"]
    assert "hh-77" in letters[0]["reason"] and letters[0]["device_id"] == "hh-77"
    assert not any(m.topic == TOPICS.ack("hh-77") for m in handled.messages)
    assert stats(demo_engine)["dead_letters_by_code"] == {"unknown_device": 1}


def test_a_payload_naming_another_device_than_its_topic_is_dead_lettered(
    demo_engine: Engine,
) -> None:
    receiver = Receiver(demo_engine, SITE)
    handled = receiver.handle(TOPICS.evt("hh-01"), events_batch("hh-02", [1]))
    letters = dead(handled)
    assert [d["code"] for d in letters] == ["device_mismatch"]
    assert "hh-01" in letters[0]["reason"] and "hh-02" in letters[0]["reason"]
    figures = stats(demo_engine)
    assert figures["devices"]["hh-01"]["applied"] == figures["devices"]["hh-02"]["applied"] == 0
    sync = json.dumps(
        {"v": 1, "device_id": "hh-02", "since_cursor": 0, "epoch": 1, "sent_at": 0.0}
    ).encode()
    again = receiver.handle(TOPICS.sync("hh-01"), sync)
    assert [d["code"] for d in dead(again)] == ["device_mismatch"]
    assert stats(demo_engine)["dead_letters_by_code"] == {"device_mismatch": 2}


def order(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "v": 1,
        "order_id": "WEB-1",
        "lines": [{"line_no": 1, "sku": SKU, "qty": 2}],
        "ship_to": {
            "name": "Ann Lee",
            "lines": ["1 High Street"],
            "city": "Leeds",
            "postcode": "LS1 1AA",
            "country": "GB",
        },
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"lines": [{"line_no": 1, "sku": SKU, "qty": -2}]}, "line 1: quantity must be positive"),
        ({"lines": [{"line_no": 1, "sku": "SKU-NOPE", "qty": 1}]}, "unknown SKU 'SKU-NOPE'"),
        (
            {
                "ship_to": {
                    "name": "Ann",
                    "lines": [""],
                    "city": "",
                    "postcode": "1",
                    "country": "GB",
                }
            },
            "ship-to address is incomplete: city, lines missing",
        ),
        ({"lines": []}, "lines: List should have at least 1 item"),
        (
            {"lines": [{"line_no": 1, "sku": SKU, "qty": 2_000_000}]},
            "line 1: quantity 2000000 is more than the site's limit of 10000 per line",
        ),
        (
            {"lines": [{"line_no": n, "sku": SKU, "qty": 1} for n in range(1, 502)]},
            "501 lines; the site takes at most 500 per order",
        ),
        (
            {"lines": [{"line_no": n, "sku": SKU, "qty": 9_000} for n in range(1, 7)]},
            "54000 units; the site takes at most 50000 per order",
        ),
    ],
    ids=[
        "negative-qty",
        "unknown-sku",
        "incomplete-address",
        "no-lines",
        "qty-beyond-limit",
        "too-many-lines",
        "too-many-units",
    ],
)
def test_a_bad_order_is_rejected_on_its_status_topic_with_the_reason(
    demo_engine: Engine, changes: dict[str, Any], reason: str
) -> None:
    handled = Receiver(demo_engine, SITE).handle(
        TOPICS.orders_in, json.dumps(order(**changes)).encode()
    )
    statuses = [m for m in handled.messages if m.topic == TOPICS.order_status("WEB-1")]
    assert len(statuses) == 1 and statuses[0].retain
    body = json.loads(statuses[0].payload)
    assert body["state"] == "rejected"
    assert any(reason in r for r in body["reasons"]), body["reasons"]
    figures = stats(demo_engine)
    assert figures["orders_rejected"] == 1
    assert "WEB-1" not in json.dumps(figures["orders"])


def test_an_order_without_a_usable_id_goes_to_the_dead_letter_topic(demo_engine: Engine) -> None:
    receiver = Receiver(demo_engine, SITE)
    no_id = receiver.handle(TOPICS.orders_in, json.dumps(order(order_id="bad/id")).encode())
    garbage = receiver.handle(TOPICS.orders_in, b"{not json")
    assert [d["code"] for d in dead(no_id)] == ["intake_rejected"]
    assert [d["code"] for d in dead(garbage)] == ["malformed_json"]
    assert stats(demo_engine)["orders_rejected"] == 2


def test_an_order_id_already_used_is_refused_without_touching_that_order(
    demo_engine: Engine,
) -> None:
    receiver = Receiver(demo_engine, SITE)
    first = receiver.handle(TOPICS.orders_in, json.dumps(order()).encode())
    assert [json.loads(m.payload)["state"] for m in first.messages] == ["validated"]
    same = receiver.handle(TOPICS.orders_in, json.dumps(order()).encode())  # a redelivery
    assert same.messages == []
    other = receiver.handle(
        TOPICS.orders_in,
        json.dumps(order(lines=[{"line_no": 1, "sku": SKU, "qty": 9}])).encode(),
    )
    assert not any(m.topic == TOPICS.order_status("WEB-1") for m in other.messages)
    letters = dead(other)
    assert [d["code"] for d in letters] == ["duplicate_order"]
    assert "already used" in letters[0]["reason"]
    figures = stats(demo_engine)
    assert figures["orders_rejected"] == 1 and figures["orders"]["validated"] == 21


def test_a_message_on_a_topic_of_another_site_is_dead_lettered(demo_engine: Engine) -> None:
    handled = Receiver(demo_engine, SITE).handle("floor/v1/dc9/dev/hh-01/evt", b"{}")
    assert [d["code"] for d in dead(handled)] == ["wrong_topic"]
