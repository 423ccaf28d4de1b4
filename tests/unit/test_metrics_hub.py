"""hub.metrics: the hub's Prometheus metrics, scraped over HTTP on loopback."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hub.metrics import HubMetrics, MetricsServer, start_metrics_server
from sync.protocol import DeviceStatus, Health

pytestmark = pytest.mark.integration  # a real HTTP server on loopback


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def metrics(clock: Clock) -> HubMetrics:
    return HubMetrics(clock=clock, wall_clock=lambda: 1_790_000_000.0)


@pytest.fixture
def server(metrics: HubMetrics) -> Iterator[MetricsServer]:
    srv = start_metrics_server(0, metrics)
    yield srv
    srv.stop()


def scrape(server: MetricsServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as resp:
        assert resp.status == 200
        text = resp.read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def heartbeat(device: str, epoch: int, **health: object) -> DeviceStatus:
    return DeviceStatus(
        device_id=device, state="online", epoch=epoch, at=5.0, health=Health(**health)
    )


def test_events_duplicates_dead_letters_and_orders(
    metrics: HubMetrics, server: MetricsServer
) -> None:
    metrics.event_applied("hh-01", "pick.confirmed", 3)
    metrics.event_applied("hh-01", "pick.short")
    metrics.event_applied("ps-02", "pack.completed", 2)
    metrics.event_duplicate("hh-01", 2)
    metrics.dead_letter("invalid", "hh-01")
    metrics.dead_letter("malformed_json")
    metrics.orders_by_state({"allocated": 7, "picked": 2})
    metrics.orders_by_state({"allocated": 5, "packed": 1})
    metrics.observe_apply_seconds(0.004)
    got = scrape(server)
    applied = "floor_hub_events_applied_total"
    assert got[(applied, (("device", "hh-01"), ("type", "pick.confirmed")))] == 3
    assert got[(applied, (("device", "hh-01"), ("type", "pick.short")))] == 1
    assert got[(applied, (("device", "ps-02"), ("type", "pack.completed")))] == 2
    assert got[("floor_hub_events_duplicate_total", (("device", "hh-01"),))] == 2
    dead = "floor_hub_dead_letters_total"
    assert got[(dead, (("device", "hh-01"), ("reason", "invalid")))] == 1
    assert got[(dead, (("device", ""), ("reason", "malformed_json")))] == 1
    assert got[("floor_hub_orders", (("state", "allocated"),))] == 5
    assert got[("floor_hub_orders", (("state", "picked"),))] == 0  # gone from the new count
    assert got[("floor_hub_orders", (("state", "packed"),))] == 1
    assert got[("floor_hub_apply_seconds_count", ())] == 1


def test_lag_and_oldest_unsynced_event_per_device_from_heartbeats(
    metrics: HubMetrics, server: MetricsServer, clock: Clock
) -> None:
    metrics.device_applied_seq("hh-01", 90)
    metrics.device_status(
        heartbeat("hh-01", 3, outbox_depth=40, oldest_unsent_age_s=12.5, last_seq=130)
    )
    metrics.device_status(heartbeat("ps-02", 1, outbox_depth=0, last_seq=8))
    metrics.device_applied_seq("ps-02", 8)
    clock.now += 30  # hh-01 goes silent with its backlog
    got = scrape(server)
    dev = (("device", "hh-01"),)
    assert got[("floor_hub_device_lag_events", dev)] == 40
    assert got[("floor_hub_device_outbox_depth", dev)] == 40
    assert got[("floor_hub_device_oldest_unsynced_seconds", dev)] == pytest.approx(42.5)
    assert got[("floor_hub_device_online", dev)] == 1
    assert got[("floor_hub_device_last_heartbeat_timestamp_seconds", dev)] == 1_790_000_000.0
    ps = (("device", "ps-02"),)
    assert got[("floor_hub_device_lag_events", ps)] == 0
    assert got[("floor_hub_device_oldest_unsynced_seconds", ps)] == 0

    metrics.device_applied_seq("hh-01", 130)  # drained
    metrics.device_applied_seq("hh-01", 100)  # a late, lower figure never goes back
    metrics.device_status(heartbeat("hh-01", 3, outbox_depth=0, last_seq=130))
    got = scrape(server)
    assert got[("floor_hub_device_lag_events", dev)] == 0
    assert got[("floor_hub_device_applied_seq", dev)] == 130
    assert got[("floor_hub_device_oldest_unsynced_seconds", dev)] == 0


def test_a_stale_will_does_not_overwrite_a_newer_heartbeat(
    metrics: HubMetrics, server: MetricsServer
) -> None:
    metrics.device_status(heartbeat("hh-01", 5, outbox_depth=1, oldest_unsent_age_s=1.0))
    metrics.device_status(
        DeviceStatus(device_id="hh-01", state="offline", epoch=4, reason="connection lost")
    )
    assert scrape(server)[("floor_hub_device_online", (("device", "hh-01"),))] == 1
    metrics.device_status(DeviceStatus(device_id="hh-01", state="offline", epoch=5))
    assert scrape(server)[("floor_hub_device_online", (("device", "hh-01"),))] == 0


def test_forget_device_removes_its_series(metrics: HubMetrics, server: MetricsServer) -> None:
    metrics.event_applied("hh-09", "pick.confirmed")
    metrics.event_duplicate("hh-09")
    metrics.dead_letter("invalid", "hh-09")
    metrics.device_status(heartbeat("hh-09", 1, outbox_depth=0))
    metrics.event_applied("hh-01", "pick.confirmed")
    metrics.forget_device("hh-09")
    got = scrape(server)
    assert not [key for key in got if ("device", "hh-09") in key[1]]
    assert (
        "floor_hub_events_applied_total",
        (("device", "hh-01"), ("type", "pick.confirmed")),
    ) in got


def test_two_hubs_in_one_process_do_not_share_counters() -> None:
    a, b = HubMetrics(), HubMetrics()
    a.event_applied("hh-01", "x")
    assert (
        a.registry.get_sample_value(
            "floor_hub_events_applied_total", {"device": "hh-01", "type": "x"}
        )
        == 1
    )
    assert (
        b.registry.get_sample_value(
            "floor_hub_events_applied_total", {"device": "hh-01", "type": "x"}
        )
        is None
    )


def test_bad_input(metrics: HubMetrics) -> None:
    with pytest.raises(ValueError, match="not a TCP port"):
        start_metrics_server(70000, metrics)
    with pytest.raises(ValueError, match="negative"):
        metrics.event_applied("hh-01", "x", -1)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OSError, match=f"cannot serve metrics on 127.0.0.1:{port}"):
            start_metrics_server(port, metrics)
