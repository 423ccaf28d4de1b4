"""Supervisor decisions reach the hub with their reason codes and are recorded with who and
when, and published (retained) for the boards; the hub's device roster lists every
registered device, also those offline or never seen, and is republished when it changes."""

from __future__ import annotations

import json
import time

import pytest
from hub_builders import SITE, apply, envelope, order_row
from sqlalchemy import Engine, select

from floor_app.domain.events import HoldReleased, OrderHeld, PackCompleted, UserLoggedIn
from hub import run_transaction
from hub.presence import record_presence
from hub.roster import RosterPublisher, device_roster
from hub.tables import DecisionRow, table_of
from sync.protocol import DecisionLog, DeviceStatus, Topics, decode

pytestmark = pytest.mark.integration

TOPICS = Topics(SITE)
DECISIONS = table_of(DecisionRow)


def test_decisions_are_recorded_with_reason_who_and_when_and_published(
    demo_engine: Engine,
) -> None:
    version = order_row(demo_engine, "SO-100003").version
    hold = OrderHeld(order="SO-100003", reason="damaged item", user="ben", order_version=version)
    apply(demo_engine, "pk-01", [envelope("pk-01", 1, hold, order_version=version)])
    held = order_row(demo_engine, "SO-100003").version
    stale = HoldReleased(order="SO-100003", user="grace", order_version=held, reason="item_found")
    release = HoldReleased(order="SO-100003", user="grace", order_version=held, reason="checked_ok")
    result = apply(
        demo_engine, "sv-01", [envelope("sv-01", 1, release), envelope("sv-01", 2, stale)]
    )
    assert [o.kind for _s, o in result.outcomes] == ["applied", "refused"]
    weighed = PackCompleted(
        order="SO-100004",
        station="PACK-01",
        carton="CTN-M",
        weight_g=1240,
        user="ben",
        weight_override_by="grace",
        weight_override_reason="scale_fault",
    )
    plain = PackCompleted(
        order="SO-100005", station="PACK-01", carton="CTN-M", weight_g=9, user="ben"
    )
    packed = apply(
        demo_engine, "pk-01", [envelope("pk-01", 2, weighed), envelope("pk-01", 3, plain)]
    )
    rows = run_transaction(
        demo_engine, lambda c: c.execute(select(DECISIONS).order_by(DECISIONS.c.id)).all()
    )
    assert [(r.kind, r.subject, r.reason, r.user_id, r.device_id, r.seq) for r in rows] == [
        ("release_hold", "SO-100003", "checked_ok", "grace", "sv-01", 1),
        ("accept_weight", "SO-100004", "scale_fault", "grace", "pk-01", 2),
    ]
    assert rows[1].detail == "1240 g" and rows[1].device_at <= rows[1].at <= time.time()
    [published] = [m for m in packed.messages if m.topic == TOPICS.decisions]
    assert published.retain
    log = decode(DecisionLog, published.payload)
    assert [(d.kind, d.subject, d.reason, d.user) for d in log.decisions] == [
        ("accept_weight", "SO-100004", "scale_fault", "grace"),  # newest first
        ("release_hold", "SO-100003", "checked_ok", "grace"),
    ]
    assert log.decisions[0].event_id == envelope("pk-01", 2, weighed).event_id
    # a batch without a decision publishes no log
    again = PackCompleted(
        order="SO-100006", station="PACK-01", carton="CTN-M", weight_g=9, user="ben"
    )
    quiet = apply(demo_engine, "pk-01", [envelope("pk-01", 4, again)])
    assert all(m.topic != TOPICS.decisions for m in quiet.messages)


def test_the_roster_lists_every_registered_device_as_the_hub_knows_it(
    demo_engine: Engine,
) -> None:
    now = time.time()
    online = DeviceStatus(device_id="hh-01", state="online", epoch=3, at=now)
    gone = DeviceStatus(device_id="hh-02", state="offline", epoch=1, at=now, reason="shutdown")
    run_transaction(demo_engine, lambda c: record_presence(c, online, now))
    run_transaction(demo_engine, lambda c: record_presence(c, gone, now - 60))
    apply(demo_engine, "hh-01", [envelope("hh-01", 1, UserLoggedIn(user="alice", role="picker"))])
    roster = run_transaction(demo_engine, lambda c: device_roster(c, now))
    by_id = {d.device_id: d for d in roster.devices}
    assert sorted(by_id) == ["hh-01", "hh-02", "hh-03", "hh-04", "pk-01", "pk-02", "sv-01"]
    assert (by_id["hh-01"].state, by_id["hh-01"].user, by_id["hh-01"].role) == (
        "online",
        "alice",
        "picker",
    )
    assert (by_id["hh-02"].state, by_id["hh-02"].reason) == ("offline", "shutdown")
    assert by_id["hh-02"].seen_at == pytest.approx(now - 60)
    assert (by_id["pk-01"].state, by_id["pk-01"].seen_at, by_id["pk-01"].station) == (
        "unknown",
        None,
        "PACK-01",
    )
    json.loads(roster.model_dump_json())  # it is a message as any other

    publisher = RosterPublisher()
    assert publisher.due(roster)
    assert not publisher.due(roster.model_copy(update={"at": now + 5}))  # nothing changed
    later = run_transaction(
        demo_engine,
        lambda c: (
            record_presence(c, DeviceStatus(device_id="pk-01", state="online", epoch=1), now),
            device_roster(c, now + 10),
        )[1],
    )
    assert publisher.due(later)
    publisher.forget()  # a new connection: published again
    assert publisher.due(later)
