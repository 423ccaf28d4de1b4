"""Prometheus metrics of the hub: what it applied, how far each device lags, what went wrong.

The hub owns one :class:`HubMetrics` (its own registry, so tests and several hubs in one
process do not share counters) and calls its update methods where things happen:

===========================================  =================================================
where in the hub                              call
===========================================  =================================================
after the commit that applied a batch         ``event_applied(device, type)`` per event, then
                                              ``device_applied_seq(device, up_to_seq)``
a duplicate acknowledged again                ``event_duplicate(device)``
a message dead-lettered                       ``dead_letter(reason, device)``
a ``DeviceStatus`` received (heartbeat/will)  ``device_status(status)``
after a change of order states (or timer)     ``orders_by_state({"picked": 12, ...})``
time taken to apply one batch                 ``observe_apply_seconds(seconds)``
a device revoked                              ``forget_device(device)``
===========================================  =================================================

and serves them with :func:`start_metrics_server` (``/metrics`` on loopback by default; put
a reverse proxy or the Prometheus server on the same host, or bind to the site network
explicitly).

Heartbeat-derived values are computed when Prometheus scrapes, with the hub's own monotonic
clock: the oldest unsynced event of a device is the age its last heartbeat reported plus the
time since that heartbeat arrived, so a device that went silent with a backlog shows a
growing age instead of a frozen one, and device clocks never enter the figure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from sync.protocol import DeviceStatus

PREFIX = "floor_hub"


@dataclass(slots=True)
class _DeviceView:
    """What the hub knows about one device's sync position (guarded by the metrics lock)."""

    applied_seq: int = 0
    reported_seq: int = 0
    outbox_depth: int = 0
    oldest_unsent_age_s: float | None = None
    heartbeat_at: float | None = None  # hub's monotonic clock
    heartbeat_wall: float | None = None  # hub's wall clock, for the timestamp metric
    online: bool = False
    epoch: int = 0


class _DeviceCollector(Collector):
    """Per-device gauges computed at scrape time from the latest heartbeat and apply position."""

    def __init__(self, metrics: HubMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        lag = GaugeMetricFamily(
            f"{PREFIX}_device_lag_events",
            "Events the device reports as written that the hub has not applied yet.",
            labels=["device"],
        )
        applied = GaugeMetricFamily(
            f"{PREFIX}_device_applied_seq",
            "Highest contiguous sequence of the device applied by the hub.",
            labels=["device"],
        )
        depth = GaugeMetricFamily(
            f"{PREFIX}_device_outbox_depth",
            "Unacknowledged events in the device's outbox (from its last heartbeat).",
            labels=["device"],
        )
        oldest = GaugeMetricFamily(
            f"{PREFIX}_device_oldest_unsynced_seconds",
            "Age of the device's oldest unsynced event: reported age plus time since the "
            "heartbeat (0 when its outbox was empty).",
            labels=["device"],
        )
        online = GaugeMetricFamily(
            f"{PREFIX}_device_online",
            "1 while the device's retained status says online.",
            labels=["device"],
        )
        seen = GaugeMetricFamily(
            f"{PREFIX}_device_last_heartbeat_timestamp_seconds",
            "When the hub last received a status from the device (Unix time, hub clock).",
            labels=["device"],
        )
        now = self._metrics.clock()
        for device, view in self._metrics.devices_snapshot().items():
            lag.add_metric([device], max(0, view.reported_seq - view.applied_seq))
            applied.add_metric([device], view.applied_seq)
            if view.heartbeat_at is None:
                continue
            depth.add_metric([device], view.outbox_depth)
            age = 0.0
            if view.oldest_unsent_age_s is not None and view.outbox_depth > 0:
                age = view.oldest_unsent_age_s + max(0.0, now - view.heartbeat_at)
            oldest.add_metric([device], age)
            online.add_metric([device], 1.0 if view.online else 0.0)
            if view.heartbeat_wall is not None:
                seen.add_metric([device], view.heartbeat_wall)
        yield from (lag, applied, depth, oldest, online, seen)


class HubMetrics:
    """The hub's metrics and the calls that update them (thread-safe)."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.clock = clock
        self.wall_clock = wall_clock
        self._lock = threading.Lock()
        self._devices: dict[str, _DeviceView] = {}
        self._order_states: set[str] = set()
        self._applied_keys: set[tuple[str, str]] = set()
        self._dead_keys: set[tuple[str, str]] = set()
        self._duplicate_devices: set[str] = set()
        r = self.registry
        self.events_applied = Counter(
            f"{PREFIX}_events_applied",
            "Events from devices applied to the hub's state, by device and event type.",
            ["device", "type"],
            registry=r,
        )
        self.events_duplicate = Counter(
            f"{PREFIX}_events_duplicate",
            "Events received again after they were applied (acknowledged, not applied).",
            ["device"],
            registry=r,
        )
        self.dead_letters = Counter(
            f"{PREFIX}_dead_letters",
            "Messages published to the dead-letter topic, by reason and device.",
            ["reason", "device"],
            registry=r,
        )
        self.orders = Gauge(
            f"{PREFIX}_orders",
            "Orders in the hub's database, by state.",
            ["state"],
            registry=r,
        )
        self.apply_seconds = Histogram(
            f"{PREFIX}_apply_seconds",
            "Time to apply one event batch in one database transaction.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
            registry=r,
        )
        r.register(_DeviceCollector(self))

    # -- updates (called by the hub) ------------------------------------------------------

    def _view(self, device: str) -> _DeviceView:
        view = self._devices.get(device)
        if view is None:
            view = self._devices[device] = _DeviceView()
        return view

    def event_applied(self, device: str, event_type: str, count: int = 1) -> None:
        """``count`` events of ``event_type`` from ``device`` were applied (after commit)."""
        if count < 0:
            raise ValueError("count must not be negative")
        self.events_applied.labels(device=device, type=event_type).inc(count)
        with self._lock:
            self._applied_keys.add((device, event_type))

    def event_duplicate(self, device: str, count: int = 1) -> None:
        """``count`` duplicates from ``device`` were acknowledged again and not applied."""
        self.events_duplicate.labels(device=device).inc(count)
        with self._lock:
            self._duplicate_devices.add(device)

    def dead_letter(self, reason: str, device: str | None = None) -> None:
        """One message was dead-lettered (``reason`` is the protocol's code, e.g. ``invalid``)."""
        self.dead_letters.labels(reason=reason, device=device or "").inc()
        with self._lock:
            self._dead_keys.add((reason, device or ""))

    def device_applied_seq(self, device: str, seq: int) -> None:
        """The hub's highest contiguous applied sequence for ``device`` (never goes back)."""
        with self._lock:
            view = self._view(device)
            view.applied_seq = max(view.applied_seq, seq)
            view.reported_seq = max(view.reported_seq, view.applied_seq)

    def device_status(self, status: DeviceStatus) -> None:
        """A retained status or heartbeat from a device (older epochs are ignored)."""
        with self._lock:
            view = self._view(status.device_id)
            if status.epoch < view.epoch:
                return
            view.epoch = status.epoch
            view.online = status.state == "online"
            view.heartbeat_at = self.clock()
            view.heartbeat_wall = self.wall_clock()
            health = status.health
            if health is not None:
                view.outbox_depth = health.outbox_depth
                view.oldest_unsent_age_s = health.oldest_unsent_age_s
                view.reported_seq = max(view.reported_seq, health.last_seq)

    def orders_by_state(self, counts: Mapping[str, int]) -> None:
        """The number of orders in each state now; states not named drop to 0."""
        with self._lock:
            for state in self._order_states - set(counts):
                self.orders.labels(state=state).set(0)
            for state, n in counts.items():
                self.orders.labels(state=str(state)).set(n)
            self._order_states |= {str(s) for s in counts}

    def observe_apply_seconds(self, seconds: float) -> None:
        """How long one batch took to apply."""
        self.apply_seconds.observe(seconds)

    def forget_device(self, device: str) -> None:
        """Drop every series of a device (after it is revoked or renamed)."""
        with self._lock:
            self._devices.pop(device, None)
            applied = {k for k in self._applied_keys if k[0] == device}
            dead = {k for k in self._dead_keys if k[1] == device}
            duplicate = device in self._duplicate_devices
            self._applied_keys -= applied
            self._dead_keys -= dead
            self._duplicate_devices.discard(device)
        for labels in applied:
            self.events_applied.remove(*labels)
        for labels in dead:
            self.dead_letters.remove(*labels)
        if duplicate:
            self.events_duplicate.remove(device)

    def devices_snapshot(self) -> dict[str, _DeviceView]:
        """A copy of every device's view (for the collector and for ``stats``)."""
        with self._lock:
            return {
                name: _DeviceView(**{f: getattr(v, f) for f in _DeviceView.__slots__})
                for name, v in self._devices.items()
            }


class MetricsServer:
    """The running ``/metrics`` HTTP server; :meth:`stop` shuts it down."""

    def __init__(self, server: WSGIServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread

    @property
    def host(self) -> str:
        """The address it is bound to."""
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        """The TCP port (useful with port 0)."""
        return int(self._server.server_address[1])

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def start_metrics_server(
    port: int, metrics: HubMetrics, *, host: str = "127.0.0.1"
) -> MetricsServer:
    """Serve ``metrics`` on ``http://host:port/metrics`` from a daemon thread.

    ``port=0`` picks a free port (see :attr:`MetricsServer.port`). A port in use raises
    ``OSError`` naming it.
    """
    if not 0 <= port <= 65535:
        raise ValueError(f"metrics port {port} is not a TCP port (0-65535)")
    try:
        server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    except OSError as exc:
        raise OSError(
            exc.errno, f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}"
        ) from exc
    return MetricsServer(server, thread)
