"""Sync: offline backlog drain vs plain paho QoS 1, live commit-to-ack latency, hub apply rate.

``floor-bench sync --json`` starts its own Mosquitto on a free loopback port and prints one
JSON object with:

* ``drain_events_per_s``, ``drain_seconds``: ``--events`` (50,000) events committed on one
  device while it is offline, then the sync agent connects; time until the hub acknowledged
  the last one;
* ``plain_paho_msgs_per_s``: the same number of messages (one event envelope each) sent with
  plain paho-mqtt QoS 1 from a publisher to a subscriber through the same broker;
  ``drain_ratio`` is the first rate over the second (goal: at least 2);
* ``live_p50_ms``, ``live_p99_ms``: one event committed every 20 ms (50/s); the time from
  the local commit returning to the hub's ack being recorded on the device (goal: p99 under
  20 ms on loopback);
* ``hub_pg_events_per_s``: the hub's apply rate on PostgreSQL with 100 simulated devices
  (:func:`bench.hub_apply.measure_apply_rate`; null, with ``hub_pg_note``, when PostgreSQL is not
  reachable).

The drain and the live latency run against the real hub in its own process, as it is
deployed: ``floor-hub run --demo`` on a SQLite file (WAL, ``synchronous=FULL``) connected to
the bench's broker. The bench process holds only the devices' side (store and sync agent),
so the two do not share one interpreter lock. ``hub_summary`` is the hub's closing line
(batches, events applied, duplicates, gaps).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from floor_app.domain.events import PickConfirmed
from floor_app.store import Store
from sync.device import AgentOptions, SyncAgent
from sync.mqtt import LinkOptions, parse_broker_url
from sync.protocol import Topics

SITE = "dc1"
DEVICE = "hh-01"
LIVE_DEVICE = "hh-02"
MOSQUITTO = os.environ.get("FLOOR_MOSQUITTO", "/usr/sbin/mosquitto")


# -- a broker of our own ----------------------------------------------------------------


class Broker:
    """Mosquitto on a free loopback port with persistence off and big queues."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        conf = folder / "mosquitto.conf"
        user = f"user {os.environ.get('USER', 'root')}\n" if os.geteuid() == 0 else ""
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nset_tcp_nodelay true\n"
            "allow_anonymous true\npersistence false\n"
            "max_queued_messages 1000000\nmax_queued_bytes 0\nmax_inflight_messages 0\n"
            f"message_size_limit 1048576\n{user}log_dest none\n"
        )
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)


# -- the hub ----------------------------------------------------------------------------


class HubProcess:
    """``floor-hub run --demo`` on a SQLite file, in its own process, as deployed.

    The hub says ``READY=1`` on ``$NOTIFY_SOCKET`` (the sd_notify protocol it speaks to
    systemd) once it is connected and subscribed; the bench listens on a socket of its own
    and starts measuring only then. The demo site registers the bench's devices (``hh-01``,
    ``hh-02``); allocation is off, as nothing here needs tasks. ``extra`` options come last
    and win (``--allocate-every 0.5``, ``--demo-orders 0``).
    """

    def __init__(
        self, broker_url: str, folder: Path, timeout: float = 60.0, *, extra: Sequence[str] = ()
    ) -> None:
        self.db_url = f"sqlite:///{folder / 'hub.db'}"
        self.log_path = folder / "hub.log"
        notify_path = folder / "hub-notify.sock"
        self._notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._notify.bind(str(notify_path))
        env = {**os.environ, "NOTIFY_SOCKET": str(notify_path)}
        env.pop("WATCHDOG_USEC", None)
        command = [
            *hub_command(),
            "run",
            "--demo",
            "--db",
            self.db_url,
            "--broker",
            broker_url,
            "--site",
            SITE,
            "--allocate-every",
            "0",
            "--metrics-port",
            "-1",
            *extra,
        ]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            self._wait_ready(timeout)
        except RuntimeError:
            self.proc.kill()
            self.proc.wait()
            self._notify.close()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self._notify.settimeout(0.2)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"floor-hub exited with status {self.proc.returncode}: {self.log_tail()}"
                )
            try:
                message = self._notify.recv(4096).decode(errors="replace")
            except TimeoutError:
                continue
            if "READY=1" in message.splitlines():
                return
        raise RuntimeError(f"floor-hub was not ready within {timeout:.0f}s: {self.log_tail()}")

    def log_tail(self) -> str:
        """The end of the hub's output, for error messages."""
        text = self.log_path.read_text(errors="replace").strip()
        return text[-1500:] or "(no output)"

    def stop(self) -> str:
        """SIGTERM, as systemd stops it; the hub's closing line (batches, events applied)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"floor-hub did not stop within 30s: {self.log_tail()}") from None
        finally:
            self._notify.close()
        if code != 0:
            raise RuntimeError(f"floor-hub exited with status {code}: {self.log_tail()}")
        lines = [ln for ln in self.log_tail().splitlines() if "stopped after" in ln]
        return lines[-1].removeprefix("floor-hub: ") if lines else ""


def hub_command() -> list[str]:
    """``floor-hub`` next to this Python, else ``python -m hub``."""
    exe = Path(sys.executable).with_name("floor-hub")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "hub"]


def hub_pg_rate(devices: int) -> tuple[float | None, str]:
    """The hub's apply rate on PostgreSQL (:func:`bench.hub_apply.measure_apply_rate`)."""
    from bench.hub_apply import measure_apply_rate

    try:
        db_url = os.environ.get("FLOOR_BENCH_PG_URL")
        rate = measure_apply_rate(devices=devices, db_url=db_url).events_per_s
    except Exception as exc:  # PostgreSQL not reachable ...
        return None, f"hub apply-rate benchmark failed: {exc}"
    return rate, ""


# -- the measurements -------------------------------------------------------------------


def fill_outbox(store: Store, n: int) -> None:
    event = PickConfirmed(
        task="PT-0001",
        line="PT-0001-SO-100001-1",
        order="SO-100001",
        sku="SKU-00001",
        location="A-01-01-1-A",
        qty=1,
        tote_position=1,
        user="alice",
    )
    done = 0
    while done < n:
        with store.unit_of_work() as uow:
            for _ in range(min(1000, n - done)):
                uow.emit(event)
                done += 1
            uow.commit()


def settings(url: str) -> AgentOptions:
    link = LinkOptions(broker=parse_broker_url(url))
    return AgentOptions(link=link, site=SITE, app_version="bench", heartbeat_s=60)


def measure_drain(url: str, folder: Path, events: int) -> tuple[float, float]:
    store = Store.open(folder / "drain.db", device_id=DEVICE, site=SITE)
    fill_outbox(store, events)
    agent = SyncAgent(store, settings(url))
    started = time.perf_counter()
    agent.start()
    ok = agent.wait_acked(events, 600)
    seconds = time.perf_counter() - started
    agent.stop()
    store.close()
    if not ok:
        raise RuntimeError(f"drain did not finish: {agent.status()}")
    return seconds, events / seconds


def measure_plain_paho(url: str, events: int) -> float:
    address = parse_broker_url(url)
    topics = Topics(SITE)
    event = PickConfirmed(
        task="PT-0001",
        line="PT-0001-SO-100001-1",
        order="SO-100001",
        sku="SKU-00001",
        location="A-01-01-1-A",
        qty=1,
        tote_position=1,
        user="alice",
    )
    body = json.dumps(
        {
            "seq": 1,
            "event_id": "01JAAAAAAAAAAAAAAAAAAAAAAA",
            "device_id": DEVICE,
            "type": event.TYPE,
            "kind": event.KIND,
            "order_id": event.order_id,
            "order_version": 3,
            "payload": event.payload(),
            "created_at": time.time(),
        }
    ).encode()
    received = 0
    done = threading.Event()

    def on_message(client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        nonlocal received
        received += 1
        if received >= events:
            done.set()

    sub = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id="bench-plain-sub",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    sub.on_message = on_message
    sub.connect(address.host, address.port)
    sub.subscribe(topics.evt("plain"), qos=1)
    sub.loop_start()
    pub = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id="bench-plain-pub",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    pub.connect(address.host, address.port)
    pub.loop_start()
    time.sleep(0.5)
    started = time.perf_counter()
    for _ in range(events):
        pub.publish(topics.evt("plain"), body, qos=1)
    finished = done.wait(600)
    seconds = time.perf_counter() - started
    for c in (pub, sub):
        c.disconnect()
        c.loop_stop()
    if not finished:
        raise RuntimeError(f"plain paho: only {received} of {events} arrived")
    return events / seconds


def measure_live(url: str, folder: Path, count: int, rate: float) -> tuple[float, float, float]:
    store = Store.open(folder / "live.db", device_id=LIVE_DEVICE, site=SITE)
    agent = SyncAgent(store, settings(url))
    committed: dict[int, float] = {}
    latencies: list[float] = []
    lock = threading.Lock()

    def on_acked(up_to: int) -> None:
        now = time.perf_counter()
        with lock:
            for seq in [s for s in committed if s <= up_to]:
                latencies.append((now - committed.pop(seq)) * 1000)

    agent.on_acked(on_acked)
    agent.start()
    if not agent.wait_online(10):
        raise RuntimeError("live: the agent did not come online")
    event = PickConfirmed(
        task="PT-0001",
        line="PT-0001-SO-100001-1",
        order="SO-100001",
        sku="SKU-00001",
        location="A-01-01-1-A",
        qty=1,
        tote_position=1,
        user="alice",
    )
    interval = 1.0 / rate
    next_at = time.perf_counter()
    last = 0
    for _ in range(count):
        delay = next_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        next_at += interval
        with store.unit_of_work() as uow:
            record = uow.emit(event)
            uow.commit()
            done_at = time.perf_counter()
        with lock:
            if record.seq > agent.acked_seq:
                committed[record.seq] = done_at
        last = record.seq
    agent.wait_acked(last, 30)
    agent.stop()
    store.close()
    lat = sorted(latencies)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return statistics.median(lat), p99, max(lat)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="floor-bench sync")
    p.add_argument("--events", type=int, default=50_000)
    p.add_argument("--live-events", type=int, default=1000)
    p.add_argument("--live-rate", type=float, default=50.0)
    p.add_argument("--pg-devices", type=int, default=100)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if not shutil.which(MOSQUITTO) and not Path(MOSQUITTO).exists():
        print(json.dumps({"error": f"needs the Mosquitto broker at {MOSQUITTO}"}))
        return 1
    with tempfile.TemporaryDirectory(prefix="floor-bench-sync-") as tmp:
        folder = Path(tmp)
        broker = Broker(folder)
        try:
            hub = HubProcess(broker.url, folder)
            try:
                drain_seconds, drain_rate = measure_drain(broker.url, folder, args.events)
                live_p50, live_p99, live_max = measure_live(
                    broker.url, folder, args.live_events, args.live_rate
                )
            finally:
                hub_summary = hub.stop()
            plain = measure_plain_paho(broker.url, args.events)
        finally:
            broker.stop()
    pg_rate, pg_note = hub_pg_rate(args.pg_devices)
    result = {
        "name": "sync",
        "events": args.events,
        "drain_events_per_s": round(drain_rate, 1),
        "drain_seconds": round(drain_seconds, 3),
        "plain_paho_msgs_per_s": round(plain, 1),
        "drain_ratio": round(drain_rate / plain, 2),
        "live_events": args.live_events,
        "live_rate_per_s": args.live_rate,
        "live_p50_ms": round(live_p50, 2),
        "live_p99_ms": round(live_p99, 2),
        "live_max_ms": round(live_max, 2),
        "hub_pg_events_per_s": round(pg_rate, 1) if pg_rate is not None else None,
        "hub": "floor-hub run (own process, SQLite)",
        "hub_summary": hub_summary,
        "hub_pg_note": pg_note,
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
