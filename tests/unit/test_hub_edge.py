"""Reading at the hub's edge, without a database: event batches event by event, the
sequence split, order files, intake reasons, database URLs, the crash hook setting."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from hub.apply import split
from hub.batch_reader import BadEvent, read_batch
from hub.database import normalise_url
from hub.errors import DatabaseUnavailable, ImportFileError
from hub.importer import read_csv, read_jsonl
from hub.intake import readable_order_id, schema_reasons
from hub.service import crash_probability
from sync.protocol import OrderIntake, ProtocolError

pytestmark = pytest.mark.unit


def event(seq: int, device: str = "hh-01", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "seq": seq,
        "event_id": f"E{seq}",
        "device_id": device,
        "type": "user.logged_in",
        "kind": "fact",
        "order_id": None,
        "order_version": None,
        "payload": {"user": "alice", "role": "picker", "method": "badge"},
        "created_at": time.time(),
    }
    body.update(overrides)
    return body


def batch(events: list[dict[str, Any]], device: str = "hh-01", **extra: Any) -> bytes:
    return json.dumps(
        {"v": 1, "device_id": device, "sent_at": 1.0, "events": events, **extra}
    ).encode()


def test_a_sound_batch_is_read_event_by_event() -> None:
    read = read_batch(batch([event(4), event(5)]), "hh-01")
    assert (read.device_id, [r.seq for r in read.records]) == ("hh-01", [4, 5])


def test_one_bad_event_becomes_a_bad_event_at_its_sequence() -> None:
    bad = event(6, type="pick.confirmed", kind="fact", payload={"qty": "two"})
    read = read_batch(batch([event(5), bad, event(7, type="no.such")]), "hh-01")
    kinds = [type(r).__name__ for r in read.records]
    assert kinds == ["EventEnvelope", "BadEvent", "BadEvent"]
    second = read.records[1]
    assert isinstance(second, BadEvent) and second.seq == 6 and "payload" in second.reason
    third = read.records[2]
    assert isinstance(third, BadEvent) and "unknown event type" in third.reason


@pytest.mark.parametrize(
    ("raw", "topic_device", "code", "reason"),
    [
        (batch([event(1)]), "hh-02", "device_mismatch", "topic names device 'hh-02'"),
        (batch([event(1, device="hh-02")]), "hh-01", "device_mismatch", "event 1 names device"),
        (batch([event(1), event(3)]), "hh-01", "invalid", "not contiguous"),
        (batch([event(1), {"no": "seq"}]), "hh-01", "invalid", "event 1 has no readable seq"),
        (batch([event(True)]), "hh-01", "invalid", "no readable seq"),
        (batch([]), "hh-01", "invalid", "non-empty list"),
        (batch([event(1)], extra="x"), "hh-01", "invalid", "unknown field 'extra'"),
        (batch([event(i) for i in range(1, 502)]), "hh-01", "invalid", "at most 500"),
        (b'{"v": 3}', "hh-01", "unsupported_version", "version 3"),
    ],
    # the raw batch holds creation times: named by what it breaks, so every run (and every
    # test worker) collects the same ids
    ids=lambda value: (
        "batch" if isinstance(value, bytes | str) and value[:1] in ("{", b"{") else value
    ),
)
def test_an_unusable_batch_raises_with_a_code_and_reason(
    raw: bytes, topic_device: str, code: str, reason: str
) -> None:
    with pytest.raises(ProtocolError) as err:
        read_batch(raw, topic_device)
    assert err.value.code == code and reason in err.value.reason


class _R:
    def __init__(self, seq: int) -> None:
        self.seq = seq


@pytest.mark.parametrize(
    ("seqs", "last", "expected"),
    [
        ([1, 2, 3], 0, (0, [1, 2, 3], [])),
        ([2, 3, 4], 3, (2, [4], [])),
        ([1, 2], 5, (2, [], [])),
        ([7, 8], 5, (0, [], [7, 8])),
        ([5, 6, 7], 5, (1, [6, 7], [])),
    ],
)
def test_split_into_duplicates_fresh_and_held(
    seqs: list[int], last: int, expected: tuple[int, list[int], list[int]]
) -> None:
    duplicates, fresh, held = split([_R(s) for s in seqs], last)  # type: ignore[misc]
    assert (duplicates, [r.seq for r in fresh], [r.seq for r in held]) == expected


def test_jsonl_lines_are_orders_or_reasons() -> None:
    text = '{"order_id": "A"}\n\nnot json\n[1]\n'
    entries = list(read_jsonl(text))
    assert entries[0].data == {"order_id": "A", "v": 1}
    assert "line 3: not valid JSON" in entries[1].error
    assert entries[2].error == "line 4: expected a JSON object"


def test_csv_rows_of_one_order_are_gathered_wherever_they_are() -> None:
    text = (
        "order_id,sku,qty,name,address1,city,postcode,country,priority,carrier\n"
        "A,S1,2,Ann,1 Rd,Leeds,LS1,GB,1,DHL\n"
        "B,S2,x,Bo,2 Rd,York,YO1,GB,,\n"
        "A,S3,1,Ann,1 Rd,Leeds,LS1,GB,1,DHL\n"
    )
    a, b = list(read_csv(text))
    assert a.data is not None and b.data is not None
    assert [(ln["line_no"], ln["sku"], ln["qty"]) for ln in a.data["lines"]] == [
        (1, "S1", 2),
        (2, "S3", 1),
    ]
    assert (a.data["priority"], a.data["carrier"], a.data["ship_to"]["lines"]) == (
        1,
        "DHL",
        ["1 Rd"],
    )
    assert b.data["lines"][0]["qty"] == "x"  # left as text: intake refuses it with a reason
    with pytest.raises(ImportFileError, match="no column qty"):
        list(read_csv("order_id,sku\nA,S1\n"))


def test_schema_failures_read_like_the_floor_speaks() -> None:
    bad = {
        "v": 1,
        "order_id": "A",
        "lines": [{"line_no": 1, "sku": "S", "qty": 0}, {"line_no": 2, "sku": "S"}],
        "ship_to": {"name": "A", "lines": [], "city": "C", "postcode": "P", "country": "GB"},
        "colour": "red",
    }
    with pytest.raises(Exception) as err:
        OrderIntake.model_validate(bad)
    reasons = schema_reasons(err.value)  # type: ignore[arg-type]
    assert "line 1: quantity must be positive, got 0" in reasons
    assert "lines[1].qty: required field is missing" in reasons
    assert "colour: unknown field" in reasons


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"order_id": "SO-1"}, "SO-1"),
        ({"order_id": "a/b"}, None),
        ({"order_id": 5}, None),
        ([], None),
    ],
)
def test_only_an_order_id_fit_for_a_topic_is_used_for_the_rejection(
    data: Any, expected: str | None
) -> None:
    assert readable_order_id(data) == expected


def test_database_urls() -> None:
    assert normalise_url("hub.db").drivername == "sqlite"
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(DatabaseUnavailable, match="not supported"):
        normalise_url("mysql://u@h/db")
    with pytest.raises(DatabaseUnavailable, match="no database given"):
        normalise_url("  ")


@pytest.mark.parametrize(
    ("value", "expected"), [("", 0.0), ("0.25", 0.25), ("7", 1.0), ("-1", 0.0), ("lots", 0.0)]
)
def test_the_crash_hook_setting(value: str, expected: float) -> None:
    assert crash_probability({"FLOOR_HUB_CRASH_AFTER_COMMIT_PROB": value}) == expected
