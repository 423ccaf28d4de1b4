"""The whole floor end to end: a real Mosquitto, ``floor-hub`` as its own process on a fresh
SQLite database with the demo site and no orders, the 200 demo orders taken in over MQTT
(``orders/in``), and ``floor-shift`` working them with four pickers' handhelds and two pack
stations, each on its own device store, until every order is labelled.

Then the hub's records are checked against what the devices did: every order labelled
with exactly one label job, recorded once, the one the station printed and scanned back;
every order picked into a tote scanned for it and the tote free again once packed; no
dead letters, refused claims or rejected events; and stock reconciled for every
(location, SKU): on hand is what the demo site started with minus the units the pickers
confirmed there, nothing stays reserved, nothing was short, and every unit ordered was
picked and packed.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from support.mosquitto import MosquittoBroker, require_mosquitto

from bench.sync import HubProcess
from floor_app.demo import build_demo_site
from sync.protocol import OrderIntake, Topics, encode

pytestmark = [pytest.mark.e2e, pytest.mark.mqtt, pytest.mark.slow]

SITE = "dc1"
PICKERS = 4
STATIONS = 2


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout)


def start_shift(
    broker: MosquittoBroker, data: Path, orders: int, log: Path
) -> subprocess.Popen[str]:
    """``floor-shift`` with its pickers and stations, until ``orders`` are labelled."""
    command = ["--pickers", str(PICKERS), "--stations", str(STATIONS), "--orders", str(orders)]
    # generous: a shift on a machine whose two cores are busy with other work is slow, and
    # the test is about what arrives, not how fast
    command += ["--broker", broker.url, "--data-dir", str(data), "--timeout", "900"]
    with log.open("w") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "sim.shift", *command],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )


def take_in(broker: MosquittoBroker, orders: list[OrderIntake]) -> None:
    """Send every order to the hub's intake topic as upstream would (QoS 1)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="upstream-e2e", protocol=MQTTProtocolVersion.MQTTv5
    )
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        sent = [client.publish(Topics(SITE).orders_in, encode(o), qos=1) for o in orders]
        for info in sent:
            info.wait_for_publish(120)
            assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def device_events(store: Path, event_type: str) -> list[dict[str, Any]]:
    return [
        json.loads(payload)
        for (payload,) in rows(store, f"SELECT payload FROM outbox WHERE type = '{event_type}'")
    ]


def work_the_floor(tmp_path: Path, orders: list[OrderIntake]) -> dict[str, Any]:
    """Broker, hub, intake of ``orders`` and a shift that labels them all: the shift's
    report, once the hub has stopped cleanly."""
    require_mosquitto()
    broker = MosquittoBroker(tmp_path / "broker").start()
    shift_log = tmp_path / "shift.log"
    hub: HubProcess | None = None
    shift: subprocess.Popen[str] | None = None
    try:
        # the demo site without its orders; ready (READY=1) once connected and subscribed
        hub = HubProcess(
            broker.url,
            tmp_path,
            timeout=300,
            extra=["--demo-orders", "0", "--allocate-every", "0.5"],
        )
        take_in(broker, orders)
        shift = start_shift(broker, tmp_path / "floor", len(orders), shift_log)
        try:
            out, _ = shift.communicate(timeout=1020)
        except subprocess.TimeoutExpired:
            shift.kill()
            shift.wait()
            pytest.fail(f"the shift did not end:\n{shift_log.read_text()[-20_000:]}")
        assert shift.returncode == 0, f"{out}\n{shift_log.read_text()}"
        assert "stopped after" in hub.stop()
        assert "Traceback" not in hub.log_path.read_text() + shift_log.read_text()
    finally:
        if shift is not None and shift.poll() is None:
            shift.kill()
            shift.wait()
        if hub is not None and hub.proc.poll() is None:
            hub.proc.kill()
            hub.proc.wait()
        broker.kill()
    report: dict[str, Any] = json.loads(out)
    return report


@pytest.mark.timeout(1800)  # conditions are waited for; a busy machine is only slower
def test_200_demo_orders_go_from_intake_to_labelled_with_stock_reconciled(
    tmp_path: Path,
) -> None:
    site = build_demo_site()
    assert len(site.orders) == 200
    report = work_the_floor(tmp_path, [OrderIntake.from_domain(o) for o in site.orders])
    db = tmp_path / "hub.db"
    db_url = f"sqlite:///{db}"
    floor = tmp_path / "floor"

    # the shift: every order labelled at a station, every event acknowledged, nothing refused
    assert report["labelled"] == 200 and report["complete"] is True
    devices = report["devices"]
    assert sorted(devices) == [f"hh-{n:02d}" for n in range(1, PICKERS + 1)] + [
        f"pk-{n:02d}" for n in range(1, STATIONS + 1)
    ]
    for device_id, figures in devices.items():
        assert figures["acked"] == figures["events"] > 0, (device_id, figures)
        assert (figures["refused"], figures["rejected"], figures["errors"]) == (0, 0, 0), figures
    assert sum(devices[f"pk-{n:02d}"]["orders"] for n in range(1, STATIONS + 1)) == 200
    assert all(devices[f"hh-{n:02d}"]["tasks"] > 0 for n in range(1, PICKERS + 1))
    # stations opened orders by the totes the pickers filled (the hub said which is which)
    assert sum(devices[f"pk-{n:02d}"]["by_tote"] for n in range(1, STATIONS + 1)) > 0

    # totes: each scanned for its order and granted, and free again once it was packed
    claims = rows(db, "SELECT outcome, count(*) FROM inbox WHERE type = 'tote.assigned' GROUP BY 1")
    assert [outcome for outcome, _ in claims] == ["applied"] and claims[0][1] >= 200
    assert rows(db, "SELECT state, count(*) FROM site_totes GROUP BY 1") == [
        ("free", len(site.totes))
    ]

    # the hub's own figures: all 200 labelled, no dead letters, no refused claims
    stats = run("-m", "hub", "stats", "--db", db_url, "--json")
    assert stats.returncode == 0, stats.stderr
    figures = json.loads(stats.stdout)
    assert figures["orders"] == {"labelled": 200}
    assert figures["orders_rejected"] == 0
    assert figures["dead_letters"] == 0, figures["dead_letters_by_code"]
    for device_id, f in figures["devices"].items():
        assert (f["refused"], f["rejected"], f["gaps"]) == (0, 0, 0), (device_id, f)
        sent = devices[device_id]["events"] if device_id in devices else 0  # sv-01: none
        assert f["applied"] == f["last_seq"] == sent, (device_id, f)

    # every label job recorded once, confirmed, one per order: the very jobs the stations
    # printed (one spooled file each) and scanned back
    labels = rows(db, "SELECT job_id, order_id, state, tracking FROM label_jobs")
    assert len(labels) == 200
    assert sorted(order for _, order, _, _ in labels) == sorted(o.order_id for o in site.orders)
    assert {state for _, _, state, _ in labels} == {"confirmed"}
    printed = rows(db, "SELECT payload, outcome, note FROM inbox WHERE type = 'label.printed'")
    assert len(printed) == 200
    assert all(outcome == "applied" and not note for _, outcome, note in printed)
    assert sorted(json.loads(p)["job"] for p, _, _ in printed) == sorted(j for j, *_ in labels)
    spooled = {
        f.stem
        for n in range(1, STATIONS + 1)
        for f in (floor / f"pk-{n:02d}-printer").glob("*.zpl")
    }
    assert spooled == {j for j, *_ in labels}
    confirmed = [
        e
        for n in range(1, STATIONS + 1)
        for e in device_events(floor / f"pk-{n:02d}.db", "label.confirmed")
    ]
    assert sorted((e["job"], e["tracking"]) for e in confirmed) == sorted(
        (j, t) for j, _, _, t in labels
    )

    # stock reconciled, per (location, sku), against what the pickers confirmed
    confirmations = [
        e
        for n in range(1, PICKERS + 1)
        for e in device_events(floor / f"hh-{n:02d}.db", "pick.confirmed")
    ]
    picked: Counter[tuple[str, str]] = Counter()
    for e in confirmations:
        picked[(e["location"], e["sku"])] += e["qty"]
    initial = {(r.location, r.sku): r.qty for r in site.stock}
    on_hand = {
        (loc, sku): (qty, reserved)
        for loc, sku, qty, reserved in rows(db, "SELECT location, sku, qty, reserved FROM stock")
    }
    assert set(on_hand) == set(initial)
    differences = {
        key: (initial[key], picked[key], on_hand[key][0])
        for key in initial
        if on_hand[key][0] != initial[key] - picked[key]
    }
    assert differences == {}
    assert sum(reserved for _, reserved in on_hand.values()) == 0
    ordered = sum(ln.qty for o in site.orders for ln in o.lines)
    assert sum(picked.values()) == ordered
    lines = rows(
        db, "SELECT sum(qty), sum(picked), sum(packed), sum(short), sum(reserved) FROM order_lines"
    )
    assert lines == [(ordered, ordered, ordered, 0, 0)]
    assert rows(db, "SELECT count(*) FROM shortages") == [(0,)]
    assert rows(db, "SELECT count(*) FROM return_tasks") == [(0,)]
    # and the hub's own reconciliation of on-hand against its ledger and every event agrees
    check = run("-m", "hub", "stock", "check", "--db", db_url, "--json")
    assert check.returncode == 0, check.stdout + check.stderr
    reconciled = json.loads(check.stdout)
    assert reconciled["ok"] is True
    assert reconciled["checked"]["events"] == len(confirmations)  # every pick, none else
    for problem in ("differences", "event_mismatches", "negative_on_hand", "reserved_over_on_hand"):
        assert reconciled[problem] == [], (problem, reconciled[problem])

    # for a recall: the trace of the lot most picked names every order that took some of
    # it (the pickers scanned no lots; each location holds one) with the units picked
    lot_of = {(r.location, r.sku): r.lot for r in site.stock}
    by_lot: Counter[str] = Counter()
    orders_of: dict[str, set[str]] = {}
    for e in confirmations:
        lot = lot_of[(e["location"], e["sku"])]
        by_lot[lot] += e["qty"]
        orders_of.setdefault(lot, set()).add(e["order"])
    lot, units = by_lot.most_common(1)[0]
    traced = run("-m", "hub", "trace", "--lot", lot, "--db", db_url, "--json")
    assert traced.returncode == 0, traced.stderr
    found = json.loads(traced.stdout)
    assert found["units_picked"] == units
    assert {o["order"] for o in found["orders"]} == orders_of[lot]
    assert {o["state"] for o in found["orders"]} == {"labelled"}
    assert all(o["tracking"] for o in found["orders"])

    # the stations were sent the lots picked for every order they packed (packing slips)
    traced = [
        json.loads(text)
        for n in range(1, STATIONS + 1)
        for (text,) in rows(
            floor / f"pk-{n:02d}.db", "SELECT traced FROM orders WHERE traced != ''"
        )
    ]
    assert len(traced) == 200
    assert sum(t["qty"] for units in traced for t in units if t["lot"]) == ordered
