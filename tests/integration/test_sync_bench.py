"""``floor-bench sync``: the drain and the live latency against ``floor-hub run`` in its own
process, every figure in one JSON object; a hub that cannot start is reported with its output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import sync as sync_bench

pytestmark = [pytest.mark.integration, pytest.mark.mqtt, pytest.mark.slow]


def test_figures_against_the_hub_process(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--events", "1200", "--live-events", "30", "--live-rate", "100", "--pg-devices", "2"]
    assert sync_bench.main([*argv, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in (
        "drain_events_per_s",
        "plain_paho_msgs_per_s",
        "drain_ratio",
        "live_p50_ms",
        "live_p99_ms",
        "hub_pg_events_per_s",
    ):
        assert key in result
    assert result["drain_events_per_s"] > 0 and result["plain_paho_msgs_per_s"] > 0
    ratio = result["drain_events_per_s"] / result["plain_paho_msgs_per_s"]
    assert result["drain_ratio"] == round(ratio, 2)
    assert result["live_p50_ms"] <= result["live_p99_ms"] <= result["live_max_ms"]
    # every event of the drain device and of the live device was applied by the hub process,
    # once and in order
    assert result["hub_summary"].endswith("1230 events applied, 0 duplicates, 0 gaps")
    assert result["hub"].startswith("floor-hub run")


def test_a_hub_that_cannot_start_is_reported_with_its_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broker = sync_bench.Broker(tmp_path)
    try:
        (tmp_path / "hub.db").write_text("this is not a database")
        with pytest.raises(RuntimeError, match="floor-hub exited with status") as failure:
            sync_bench.HubProcess(broker.url, tmp_path, timeout=60)
    finally:
        broker.stop()
    assert "database" in str(failure.value)
