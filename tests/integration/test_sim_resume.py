"""floor-sim: killed with SIGKILL and started again on the same data folder, it loses nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.mosquitto import MosquittoBroker, require_mosquitto
from support.mqtt_peer import ScriptedHub

pytestmark = [pytest.mark.integration, pytest.mark.mqtt, pytest.mark.slow]


def sim_command(broker: MosquittoBroker, data: Path, events: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sim.floor_sim",
        "--devices",
        "2",
        "--events",
        str(events),
        "--broker",
        broker.url,
        "--data-dir",
        str(data),
        "--timeout",
        "60",
    ]


def test_a_killed_simulator_resumes_and_every_event_arrives_once_in_order(tmp_path: Path) -> None:
    require_mosquitto()
    broker = MosquittoBroker(tmp_path / "broker").start()
    hub = ScriptedHub(broker.host, broker.port).start()
    try:
        data = tmp_path / "sim"
        proc = subprocess.Popen(sim_command(broker, data, 150), stdout=subprocess.PIPE, text=True)
        assert hub.wait_for(lambda: sum(len(v) for v in hub.applied.values()) >= 20, 60)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        broker.restart(hard=True)  # and the broker goes away too
        done = subprocess.run(
            sim_command(broker, data, 150), capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-3000:]
        report = json.loads(done.stdout)
        assert set(report["devices"]) == {"hh-01", "hh-02"}
        for device, figures in report["devices"].items():
            assert figures["generated"] == figures["acked"] == 150
            assert hub.wait_for(lambda d=device: len(hub.applied[d]) == 150, 10)
            assert hub.applied[device] == list(range(1, 151))
        types = {t for batch in hub.event_types.values() for t in batch}
        assert {
            "task.started",
            "pick.confirmed",
            "task.completed",
            "pack.completed",
            "label.printed",
            "label.confirmed",
        } <= types
    finally:
        hub.stop()
        broker.kill()
    time.sleep(0)
