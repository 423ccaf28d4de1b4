"""``floor-hub --demo`` and ``floor-sim`` together: the simulated devices work the tasks the
hub leased them, so every claim is granted and every fact lands on a known task and order."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support.mosquitto import MosquittoBroker

from hub.database import make_engine
from hub.tables import PickTaskRow, table_of

pytestmark = [pytest.mark.integration, pytest.mark.mqtt, pytest.mark.slow]

DEVICES = ("hh-01", "hh-02")
EVENTS = 80
TASKS = table_of(PickTaskRow)


def hub_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "hub", *args]


def leased(db_url: str) -> dict[str, int]:
    """Device -> tasks leased to it."""
    engine = make_engine(db_url, busy_timeout_ms=120_000)  # the hub may hold the lock long
    try:
        with engine.connect() as conn:
            return {
                str(device): int(n)
                for device, n in conn.execute(
                    select(TASKS.c.lease_device, func.count())
                    .where(TASKS.c.lease_device.is_not(None))
                    .group_by(TASKS.c.lease_device)
                )
            }
    finally:
        engine.dispose()


@pytest.mark.timeout(1500)  # every wait below is for a condition, with a generous limit
def test_floor_sim_works_the_hubs_tasks_and_nothing_is_refused(
    db_url: str, broker: MosquittoBroker, tmp_path: Path
) -> None:
    log = tmp_path / "hub.log"
    out = log.open("w")
    hub = subprocess.Popen(
        hub_command(
            "--demo",
            "--db",
            db_url,
            "--broker",
            broker.url,
            "--metrics-port",
            "-1",
            "--allocate-every",
            "0.5",
        ),
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        # once the demo is loaded, the hub says it started; then it leases tasks
        while "floor-hub: site dc1" not in log.read_text() and hub.poll() is None:
            time.sleep(0.1)
        assert "floor-hub: site dc1" in log.read_text(), log.read_text()
        deadline = time.monotonic() + 300  # generous: conditions, not speed, are tested
        while not set(DEVICES) <= set(leased(db_url)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert set(DEVICES) <= set(leased(db_url))
        sim = subprocess.run(
            [
                sys.executable,
                "-m",
                "sim.floor_sim",
                "--devices",
                str(len(DEVICES)),
                "--events",
                str(EVENTS),
                "--broker",
                broker.url,
                "--data-dir",
                str(tmp_path / "sim"),
                "--timeout",
                "600",
            ],
            capture_output=True,
            text=True,
            timeout=660,
        )
    finally:
        hub.terminate()
        hub.wait(30)
        out.close()
    assert sim.returncode == 0, sim.stderr[-3000:]
    report = json.loads(sim.stdout)["devices"]
    assert {d: (f["generated"], f["acked"], f["refused"]) for d, f in report.items()} == {
        d: (EVENTS, EVENTS, 0) for d in DEVICES
    }
    stats_run = subprocess.run(
        hub_command("stats", "--db", db_url, "--json"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert stats_run.returncode == 0, stats_run.stderr
    stats = json.loads(stats_run.stdout)
    for device in DEVICES:
        figures = stats["devices"][device]
        assert (figures["applied"], figures["last_seq"]) == (EVENTS, EVENTS), figures
        assert (figures["refused"], figures["rejected"]) == (0, 0), figures
    assert stats["dead_letters"] == 0
    assert stats["tasks"].get("done", 0) >= len(DEVICES)  # the hub's own tasks, finished
    assert stats["return_tasks"] == 0  # nothing picked twice or beyond an order
