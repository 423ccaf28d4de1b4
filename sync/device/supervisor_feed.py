"""The supervisor's live view of the whole site, over MQTT.

:class:`MqttSupervisorFeed` is a :class:`~floor_app.services.supervision.SupervisorFeed`
that adds what the broker knows to what the supervisor device's own store knows:

* **devices**: every device the hub knows, from its retained roster on ``devices``
  (:class:`DeviceRoster`: each registered device with the presence the hub last recorded
  and who is logged in), so a device that is off, or never came online, is listed too;
  and every device's retained ``dev/{device}/status`` (:class:`DeviceStatus`: online or
  offline, the connection epoch, and the heartbeat's health: devices, user, outbox depth
  and age), which is fresher than the roster and wins over it. Per device the highest
  epoch wins, so a late will of an older connection ("offline") never hides a newer
  "online"; within one epoch the latest message wins (the will comes after that
  connection's heartbeats). An "online" whose heartbeat is older than ``stale_after_s``
  shows as unknown. This device's own row comes from the local store (it knows its task
  and last scan).
* **waiting per stage** and **throughput**: every order's retained ``orders/{order}/status``
  (:class:`OrderStatus`; per order the highest version wins), merged with the orders of the
  local store (a local row with a higher version wins: a decision taken here and not yet
  published back). Orders packed and labelled in the last hour come from the statuses;
  units picked and the per-person figures only the local outbox knows.
* **exceptions**, the pickers and the **decisions** (approve short, release hold, reassign)
  are :class:`LocalSupervisorFeed`'s: each decision is one unit of work that records a
  claim in this device's outbox, which the sync agent sends to the hub. The exceptions also
  list every retained ``counts/{count}/difference`` (:class:`CountDifference`: stock an
  accepted count adjusted) until it comes back acknowledged; acknowledging one records a
  ``count.acknowledged`` fact the same way; and every order the hub published as held that
  this device does not hold (an order the hub held itself, e.g. no carrier service for its
  destination), with the hub's reason: releasing it records ``order.released`` with the
  version of that status.
* **history**: the decisions the hub recorded, from its retained ``decisions``
  (:class:`DecisionLog`: who decided what, why and when, on any device: a weight accepted
  at a pack station shows here), merged with this device's own not yet in it.

One thread drives the feed's own :class:`~sync.mqtt.MqttLink` (a connection of its own,
never the sync agent's, opened by :meth:`MqttSupervisorFeed.follow` when the board first
opens) with a clean session, so the retained topics are re-read on every connection;
messages are applied on the same thread, and the UI thread reads a snapshot under a lock. A
message that fails validation is counted (``bad_input``), never applied.
"""

from __future__ import annotations

import collections
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import select

from floor_app.domain.decisions import Decision, DecisionKind, ReasonCodes
from floor_app.domain.errors import DomainError
from floor_app.domain.events import HoldReleased
from floor_app.domain.order import OrderState
from floor_app.services.supervision import (
    BACKLOG_STATES,
    HISTORY_LIMIT,
    THROUGHPUT_WINDOW_S,
    Clock,
    CountDifferenceSeen,
    DecisionRecord,
    DevicePresence,
    FloorException,
    LocalSupervisorFeed,
    StageBacklog,
    Throughput,
)
from floor_app.store import Store
from floor_app.store.tables import OrderRow
from sync.mqtt import LinkOptions, MqttLink, Received
from sync.protocol import (
    CountDifference,
    DecisionLog,
    DeviceRoster,
    DeviceStatus,
    OrderStatus,
    ProtocolError,
    RosterDevice,
    Topics,
    decode,
)
from sync.protocol.topics import TopicError, TopicKind, check_level

from .agent import SyncAgent

log = logging.getLogger("floor.sync.device.supervisor_feed")

#: An "online" whose last heartbeat is older than this is shown as unknown.
STALE_AFTER_S = 90.0

#: Order states that count as a stage reached, for the throughput view.
_STAGE_REACHED = {OrderState.PACKED.value: "pack", OrderState.LABELLED.value: "label"}


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """Where the feed connects (its session always starts clean) and what it shows."""

    link: LinkOptions
    site: str
    #: The MQTT client id; default ``floor-{site}-{device}-supervisor``.
    client_id: str = ""
    stale_after_s: float = STALE_AFTER_S


class MqttSupervisorFeed(LocalSupervisorFeed):
    """The supervisor feed of a site over MQTT (see the module docstring). Thread-safe."""

    def __init__(
        self,
        store: Store,
        own: Callable[[], DevicePresence],
        settings: FeedSettings,
        *,
        clock: Clock = time.time,
        reasons: ReasonCodes | None = None,
        shared: SyncAgent | None = None,
    ) -> None:
        super().__init__(store, own, clock=clock, reasons=reasons)
        self.settings = settings
        self.topics = Topics(settings.site)
        self.device_id = store.device_id
        self._lock = threading.Lock()
        self._statuses: dict[str, DeviceStatus] = {}
        self._orders: dict[str, OrderStatus] = {}
        self._counts: dict[int, CountDifference] = {}
        self._roster: DeviceRoster | None = None
        self._decisions: DecisionLog | None = None
        self._reached: dict[tuple[str, str], float] = {}  # (order, stage) -> when
        self._bad: collections.Counter[str] = collections.Counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        device = self.device_id or "sup"
        subscriptions = [
            f"{self.topics.base}/dev/+/status",
            f"{self.topics.base}/orders/+/status",
            f"{self.topics.base}/counts/+/difference",
            self.topics.devices,
            self.topics.decisions,
        ]
        #: the device's sync agent whose connection the feed reads on (None: its own)
        self._shared = shared
        self._link: MqttLink | None = None
        if shared is not None:
            shared.follow(subscriptions, self._on_message)
        else:
            self._link = MqttLink(
                replace(settings.link, session_expiry_s=0),  # a reader: retained read afresh
                client_id=settings.client_id or f"floor-{settings.site}-{device}-supervisor",
                subscriptions=subscriptions,
                name="supervisor feed",
            )

    # -- lifecycle (any thread) -----------------------------------------------------------

    def start(self) -> None:
        """Connect and follow the site in a thread of its own (on the device's connection,
        the device's sync agent follows it)."""
        if self._link is None or (self._thread is not None and self._thread.is_alive()):
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="supervisor-feed", daemon=True)
        self._thread.start()

    def follow(self) -> None:
        """The board opened: connect and follow the site (see :meth:`start`)."""
        self.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Disconnect and stop the thread; idempotent."""
        self._stop.set()
        if self._link is not None:
            self._link.wake()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def online(self) -> bool:
        """Connected and subscribed."""
        if self._shared is not None:
            return self._shared.online
        return self._link is not None and self._link.online

    @property
    def last_error(self) -> str:
        """Why the feed is not connected, if it is not."""
        if self._shared is not None:
            return self._shared.status().last_error
        return self._link.last_error if self._link is not None else ""

    @property
    def bad_input(self) -> dict[str, int]:
        """Messages refused, by reason."""
        with self._lock:
            return dict(self._bad)

    def wait(self, check: Callable[[MqttSupervisorFeed], bool], timeout: float) -> bool:
        """Wait until ``check(self)`` holds (tests and tools); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check(self):
                return True
            time.sleep(0.02)
        return check(self)

    # -- the views (UI thread) ------------------------------------------------------------

    def devices(self) -> list[DevicePresence]:
        own = self._own()
        now = self.clock()
        with self._lock:
            statuses = dict(self._statuses)
            roster = self._roster
        known = {d.device_id: d for d in roster.devices if d.active} if roster else {}
        rows: dict[str, DevicePresence] = {}
        for device_id in set(known) | set(statuses):
            entry, status = known.get(device_id), statuses.get(device_id)
            if device_id == own.device_id:
                rows[device_id] = own if entry is None else replace(own, role=entry.role)
            elif status is not None:
                rows[device_id] = self._presence(status, now, entry)
            elif entry is not None:
                rows[device_id] = self._listed(entry, now)
        rows.setdefault(own.device_id, own)
        return [rows[d] for d in sorted(rows)]

    def _presence(
        self, status: DeviceStatus, now: float, entry: RosterDevice | None = None
    ) -> DevicePresence:
        health = status.health
        online: bool | None = status.state == "online"
        if online and now - status.at > self.settings.stale_after_s:
            online = None
        base = DevicePresence(
            status.device_id,
            online,
            user=entry.user if entry is not None else "",
            station=entry.station if entry is not None else "",
            role=entry.role if entry is not None else "",
            seen_age_s=max(0.0, now - status.at),
            note=status.reason if status.state == "offline" else "",
        )
        if health is None:
            return base
        return replace(
            base,
            user=health.user or base.user,
            outbox_depth=health.outbox_depth,
            oldest_unsent_age_s=health.oldest_unsent_age_s,
            health=dict(health.devices),
            app_version=health.app_version,
            battery_pct=health.battery_pct,
        )

    def _listed(self, entry: RosterDevice, now: float) -> DevicePresence:
        """A device only the hub's roster names (no status of its own was heard)."""
        online: bool | None = False
        if entry.state == "online":  # the hub heard it online, this feed did not
            seen = entry.seen_at
            online = None if seen is None or now - seen > self.settings.stale_after_s else True
        return DevicePresence(
            entry.device_id,
            online,
            user=entry.user,
            station=entry.station,
            role=entry.role,
            seen_age_s=None if entry.seen_at is None else max(0.0, now - entry.seen_at),
            note=entry.reason if entry.state != "unknown" else "never seen",
        )

    def history(self) -> list[DecisionRecord]:
        local = self.local_history()
        with self._lock:
            log_ = self._decisions
        merged = {r.event_id: r for r in local}
        for d in log_.decisions if log_ is not None else ():
            merged[d.event_id] = DecisionRecord(
                d.event_id,
                Decision(DecisionKind(d.kind), d.subject, d.reason, d.user, d.detail),
                d.device_id,
                d.at,
            )
        return sorted(merged.values(), key=lambda r: -r.at)[:HISTORY_LIMIT]

    def exceptions(self) -> list[FloorException]:
        out = super().exceptions()
        now = self.clock()
        out += self._stale_stores()
        with self._lock:
            held = [o for o in self._orders.values() if o.state == OrderState.HELD.value]
        if not held:
            out.sort(key=lambda e: -e.age_s)
            return out
        with self.store.read() as session:
            ids = [o.order_id for o in held]
            local = set(
                session.scalars(select(OrderRow.order_id).where(OrderRow.order_id.in_(ids)))
            )
        out += [
            FloorException(
                f"held:{o.order_id}",
                "held",
                o.order_id,
                o.reason or "held",
                max(0.0, now - o.at),
                ("release",),
            )
            for o in held
            if o.order_id not in local
        ]
        out.sort(key=lambda e: -e.age_s)
        return out

    def _stale_stores(self) -> list[FloorException]:
        """Devices whose store the hub found stale: they send nothing until a supervisor
        starts the recovery on the device (their health says so)."""
        out = []
        for d in self.devices():
            said = d.health.get("store", "")
            if not said.startswith("stale"):
                continue
            seqs = re.search(r"hub (\d+), here (\d+)", said)
            parts = (("exceptions.store", (("hub", seqs[1]), ("here", seqs[2]))),) if seqs else ()
            out.append(
                FloorException(
                    f"store:{d.device_id}",
                    "store",
                    d.device_id,
                    f"{d.device_id}: {said}",
                    d.oldest_unsent_age_s or 0.0,
                    (),
                    parts,
                )
            )
        return out

    def release_hold(self, order_id: str, by: str, reason: str) -> None:
        reason = self.reason_codes.check(DecisionKind.RELEASE_HOLD, reason)
        with self.store.read() as session:
            here = session.get(OrderRow, order_id) is not None
        if here:
            super().release_hold(order_id, by, reason)
            return
        with self._lock:
            status = self._orders.get(order_id)
        if status is None or status.state != OrderState.HELD.value:
            raise DomainError(f"order {order_id} is not held")
        with self.store.unit_of_work() as uow:
            event = HoldReleased(
                order=order_id, user=by, order_version=status.version, reason=reason
            )
            uow.emit(event, order_version=status.version)
            uow.commit()

    def bottlenecks(self) -> list[StageBacklog]:
        now = self.clock()
        with self._lock:
            remote = {o.order_id: (o.state, o.version, o.at) for o in self._orders.values()}
        if not remote:
            return super().bottlenecks()
        merged: dict[str, tuple[str, float]] = {}
        local_versions: dict[str, int] = {}
        with self.store.read() as session:
            rows = session.execute(
                select(OrderRow.order_id, OrderRow.state, OrderRow.version, OrderRow.updated_at)
            )
            for order_id, state, version, updated in rows:
                merged[order_id] = (str(state), float(updated))
                local_versions[order_id] = int(version)
        for order_id, (state, version, at) in remote.items():
            if version >= local_versions.get(order_id, -1):
                merged[order_id] = (str(state), at)
        waiting: dict[str, list[float]] = collections.defaultdict(list)
        for state, since in merged.values():
            waiting[state].append(since)
        out = []
        for backlog_state in BACKLOG_STATES:
            times = waiting.get(backlog_state.value, [])
            oldest = max(0.0, now - min(times)) if times else 0.0
            out.append(StageBacklog(backlog_state.value, len(times), oldest))
        return out

    def throughput(self) -> Throughput:
        local = super().throughput()
        since = self.clock() - THROUGHPUT_WINDOW_S
        with self._lock:
            reached = collections.Counter(
                stage for (_, stage), at in self._reached.items() if at >= since
            )
        per_stage = dict(local.per_stage)
        for stage, n in reached.items():
            per_stage[stage] = max(per_stage.get(stage, 0), n)
        return replace(local, per_stage=per_stage)

    # -- the thread -----------------------------------------------------------------------

    def _run(self) -> None:
        link = self._link
        assert link is not None
        link.open()
        while not self._stop.is_set():
            try:
                self._tick(link)
            except Exception as exc:  # the thread must survive anything
                log.exception("supervisor feed error")
                link.drop(f"internal error: {exc!r}")
                time.sleep(0.2)
        link.close()

    def _tick(self, link: MqttLink) -> None:
        for event in link.poll(0.5):
            if isinstance(event, Received):
                self._on_message(event.topic, event.payload)

    # -- applying messages (the feed's thread) --------------------------------------------

    def _on_message(self, topic: str, payload: bytes) -> None:
        if not payload:
            return  # a retained topic being cleared
        try:
            ref = self.topics.parse(topic)
            if ref.kind is TopicKind.STATUS and ref.device_id is not None:
                self.apply_status(ref.device_id, decode(DeviceStatus, payload))
            elif ref.kind is TopicKind.ORDER_STATUS and ref.order_id is not None:
                self.apply_order(ref.order_id, decode(OrderStatus, payload))
            elif ref.kind is TopicKind.COUNT_DIFFERENCE and ref.count_id is not None:
                self.apply_count_difference(ref.count_id, decode(CountDifference, payload))
            elif ref.kind is TopicKind.DEVICES:
                self.apply_roster(decode(DeviceRoster, payload))
            elif ref.kind is TopicKind.DECISIONS:
                self.apply_decisions(decode(DecisionLog, payload))
            else:
                self._count("unexpected_topic")
        except ProtocolError as exc:
            self._count(exc.code)
            log.warning("supervisor feed: bad message on %s: %s", topic, exc.reason)
        except TopicError:
            self._count("bad_topic")

    def _count(self, reason: str) -> None:
        with self._lock:
            self._bad[reason] += 1

    def apply_status(self, topic_device: str, status: DeviceStatus) -> bool:
        """Take one device status; False when refused or older than what is known."""
        if status.device_id != check_level(topic_device, "device id"):
            self._count("device_mismatch")
            return False
        with self._lock:
            known = self._statuses.get(status.device_id)
            if known is not None and status.epoch < known.epoch:
                return False  # a stale will (or heartbeat) of an older connection
            self._statuses[status.device_id] = status
            return True

    def apply_order(self, topic_order: str, status: OrderStatus) -> bool:
        """Take one order status; False when refused or older than what is known."""
        if status.order_id != topic_order:
            self._count("order_mismatch")
            return False
        with self._lock:
            known = self._orders.get(status.order_id)
            if known is not None and status.version < known.version:
                return False
            self._orders[status.order_id] = status
            stage = _STAGE_REACHED.get(str(status.state))
            if stage is not None:
                self._reached.setdefault((status.order_id, stage), status.at)
            return True

    def apply_count_difference(self, topic_count: str, diff: CountDifference) -> bool:
        """Take one count difference (new, or republished acknowledged); False if refused."""
        if str(diff.count_id) != topic_count:
            self._count("count_mismatch")
            return False
        with self._lock:
            known = self._counts.get(diff.count_id)
            if known is not None and known.acknowledged_by and not diff.acknowledged_by:
                return False  # an acknowledgement is never undone
            self._counts[diff.count_id] = diff
            return True

    def apply_roster(self, roster: DeviceRoster) -> bool:
        """Take the hub's device roster; False when older than the one known."""
        with self._lock:
            if self._roster is not None and roster.at < self._roster.at:
                return False
            self._roster = roster
            return True

    def apply_decisions(self, log_: DecisionLog) -> bool:
        """Take the hub's decision log; False when older than the one known."""
        with self._lock:
            if self._decisions is not None and log_.at < self._decisions.at:
                return False
            self._decisions = log_
            return True

    def count_difference(self, count_id: int) -> CountDifference | None:
        """The newest message of one count difference, if any arrived."""
        with self._lock:
            return self._counts.get(count_id)

    def count_differences(self) -> list[CountDifferenceSeen]:
        with self._lock:
            waiting = [d for d in self._counts.values() if not d.acknowledged_by]
        return [
            CountDifferenceSeen(
                d.count_id, d.location, d.sku, d.expected, d.counted, d.user, d.reason, d.at
            )
            for d in sorted(waiting, key=lambda d: d.count_id)
        ]
