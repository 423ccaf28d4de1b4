"""Chaos: devices SIGKILLed at random, the broker restarted, the hub crashing between its
inbox commit and its ack. At the end every generated event was applied exactly once and in
order per device, and no label job was applied twice.

Runs the real processes: a Mosquitto started here, several ``floor-sim`` processes (one
device each) and the ``floor-hub`` command on SQLite, crashed by its own
``FLOOR_HUB_CRASH_AFTER_COMMIT_PROB`` hook and restarted by this test.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support.mosquitto import MosquittoBroker, require_mosquitto

pytestmark = [pytest.mark.chaos, pytest.mark.mqtt, pytest.mark.slow]

DEVICES = 3
EVENTS = 200
CHAOS_SECONDS = 45.0
HUB_CRASH_PROB = "0.02"


def hub_command() -> list[str]:
    exe = Path(sys.executable).with_name("floor-hub")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "hub"]


def require_hub() -> None:
    if importlib.util.find_spec("hub") is None:
        pytest.skip("needs the hub (hub, command floor-hub), which is not in this checkout yet")


class Supervised:
    """A process that is started again whenever it dies, until told to stop."""

    def __init__(self, cmd: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.cmd, self.log, self.env = cmd, log, env
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Supervised:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            with self.log.open("ab") as out:
                self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=out, env=self.env)
                while self.proc.poll() is None and not self._stop.is_set():
                    time.sleep(0.1)
            if not self._stop.is_set():
                self.restarts += 1
                time.sleep(0.2)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()

    def stop(self) -> None:
        self._stop.set()
        self.kill()
        self._thread.join(10)
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()


def sim_command(broker: MosquittoBroker, data: Path, index: int, timeout: float) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sim.floor_sim",
        "--devices",
        "1",
        "--first-device",
        str(index),
        "--events",
        str(EVENTS),
        "--rate",
        "20",
        "--broker",
        broker.url,
        "--data-dir",
        str(data),
        "--timeout",
        str(timeout),
    ]


def test_nothing_is_lost_or_applied_twice_under_chaos(tmp_path: Path) -> None:
    require_mosquitto()
    require_hub()
    rng = random.Random(int(os.environ.get("FLOOR_CHAOS_SEED", "4")))
    broker = MosquittoBroker(tmp_path / "broker").start()
    db_url = f"sqlite:///{tmp_path / 'hub.db'}"
    hub_env = {**os.environ, "FLOOR_HUB_CRASH_AFTER_COMMIT_PROB": HUB_CRASH_PROB}
    hub = Supervised(
        [*hub_command(), "--demo", "--db", db_url, "--broker", broker.url],
        tmp_path / "hub.log",
        hub_env,
    ).start()
    data = tmp_path / "sim"
    sims = [
        Supervised(sim_command(broker, data, i, 600), tmp_path / f"sim-{i}.log").start()
        for i in range(1, DEVICES + 1)
    ]
    try:
        deadline = time.monotonic() + CHAOS_SECONDS
        broker_restarts = 0
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(1.0, 4.0))
            roll = rng.random()
            if roll < 0.6:
                rng.choice(sims).kill()  # SIGKILL a device; its supervisor starts it again
            elif roll < 0.8 or broker_restarts == 0:
                broker.restart(hard=rng.random() < 0.5, down_for=rng.uniform(0.1, 1.5))
                broker_restarts += 1
        for sim in sims:  # let every device finish: a last run that waits for every ack
            sim.stop()
        hub_env_calm = {**os.environ}
        hub.stop()
        hub = Supervised(
            [*hub_command(), "--demo", "--db", db_url, "--broker", broker.url],
            tmp_path / "hub.log",
            hub_env_calm,
        ).start()
        reports = []
        for i in range(1, DEVICES + 1):
            done = subprocess.run(
                sim_command(broker, data, i, 90), capture_output=True, text=True, timeout=150
            )
            assert done.returncode == 0, done.stderr[-3000:]
            reports.append(json.loads(done.stdout))
    finally:
        for sim in sims:
            sim.stop()
        hub.stop()
        broker.kill()
    generated = {d: f["generated"] for r in reports for d, f in r["devices"].items()}
    assert all(
        f["acked"] == f["generated"] >= EVENTS for r in reports for f in r["devices"].values()
    )
    stats_run = subprocess.run(
        [*hub_command(), "stats", "--db", db_url, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert stats_run.returncode == 0, stats_run.stderr
    stats = json.loads(stats_run.stdout)
    for device, count in generated.items():
        figures = stats["devices"][device]
        # applied once each: as many applied as generated, the last one is the last generated
        assert (figures["applied"], figures["last_seq"]) == (count, count), (device, figures)
    assert_no_label_job_twice(tmp_path / "hub.db")
    check = subprocess.run(
        [*hub_command(), "stock", "check", "--db", db_url, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(check.stdout)
    assert (check.returncode, report["ok"]) == (0, True), json.dumps(report)[:3000]
    assert report["checked"]["events"] > 0


def assert_no_label_job_twice(db: Path) -> None:
    """Every label job id appears once among the hub's applied label.printed events."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        label_tables = [t for t in tables if "label" in t.lower()]
        assert label_tables, f"no label table in the hub database (tables: {tables})"
        for table in label_tables:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            key = next((c for c in columns if c in ("job_id", "job")), None)
            if key is None:
                continue
            twice = conn.execute(
                f"SELECT {key}, COUNT(*) FROM {table} GROUP BY {key} HAVING COUNT(*) > 1"
            ).fetchall()
            assert twice == [], f"label jobs applied twice in {table}: {twice[:5]}"
    finally:
        conn.close()
