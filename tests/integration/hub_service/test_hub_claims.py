"""Claims on orders and tasks from devices: holds, releases and reassignments granted when
current, refused with the reason when stale or impossible."""

from __future__ import annotations

import json

import pytest
from hub_builders import SITE, TRACKING, apply, envelope, order_row, pick, start_task
from sqlalchemy import Engine, select

from floor_app.domain.events import (
    HoldReleased,
    LabelConfirmed,
    OrderHeld,
    PackCompleted,
    ShortApproved,
    TaskReassigned,
    UserLoggedIn,
)
from hub import allocate, cancel_order, transact
from hub.tables import PickTaskRow, table_of
from sync.protocol import Topics

pytestmark = pytest.mark.integration

TOPICS = Topics(SITE)
TASKS = table_of(PickTaskRow)


def test_a_hold_is_granted_refused_when_repeated_and_released(demo_engine: Engine) -> None:
    version = order_row(demo_engine, "SO-100003").version
    hold = OrderHeld(order="SO-100003", reason="damaged item", user="ben", order_version=version)
    held = apply(demo_engine, "pk-01", [envelope("pk-01", 1, hold, order_version=version)])
    assert held.outcomes[0][1].kind == "applied"
    row = order_row(demo_engine, "SO-100003")
    assert (row.state, row.held_from, row.hold_reason) == ("held", "validated", "damaged item")
    status = [json.loads(m.payload) for m in held.messages if "/orders/" in m.topic]
    assert status[0]["state"] == "held" and "damaged item" in status[0]["reason"]
    again = apply(demo_engine, "pk-02", [envelope("pk-02", 1, hold, order_version=row.version)])
    assert again.outcomes[0][1].note == "order SO-100003 is already held"
    release = HoldReleased(order="SO-100003", user="grace", order_version=row.version)
    released = apply(demo_engine, "sv-01", [envelope("sv-01", 1, release)])
    assert released.outcomes[0][1].kind == "applied"
    assert order_row(demo_engine, "SO-100003").state == "validated"
    twice = apply(demo_engine, "sv-01", [envelope("sv-01", 2, release)])
    assert twice.outcomes[0][1].note == "order SO-100003 is validated, not held"


def test_a_hold_based_on_a_version_before_the_hubs_own_change_is_stale(
    demo_engine: Engine,
) -> None:
    seen = order_row(demo_engine, "SO-100003").version
    allocate(demo_engine, SITE)  # the hub changes the order: allocated
    assert order_row(demo_engine, "SO-100003").version > seen
    hold = OrderHeld(order="SO-100003", reason="missing", user="ben", order_version=seen)
    result = apply(demo_engine, "pk-01", [envelope("pk-01", 1, hold, order_version=seen)])
    outcome = result.outcomes[0][1]
    assert outcome.kind == "refused" and "changed since this device saw it" in outcome.note
    transact(demo_engine, TOPICS, lambda c, out: cancel_order(c, out, "SO-100003", "fraud"))
    late = OrderHeld(order="SO-100003", reason="missing", user="ben", order_version=99)
    refused = apply(demo_engine, "pk-01", [envelope("pk-01", 2, late, order_version=99)])
    assert "cancelled; nothing can change it" in refused.outcomes[0][1].note


def test_a_task_reassigned_goes_to_the_device_of_the_new_picker(demo_engine: Engine) -> None:
    report = allocate(demo_engine, SITE)
    task_id, holder = sorted(report.assigned.items())[0]
    target = next(d for d in ("hh-01", "hh-02", "hh-03", "hh-04") if d != holder)
    apply(demo_engine, target, [envelope(target, 1, UserLoggedIn(user="sam", role="picker"))])
    with demo_engine.connect() as conn:
        version = conn.execute(
            select(TASKS.c.version).where(TASKS.c.task_id == task_id)
        ).scalar_one()
    move = TaskReassigned(task=task_id, to_user="sam", user="grace", task_version=version)
    result = apply(demo_engine, "sv-01", [envelope("sv-01", 1, move)])
    assert result.outcomes[0][1].kind == "applied"
    with demo_engine.connect() as conn:
        row = conn.execute(select(TASKS).where(TASKS.c.task_id == task_id)).one()
    assert (row.assigned_to, row.lease_device) == ("sam", target)
    told_old = [
        json.loads(m.payload)["item"] for m in result.messages if m.topic == TOPICS.push(holder)
    ]
    told_new = [
        json.loads(m.payload)["item"] for m in result.messages if m.topic == TOPICS.push(target)
    ]
    assert [i["kind"] for i in told_old] == ["task.cancelled"]
    assert told_new[-1]["kind"] == "task.assigned" and told_new[-1]["task"]["task_id"] == task_id
    stale = apply(demo_engine, "sv-01", [envelope("sv-01", 2, move)])
    assert "changed since it was seen" in stale.outcomes[0][1].note


def test_facts_about_a_held_order_are_recorded_and_move_it_nowhere(demo_engine: Engine) -> None:
    device, task, lines, seq = start_task(demo_engine, "SO-100003")
    version = order_row(demo_engine, "SO-100003").version
    hold = OrderHeld(
        order="SO-100003", reason="customer called", user="grace", order_version=version
    )
    apply(demo_engine, "sv-01", [envelope("sv-01", 1, hold, order_version=version)])
    held = order_row(demo_engine, "SO-100003")
    assert (held.state, held.held_from) == ("held", "allocated")
    picks = [
        pick(
            "SO-100003",
            ln.sku,
            task=task.task_id,
            line=ln.line_id,
            qty=ln.qty,
            location=ln.location,
        )
        for ln in lines
    ]
    packer = [
        PackCompleted(order="SO-100003", station="PACK-01", carton="CTN-M", weight_g=9, user="ben"),
        LabelConfirmed(job="J-1", order="SO-100003", tracking=TRACKING, user="ben"),
    ]
    facts = apply(demo_engine, device, [envelope(device, seq + i, e) for i, e in enumerate(picks)])
    facts.outcomes += apply(
        demo_engine, "pk-01", [envelope("pk-01", i + 1, e) for i, e in enumerate(packer)]
    ).outcomes
    assert {o.kind for _s, o in facts.outcomes} == {"applied"}
    after = order_row(demo_engine, "SO-100003")
    assert (after.state, after.version, after.held_from) == ("held", held.version, "allocated")
    approve = ShortApproved(order="SO-100003", user="grace", order_version=after.version)
    refused = apply(demo_engine, "sv-01", [envelope("sv-01", 2, approve)])
    assert refused.outcomes[0][1].note == "order SO-100003 is held, not short"
    release = HoldReleased(order="SO-100003", user="grace", order_version=after.version)
    apply(demo_engine, "sv-01", [envelope("sv-01", 3, release)])
    assert order_row(demo_engine, "SO-100003").state == "allocated"
