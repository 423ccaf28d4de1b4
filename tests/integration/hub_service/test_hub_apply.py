"""Event apply on a real database (SQLite and PostgreSQL): exactly once, in order, with
gaps held, duplicates acked again, bad events rejected at their sequence, claims checked."""

from __future__ import annotations

import json
from typing import get_type_hints

import pytest
from hub_builders import SITE, apply, envelope, inbox_seqs, order_row, pick
from sqlalchemy import Engine, func, select

from floor_app.domain.events import (
    EVENT_TYPES,
    LabelConfirmed,
    LabelPrinted,
    PackCompleted,
    TaskStarted,
)
from hub import UnknownDevice
from hub.batch_reader import BadEvent
from hub.handlers import BatchWork
from hub.outbound import Outbound
from hub.tables import DeadLetterRow, DeviceCursorRow, LabelJobRow, table_of
from sync.protocol import Ack, ClaimRefused, EventRejected, ResendRequest, Topics, decode_ack

pytestmark = pytest.mark.integration

TOPICS = Topics(SITE)


def ack_messages(result: object) -> list[object]:
    """The messages of an ApplyResult sent on an ack topic, decoded."""
    return [
        decode_ack(m.payload)
        for m in result.messages  # type: ignore[attr-defined]
        if m.topic.endswith("/ack")
    ]


def test_contiguous_events_apply_once_and_duplicates_are_acked_again(demo_engine: Engine) -> None:
    order, sku = "SO-100003", "SKU-00020"
    first = [envelope("hh-01", seq, pick(order, sku)) for seq in (1, 2, 3)]
    r1 = apply(demo_engine, "hh-01", first)
    assert (r1.applied, r1.duplicates, r1.acked_up_to, r1.gap_from) == (3, 0, 3, None)
    again = [*first[1:], envelope("hh-01", 4, pick(order, sku))]
    r2 = apply(demo_engine, "hh-01", again)
    assert (r2.applied, r2.duplicates, r2.acked_up_to) == (1, 2, 4)
    assert inbox_seqs(demo_engine, "hh-01") == [1, 2, 3, 4]
    acks = [m for m in ack_messages(r2) if isinstance(m, Ack)]
    assert [a.up_to_seq for a in acks] == [4]
    only_old = apply(demo_engine, "hh-01", first)  # a replay of old sequences
    assert (only_old.applied, only_old.duplicates, only_old.acked_up_to) == (0, 3, 4)
    assert [a.up_to_seq for a in ack_messages(only_old) if isinstance(a, Ack)] == [4]
    with demo_engine.connect() as conn:
        cursor = conn.execute(
            select(table_of(DeviceCursorRow)).where(
                table_of(DeviceCursorRow).c.device_id == "hh-01"
            )
        ).one()
    assert (cursor.last_seq, cursor.applied, cursor.duplicates_ignored) == (4, 4, 5)


def test_a_gap_is_held_back_and_a_resend_is_asked_for(demo_engine: Engine) -> None:
    order, sku = "SO-100003", "SKU-00020"
    apply(demo_engine, "hh-02", [envelope("hh-02", 1, pick(order, sku))])
    future = [envelope("hh-02", seq, pick(order, sku)) for seq in (4, 5)]
    held = apply(demo_engine, "hh-02", future)
    assert (held.applied, held.held, held.gap_from, held.acked_up_to) == (0, 2, 2, 1)
    messages = ack_messages(held)
    resend = [m for m in messages if isinstance(m, ResendRequest)]
    assert [r.from_seq for r in resend] == [2]
    assert "4 arrived" in resend[0].reason
    assert inbox_seqs(demo_engine, "hh-02") == [1]
    filled = [envelope("hh-02", seq, pick(order, sku)) for seq in (2, 3, 4, 5)]
    done = apply(demo_engine, "hh-02", filled)
    assert (done.applied, done.acked_up_to) == (4, 5)
    assert inbox_seqs(demo_engine, "hh-02") == [1, 2, 3, 4, 5]


def test_a_bad_event_is_rejected_at_its_sequence_and_dead_lettered(demo_engine: Engine) -> None:
    order, sku = "SO-100003", "SKU-00020"
    bad = BadEvent(2, "01BAD", "pick.confirmed", "payload.qty: not an integer", "{}")
    negative = envelope("hh-03", 3, pick(order, sku, qty=-2))
    records = [envelope("hh-03", 1, pick(order, sku)), bad, negative]
    result = apply(demo_engine, "hh-03", records)
    assert (result.applied, result.rejected, result.acked_up_to) == (3, 2, 3)
    rejected = [m for m in ack_messages(result) if isinstance(m, EventRejected)]
    assert [r.seq for r in rejected] == [2, 3]
    assert "quantity must be positive" in rejected[1].reason
    assert (rejected[1].code, rejected[1].params) == ("hub.qty_not_positive", {"qty": -2})
    dlq = [m for m in result.messages if m.topic == TOPICS.dlq]
    assert len(dlq) == 2
    with demo_engine.connect() as conn:
        codes = list(conn.execute(select(table_of(DeadLetterRow).c.code)).scalars())
    assert codes == ["rejected_event", "rejected_event"]


def test_an_unknown_device_is_refused_and_nothing_is_written(demo_engine: Engine) -> None:
    with pytest.raises(UnknownDevice, match="not registered"):
        apply(demo_engine, "hh-99", [envelope("hh-99", 1, pick("SO-100003", "SKU-00020"))])
    assert inbox_seqs(demo_engine, "hh-99") == []


def test_a_label_job_is_applied_once_even_when_sent_twice(demo_engine: Engine) -> None:
    printed = LabelPrinted(
        job="JOB-1", order="SO-100003", tracking="TRK1", carrier="DHL", user="ben"
    )
    r1 = apply(demo_engine, "pk-01", [envelope("pk-01", 1, printed)])
    r2 = apply(demo_engine, "pk-02", [envelope("pk-02", 1, printed)])  # another station
    assert r1.outcomes[0][1].note == ""
    assert "already recorded" in r2.outcomes[0][1].note
    with demo_engine.connect() as conn:
        jobs = conn.execute(select(func.count()).select_from(table_of(LabelJobRow))).scalar_one()
    assert jobs == 1


def test_pack_and_label_facts_move_the_order_forward_and_publish_its_status(
    demo_engine: Engine,
) -> None:
    device = "pk-01"
    events = [
        PackCompleted(
            order="SO-100003", station="PACK-01", carton="CTN-S", weight_g=300, user="ben"
        ),
        LabelPrinted(job="J-9", order="SO-100003", tracking="TRK9", carrier="DHL", user="ben"),
        LabelConfirmed(job="J-9", order="SO-100003", tracking="TRK9", user="ben"),
    ]
    result = apply(demo_engine, device, [envelope(device, i + 1, e) for i, e in enumerate(events)])
    assert all(o.kind == "applied" for _, o in result.outcomes)
    row = order_row(demo_engine, "SO-100003")
    assert (row.state, row.tracking) == ("labelled", "TRK9")
    statuses = [m for m in result.messages if m.topic == TOPICS.order_status("SO-100003")]
    assert len(statuses) == 1 and statuses[0].retain
    body = json.loads(statuses[0].payload)
    assert (body["state"], body["device_id"], body["version"]) == ("labelled", device, row.version)


def test_a_claim_on_an_unknown_task_is_refused_with_the_reason(demo_engine: Engine) -> None:
    claim = TaskStarted(task="PT-NOPE", user="alice", task_version=2)
    result = apply(demo_engine, "hh-01", [envelope("hh-01", 1, claim)])
    assert (result.applied, result.refused, result.acked_up_to) == (1, 1, 1)
    refusals = [m for m in ack_messages(result) if isinstance(m, ClaimRefused)]
    assert refusals[0].reason == "task PT-NOPE is not known to the hub"
    assert refusals[0].task_id == "PT-NOPE"
    assert (refusals[0].code, refusals[0].params) == ("hub.unknown_task", {"task": "PT-NOPE"})


def test_every_event_type_goes_to_one_handler_taking_that_event(demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        work = BatchWork(conn, "hh-01", 0.0, Outbound(TOPICS))
    assert set(work.routes) == set(EVENT_TYPES)
    for event_type, handler in work.routes.items():
        assert get_type_hints(handler)["ev"] is EVENT_TYPES[event_type], event_type
