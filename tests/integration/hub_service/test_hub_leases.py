"""Leases of tasks in progress: renewed by the holder's heartbeats while it is online, so a
slow picker keeps the task; taken back for another picker once the holder was away longer
than the lease."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hub_builders import SITE, apply, envelope, start_task
from sqlalchemy import Engine, select, update

from floor_app.domain.events import TaskStarted
from hub import Receiver, allocate
from hub.handlers import HandlerSettings
from hub.tables import PickTaskRow, table_of
from sync.protocol import DeviceStatus, Health, Topics, encode

pytestmark = pytest.mark.integration

TOPICS = Topics(SITE)
TASKS = table_of(PickTaskRow)
LEASE_S = 600.0


def status(receiver: Receiver, device: str, state: str = "online") -> None:
    handled = receiver.handle(
        TOPICS.status(device),
        encode(DeviceStatus(device_id=device, state=state, epoch=1, health=Health(user="alice"))),
    )
    assert handled.note == "kept", handled.note


def task_row(engine: Engine, task_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(TASKS).where(TASKS.c.task_id == task_id)).one()


def lease_runs_out_in(engine: Engine, task_id: str, seconds: float) -> None:
    """The holder sent no event for a long time: its lease is about to run out (or has)."""
    with engine.begin() as conn:
        conn.execute(
            update(TASKS)
            .where(TASKS.c.task_id == task_id)
            .values(lease_expires_at=time.time() + seconds)
        )


def claim(engine: Engine, device: str, task: Any, *, now: float) -> Any:
    row = task_row(engine, task.task_id)
    started = TaskStarted(task=task.task_id, user="sam", task_version=row.version + 1)
    return apply(engine, device, [envelope(device, 1, started)], now=now).outcomes[0][1]


def test_heartbeats_of_a_slow_picker_keep_its_task(demo_engine: Engine) -> None:
    holder, task, _lines, _seq = start_task(demo_engine, "SO-100003")
    other = next(d for d in ("hh-01", "hh-02", "hh-03", "hh-04") if d != holder)
    receiver = Receiver(demo_engine, SITE, settings=HandlerSettings(lease_s=LEASE_S))
    lease_runs_out_in(demo_engine, task.task_id, 1.0)
    status(receiver, holder)  # a heartbeat, no event
    renewed = task_row(demo_engine, task.task_id).lease_expires_at
    assert renewed > time.time() + LEASE_S / 2
    later = time.time() + LEASE_S / 2  # long after the lease would have run out
    outcome = claim(demo_engine, other, task, now=later)
    assert outcome.kind == "refused"
    assert f"leased to device {holder}" in outcome.note
    report = allocate(demo_engine, SITE, now=later)
    assert task.task_id not in report.expired
    row = task_row(demo_engine, task.task_id)
    assert (row.state, row.lease_device) == ("in_progress", holder)


def test_the_heartbeat_of_another_device_renews_nothing(demo_engine: Engine) -> None:
    holder, task, _lines, _seq = start_task(demo_engine, "SO-100003")
    other = next(d for d in ("hh-01", "hh-02", "hh-03", "hh-04") if d != holder)
    receiver = Receiver(demo_engine, SITE, settings=HandlerSettings(lease_s=LEASE_S))
    lease_runs_out_in(demo_engine, task.task_id, 1.0)
    before = task_row(demo_engine, task.task_id).lease_expires_at
    status(receiver, other)
    status(receiver, holder, "offline")
    assert task_row(demo_engine, task.task_id).lease_expires_at == before


def test_a_task_in_progress_goes_to_another_picker_when_its_device_was_away_too_long(
    demo_engine: Engine,
) -> None:
    holder, task, _lines, _seq = start_task(demo_engine, "SO-100003")
    other = next(d for d in ("hh-01", "hh-02", "hh-03", "hh-04") if d != holder)
    receiver = Receiver(demo_engine, SITE, settings=HandlerSettings(lease_s=LEASE_S))
    status(receiver, holder)
    status(receiver, holder, "offline")  # its will: gone
    status(receiver, other)  # online: allocation prefers it
    lease_runs_out_in(demo_engine, task.task_id, -1.0)
    report = allocate(demo_engine, SITE)
    assert task.task_id in report.expired
    assert report.assigned[task.task_id] == other
    row = task_row(demo_engine, task.task_id)
    assert (row.state, row.lease_device) == ("assigned", other)
    told = [
        json.loads(m.payload)["item"] for m in report.messages if m.topic == TOPICS.push(holder)
    ]
    assert [t["kind"] for t in told] == ["task.cancelled"]
    assert f"device {holder} was away longer than its lease" in told[0]["reason"]
    given = [
        json.loads(m.payload)["item"] for m in report.messages if m.topic == TOPICS.push(other)
    ]
    assert "task.assigned" in [g["kind"] for g in given]


def test_an_online_device_keeps_its_task_when_a_heartbeat_is_late(demo_engine: Engine) -> None:
    holder, task, _lines, _seq = start_task(demo_engine, "SO-100003")
    status(Receiver(demo_engine, SITE), holder)
    lease_runs_out_in(demo_engine, task.task_id, -1.0)
    report = allocate(demo_engine, SITE)
    assert task.task_id not in report.expired
    row = task_row(demo_engine, task.task_id)
    assert (row.state, row.lease_device) == ("in_progress", holder)
    assert row.lease_expires_at > time.time()
