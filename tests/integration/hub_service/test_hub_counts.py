"""Cycle counts on a real database (SQLite and PostgreSQL): counts created by location, by
SKU, after a shortage and by ABC class; counted quantities accepted, recounted by another
user, adjusted with a reason and published for the supervisors; bad counts change nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest
from hub_builders import SITE, apply, envelope, pick, stock
from sqlalchemy import Engine, select

from floor_app.domain.counting import DAY_S, CountFrequency, CountTolerance
from floor_app.domain.events import (
    CountAcknowledged,
    DomainEvent,
    ShortReported,
    StockCounted,
    UserLoggedIn,
)
from hub import allocate, run_transaction
from hub.apply import ApplyResult, ApplySettings
from hub.counts import (
    CountRefused,
    CountSettings,
    count_location,
    count_sku,
    create_due,
)
from hub.outbound import Outbound
from hub.stock import set_baseline
from hub.stock_check import check_stock
from hub.stock_tasks import expire_stock_leases
from hub.tables import StockCountRow, StockLedgerRow, StockRow, StockTaskRow, table_of
from sync.protocol import CountDifference, Topics, decode

pytestmark = pytest.mark.integration

TOPICS = Topics(SITE)
TASKS = table_of(StockTaskRow)
COUNTS = table_of(StockCountRow)
LEDGER = table_of(StockLedgerRow)
STOCK = table_of(StockRow)
PLACE = ("A01-01-2A", "SKU-00001")


class Device:
    """A picker's device sending events in sequence."""

    def __init__(self, engine: Engine, device_id: str, user: str, **settings: Any) -> None:
        self.engine, self.device_id, self.user, self.seq = engine, device_id, user, 0
        self.settings = ApplySettings(counts=CountSettings(**settings))
        self.send(UserLoggedIn(user=user, role="picker"))

    def send(self, *events: DomainEvent) -> ApplyResult:
        records = []
        for ev in events:
            self.seq += 1
            records.append(envelope(self.device_id, self.seq, ev))
        return apply(self.engine, self.device_id, records, settings=self.settings)

    def count(self, task: str, location: str, sku: str, counted: int) -> ApplyResult:
        return self.send(StockCounted(task, location, sku, counted, self.user))


def create(engine: Engine, location: str, sku: str = "") -> str:
    rec, created = run_transaction(
        engine, lambda c: count_location(c, location, sku, now=time.time())
    )
    assert created
    return rec.task_id


def task_row(engine: Engine, task_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(TASKS).where(TASKS.c.task_id == task_id)).one()


def count_rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(select(COUNTS).order_by(COUNTS.c.id)).all()


def open_counts(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(
            select(TASKS)
            .where(TASKS.c.kind == "count")
            .where(TASKS.c.state.in_(("open", "assigned", "in_progress")))
            .order_by(TASKS.c.task_id)
        ).all()


def differences(result: ApplyResult) -> list[CountDifference]:
    return [
        decode(CountDifference, m.payload)
        for m in result.messages
        if "/counts/" in m.topic and m.retain
    ]


def outcome(result: ApplyResult) -> tuple[str, str]:
    assert len(result.outcomes) == 1
    o = result.outcomes[0][1]
    return o.kind, o.note


def check_ok(engine: Engine) -> None:
    report = run_transaction(engine, check_stock)
    assert report["ok"], json.dumps(report, indent=1)


# -- creating counts ------------------------------------------------------------------------


def test_a_location_count_is_created_once_with_the_expected_quantity_kept_on_the_hub(
    demo_engine: Engine,
) -> None:
    held = stock(demo_engine, *PLACE)[0]
    task_id = create(demo_engine, *PLACE)
    row = task_row(demo_engine, task_id)
    assert (row.kind, row.state, row.from_location, row.sku) == ("count", "open", *PLACE)
    assert row.expected == held and row.attempt == 1
    again, created = run_transaction(
        demo_engine, lambda c: count_location(c, PLACE[0], PLACE[1], now=time.time())
    )
    assert not created and again.task_id == task_id
    # the task goes to a picker's device without its expected quantity
    report = allocate(demo_engine, SITE)
    pushed = [json.loads(m.payload) for m in report.messages if m.topic.endswith("/push")]
    stock_work = [
        p["item"]["task"] for p in pushed if p["item"].get("kind") == "stock_task.assigned"
    ]
    counts = [t for t in stock_work if t["kind"] == "count"]  # (refills go out too)
    assert [t["task_id"] for t in counts] == [task_id]
    assert "expected" not in counts[0]


def test_counting_a_location_that_does_not_exist_is_refused_and_creates_nothing(
    demo_engine: Engine,
) -> None:
    with pytest.raises(CountRefused, match="location 'Z99-99-9Z' does not exist"):
        run_transaction(demo_engine, lambda c: count_location(c, "Z99-99-9Z", now=time.time()))
    with pytest.raises(CountRefused, match="SKU 'SKU-NOPE' is not known"):
        run_transaction(demo_engine, lambda c: count_sku(c, "SKU-NOPE", now=time.time()))
    assert open_counts(demo_engine) == []


def test_a_sku_count_counts_every_location_holding_it(demo_engine: Engine) -> None:
    made = run_transaction(demo_engine, lambda c: count_sku(c, "SKU-00001", now=time.time()))
    assert sorted(r.task.from_location for r, _ in made) == ["A01-01-2A", "A01-01-4A"]
    assert [(r.from_location, r.sku) for r in open_counts(demo_engine)] == [
        ("A01-01-2A", "SKU-00001"),
        ("A01-01-4A", "SKU-00001"),
    ]


def test_a_shortage_makes_an_urgent_count_of_its_location_and_sku(demo_engine: Engine) -> None:
    hh = Device(demo_engine, "hh-01", "alice")
    short = ShortReported("PT-X", "L1", "SO-NONE", "SKU-00001", "A01-01-2A", 2, "empty", "alice")
    hh.send(short, short)  # a second shortage at the same place makes no second count
    rows = open_counts(demo_engine)
    assert [(r.from_location, r.sku, r.origin, r.urgent) for r in rows] == [
        ("A01-01-2A", "SKU-00001", "shortage", True)
    ]
    assert rows[0].origin_ref == "hh-01#2"
    check_ok(demo_engine)


def test_abc_classes_decide_which_places_are_due(demo_engine: Engine) -> None:
    hh = Device(demo_engine, "hh-01", "alice")
    # SKU-00001 moves most (class A), SKU-00002 some (B), the rest not at all (C)
    hh.send(*[pick("SO-NONE", "SKU-00001", location="A01-01-2A", qty=8) for _ in range(4)])
    hh.send(pick("SO-NONE", "SKU-00002", location="A01-01-3A", qty=4))
    settings = CountSettings(
        frequency=CountFrequency(a_days=30, b_days=90, c_days=180, a_share=0.8, b_share=0.95),
        window_days=120,
    )
    soon = time.time() + 31 * DAY_S  # a month after the site was loaded
    made = run_transaction(demo_engine, lambda c: create_due(c, settings, soon))
    assert {(m["location"], m["sku"], m["class"]) for m in made} == {
        ("A01-01-2A", "SKU-00001", "A"),
        ("A01-01-4A", "SKU-00001", "A"),
    }
    assert {r.origin for r in open_counts(demo_engine)} == {"abc"}
    # three months on, class B is due too; the open A counts are not made again
    later = time.time() + 91 * DAY_S
    made = run_transaction(demo_engine, lambda c: create_due(c, settings, later))
    assert {m["sku"] for m in made} == {"SKU-00002"}
    assert {m["class"] for m in made} == {"B"}
    # half a year on every place is due, at most ``due_limit`` per pass
    limited = CountSettings(frequency=settings.frequency, window_days=120, due_limit=5)
    made = run_transaction(demo_engine, lambda c: create_due(c, limited, time.time() + 181 * DAY_S))
    assert len(made) == 5 and {m["class"] for m in made} == {"C"}


# -- applying counts ------------------------------------------------------------------------


def test_a_count_that_matches_sets_a_new_baseline_and_closes_the_task(
    demo_engine: Engine,
) -> None:
    held = stock(demo_engine, *PLACE)[0]
    task_id = create(demo_engine, *PLACE)
    result = Device(demo_engine, "hh-01", "alice").count(task_id, *PLACE, held)
    assert outcome(result)[0] == "applied" and differences(result) == []
    assert stock(demo_engine, *PLACE)[0] == held
    (row,) = count_rows(demo_engine)
    assert (row.expected, row.counted, row.outcome, row.user) == (held, held, "match", "alice")
    assert task_row(demo_engine, task_id).state == "done"
    with demo_engine.connect() as conn:
        newest = conn.execute(
            select(LEDGER)
            .where(LEDGER.c.location == PLACE[0])
            .where(LEDGER.c.sku == PLACE[1])
            .order_by(LEDGER.c.id.desc())
            .limit(1)
        ).one()
    assert (newest.kind, newest.qty, newest.delta, newest.reason) == ("count", held, 0, "count")
    check_ok(demo_engine)


def test_a_count_within_tolerance_adjusts_stock_and_reaches_the_supervisors(
    demo_engine: Engine,
) -> None:
    held = stock(demo_engine, *PLACE)[0]
    task_id = create(demo_engine, *PLACE)
    hh = Device(demo_engine, "hh-01", "alice", tolerance=CountTolerance(units=2))
    result = hh.count(task_id, *PLACE, held - 2)
    assert outcome(result)[0] == "applied"
    assert stock(demo_engine, *PLACE)[0] == held - 2
    (diff,) = differences(result)
    assert (diff.location, diff.sku, diff.expected, diff.counted, diff.user) == (
        *PLACE,
        held,
        held - 2,
        "alice",
    )
    assert "within tolerance" in diff.reason and diff.acknowledged_by == ""
    assert count_rows(demo_engine)[0].outcome == "adjusted"
    check_ok(demo_engine)


def test_a_difference_over_the_threshold_is_recounted_by_another_user_then_adjusted(
    demo_engine: Engine,
) -> None:
    held = stock(demo_engine, *PLACE)[0]
    task_id = create(demo_engine, *PLACE)
    alice = Device(demo_engine, "hh-01", "alice", tolerance=CountTolerance(units=1, percent=5))
    bob = Device(demo_engine, "hh-02", "bob", tolerance=CountTolerance(units=1, percent=5))
    first = alice.count(task_id, *PLACE, held - 7)
    kind, note = outcome(first)
    assert kind == "applied" and "recount" in note and differences(first) == []
    assert stock(demo_engine, *PLACE)[0] == held  # nothing changes before the recount
    (recount,) = open_counts(demo_engine)
    assert (recount.attempt, recount.not_user, recount.origin, recount.origin_ref) == (
        2,
        "alice",
        "recount",
        task_id,
    )
    assert task_row(demo_engine, task_id).state == "done"
    # the recount goes to a device where someone else than alice is logged in
    for device in ("hh-03", "hh-04"):
        Device(demo_engine, device, "alice")
    report = allocate(demo_engine, SITE)
    assert report.assigned[recount.task_id] == "hh-02"  # hh-01, hh-03, hh-04: alice
    # alice may not recount her own count
    refused = alice.count(recount.task_id, *PLACE, held - 7)
    kind, note = outcome(refused)
    assert kind == "rejected" and "must be done by another user" in note
    assert stock(demo_engine, *PLACE)[0] == held
    # bob's recount is accepted whatever it finds, and adjusts stock with the reason
    second = bob.count(recount.task_id, *PLACE, held - 6)
    assert outcome(second)[0] == "applied"
    assert stock(demo_engine, *PLACE)[0] == held - 6
    (diff,) = differences(second)
    assert (diff.expected, diff.counted, diff.user) == (held, held - 6, "bob")
    assert "recount by bob" in diff.reason and "first count by alice" in diff.reason
    assert [(r.attempt, r.user, r.outcome) for r in count_rows(demo_engine)] == [
        (1, "alice", "recount"),
        (2, "bob", "adjusted"),
    ]
    assert task_row(demo_engine, recount.task_id).state == "done"
    check_ok(demo_engine)
    # a supervisor acknowledges the difference: it is published again, acknowledged
    sv = Device(demo_engine, "sv-01", "sam")
    ack = sv.send(CountAcknowledged(count_id=diff.count_id, user="sam"))
    assert outcome(ack)[0] == "applied"
    (seen,) = differences(ack)
    assert seen.count_id == diff.count_id and seen.acknowledged_by == "sam"
    bad = sv.send(CountAcknowledged(count_id=count_rows(demo_engine)[0].id, user="sam"))
    assert outcome(bad) == (
        "rejected",
        f"count {count_rows(demo_engine)[0].id} changed no stock (recount): nothing to acknowledge",
    )


def test_picks_applied_before_the_count_are_in_what_it_is_compared_with(
    demo_engine: Engine,
) -> None:
    held = stock(demo_engine, *PLACE)[0]
    task_id = create(demo_engine, *PLACE)
    hh = Device(demo_engine, "hh-01", "alice")
    # one batch: a pick, then the count of what is left, then another pick
    result = hh.send(
        pick("SO-NONE", PLACE[1], location=PLACE[0], qty=3),
        StockCounted(task_id, *PLACE, held - 3, "alice"),
        pick("SO-NONE", PLACE[1], location=PLACE[0], qty=1),
    )
    assert [o.kind for _, o in result.outcomes] == ["applied"] * 3
    assert count_rows(demo_engine)[0].outcome == "match"
    assert stock(demo_engine, *PLACE)[0] == held - 4
    check_ok(demo_engine)


def test_a_count_below_the_picks_still_to_come_is_deferred_and_stock_stays_true(
    demo_engine: Engine,
) -> None:
    allocate(demo_engine, SITE)
    with demo_engine.connect() as conn:
        place = conn.execute(
            select(STOCK.c.location, STOCK.c.sku, STOCK.c.qty, STOCK.c.reserved)
            .where(STOCK.c.reserved > 1)
            .order_by(STOCK.c.location, STOCK.c.sku)
            .limit(1)
        ).one()
    task_id = create(demo_engine, place.location, place.sku)
    hh = Device(demo_engine, "hh-01", "alice", tolerance=CountTolerance(units=1000))
    result = hh.count(task_id, place.location, place.sku, place.reserved - 1)
    kind, note = outcome(result)
    assert kind == "applied" and "promised to picks not yet made here" in note
    assert stock(demo_engine, place.location, place.sku) == (place.qty, place.reserved)
    assert count_rows(demo_engine)[0].outcome == "deferred"
    (later,) = open_counts(demo_engine)
    assert (later.origin, later.origin_ref, later.attempt) == ("deferred", task_id, 1)
    assert task_row(demo_engine, task_id).state == "done"
    check_ok(demo_engine)


@pytest.mark.parametrize(
    ("location", "counted", "reason"),
    [
        ("A01-01-2A", -1, "a count cannot be negative (-1 of SKU-00001 at A01-01-2A)"),
        ("Z99-99-9Z", 5, "location 'Z99-99-9Z' does not exist at this site"),
    ],
)
def test_a_negative_count_or_an_unknown_location_is_rejected_and_changes_nothing(
    demo_engine: Engine, location: str, counted: int, reason: str
) -> None:
    held = stock(demo_engine, *PLACE)[0]
    task_id = create(demo_engine, *PLACE)
    result = Device(demo_engine, "hh-01", "alice").count(task_id, location, PLACE[1], counted)
    kind, note = outcome(result)
    assert kind == "rejected" and note.startswith(reason)
    assert stock(demo_engine, *PLACE)[0] == held
    assert count_rows(demo_engine) == []
    assert task_row(demo_engine, task_id).state == "open"
    check_ok(demo_engine)


def test_a_location_count_takes_each_sku_found_and_zero_for_those_not_found(
    demo_engine: Engine,
) -> None:
    location, other = PLACE[0], "SKU-00002"
    run_transaction(
        demo_engine,
        lambda c: set_baseline(c, location, other, 4, kind="load", reason="load", now=time.time()),
    )
    held = stock(demo_engine, *PLACE)[0]
    task_id = create(demo_engine, location)
    hh = Device(demo_engine, "hh-01", "alice", tolerance=CountTolerance(units=5))
    first = hh.count(task_id, location, PLACE[1], held)
    assert outcome(first)[0] == "applied"
    row = task_row(demo_engine, task_id)  # the location is not done yet: hh-01 holds it
    assert (row.state, row.lease_device) == ("in_progress", "hh-01")
    expired = run_transaction(
        demo_engine,
        lambda c: expire_stock_leases(c, Outbound(TOPICS), time.time() + 10 * DAY_S),
    )
    assert task_id not in expired
    done = hh.count(task_id, location, "", 0)
    assert outcome(done)[0] == "applied"
    assert stock(demo_engine, location, other)[0] == 0
    assert [(r.sku, r.counted, r.outcome) for r in count_rows(demo_engine)] == [
        (PLACE[1], held, "match"),
        (other, 0, "adjusted"),
    ]
    assert task_row(demo_engine, task_id).state == "done"
    check_ok(demo_engine)


def test_a_count_leased_elsewhere_is_taken_over_by_the_device_that_counted(
    demo_engine: Engine,
) -> None:
    held = stock(demo_engine, *PLACE)[0]
    task_id = create(demo_engine, *PLACE)
    Device(demo_engine, "hh-01", "alice")
    report = allocate(demo_engine, SITE)
    holder = report.assigned[task_id]
    other = "hh-02" if holder != "hh-02" else "hh-03"
    result = Device(demo_engine, other, "bob").count(task_id, *PLACE, held)
    assert outcome(result)[0] == "applied"
    told = [
        json.loads(m.payload)["item"] for m in result.messages if m.topic == TOPICS.push(holder)
    ]
    assert told == [
        {
            "kind": "stock_task.cancelled",
            "task_id": task_id,
            "reason": f"counted on device {other} meanwhile",
            "code": "count.counted_elsewhere",
            "params": {"device": other},
        }
    ]
    row = task_row(demo_engine, task_id)
    assert (row.state, row.lease_device, row.assigned_to) == ("done", other, "bob")


def test_floor_hub_stock_count_creates_counts_and_refuses_unknown_locations(
    demo_engine: Engine, db_url: str
) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hub", "stock", "count", "--db", db_url, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    bad = run("--location", "Z99-99-9Z")
    assert bad.returncode == 1
    assert "location 'Z99-99-9Z' does not exist" in bad.stderr
    assert "nothing was created" in bad.stderr
    assert open_counts(demo_engine) == []
    made = run("--sku", "SKU-00001", "--json")
    assert made.returncode == 0, made.stderr
    tasks = json.loads(made.stdout)["tasks"]
    assert [(t["location"], t["created"]) for t in tasks] == [
        ("A01-01-2A", True),
        ("A01-01-4A", True),
    ]
    (task,) = [t["task"] for t in tasks if t["location"] == "A01-01-2A"]
    held = stock(demo_engine, "A01-01-2A", "SKU-00001")[0]
    Device(demo_engine, "hh-01", "alice").count(task, "A01-01-2A", "SKU-00001", held + 2)
    listed = subprocess.run(
        [sys.executable, "-m", "hub", "stock", "counts", "--db", db_url, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    (result,) = json.loads(listed.stdout)["counts"]
    assert (result["expected"], result["counted"], result["outcome"], result["user"]) == (
        held,
        held + 2,
        "recount",
        "alice",
    )
    negative = run("--due", "--count-tolerance-units", "-1")
    assert negative.returncode == 2 and "count tolerance cannot be negative" in negative.stderr
    hub = subprocess.run(
        [sys.executable, "-m", "hub", "run", "--db", db_url, "--count-a-days", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert hub.returncode == 2 and "count frequencies must be positive days" in hub.stderr
