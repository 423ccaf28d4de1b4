"""What the supervisor sees and decides: devices, exceptions, throughput and bottlenecks.

:class:`SupervisorFeed` is the data source of the supervisor screen. Two implementations
are meant to exist:

* :class:`LocalSupervisorFeed` (here) reads the device's own store: this device live,
  the exceptions of the orders and tasks it holds, throughput from its outbox, and the
  orders waiting per stage. Demo mode uses it (there is no broker).
* an MQTT-backed feed (``sync/device/supervisor_feed.py``) subscribes to every device's retained
  ``dev/{device}/status`` topic (presence with epochs and the health heartbeat), the
  order status stream and the hub's count differences; it answers
  :meth:`SupervisorFeed.devices` from those and the rest from the store the hub keeps in
  sync. Count differences (stock adjusted by an accepted count) reach the exceptions only
  through it: the hub publishes them, no device store holds them.

Actions are claims: each one changes the local copy and records a claim event in the
outbox in one unit of work, carrying the version it was based on, so the hub can refuse
a stale decision (the refusal is shown on screen). Approving a short and releasing a hold
need a reason code of the site's (:class:`~floor_app.domain.decisions.ReasonCodes`);
:meth:`SupervisorFeed.history` lists the decisions taken (here, and with the MQTT feed also
those the hub recorded from other devices, such as weights accepted at a pack station), who
took them and when.
"""

from __future__ import annotations

import abc
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from floor_app.domain.decisions import (
    DECISION_EVENT_TYPES,
    Decision,
    DecisionKind,
    ReasonCodes,
    decision_of,
)
from floor_app.domain.errors import DomainError
from floor_app.domain.events import (
    CountAcknowledged,
    DomainEvent,
    HoldReleased,
    PackCompleted,
    ShortApproved,
    TaskReassigned,
    event_from_payload,
)
from floor_app.domain.order import STAGES, OrderState
from floor_app.domain.picking import TaskState
from floor_app.domain.users import Role
from floor_app.store import Store
from floor_app.store.tables import OutboxRow

from .errors import reports_store_failures

Clock = Callable[[], float]

#: An in-progress task with no activity for this long is listed as stalled.
STALLED_AFTER_S = 600.0
#: The window of the throughput figures.
THROUGHPUT_WINDOW_S = 3600.0
#: The history lists at most this many decisions, newest first.
HISTORY_LIMIT = 100


# -- what the feed returns ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DevicePresence:
    """One device or station as the supervisor sees it.

    ``seen_age_s`` is how long ago the device last said anything (None: never, as far as
    this feed knows); ``note`` is why it is offline, when it said so.
    """

    device_id: str
    online: bool | None  # None: not known (no presence data)
    user: str = ""
    task: str = ""
    outbox_depth: int = 0
    oldest_unsent_age_s: float | None = None
    last_scan: str = ""
    last_scan_age_s: float | None = None
    health: dict[str, str] = field(default_factory=dict)
    station: str = ""
    role: str = ""
    seen_age_s: float | None = None
    app_version: str = ""
    battery_pct: int | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """A decision in the exceptions history: what, why, who (``decision``), where and when."""

    event_id: str
    decision: Decision
    device_id: str
    at: float


@dataclass(frozen=True, slots=True)
class FloorException:
    """An exception waiting for a decision; ``actions`` are what may be done about it."""

    key: str
    kind: str  # "short", "held", "stalled", "count"
    subject: str  # the order or task id (a count: "location SKU")
    summary: str  # in English, for logs and the hub
    age_s: float
    actions: tuple[str, ...]
    #: the summary as texts to translate: (key, parameters) each, joined by ", "
    parts: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Throughput:
    """Work done in the last window: units picked, orders packed and labelled."""

    window_s: float
    per_stage: dict[str, int]
    per_person: dict[str, dict[str, int]]


@dataclass(frozen=True, slots=True)
class StageBacklog:
    """Orders waiting in one stage and how long the oldest has waited."""

    stage: str
    waiting: int
    oldest_age_s: float


class SupervisorFeed(abc.ABC):
    """The supervisor screen's data and actions (see the module docstring).

    Every feed, wherever it is defined, reports a store that failed as
    :class:`~floor_app.services.errors.Unavailable`: each subclass's own definitions of the
    abstract methods below are wrapped so when the subclass is made.
    """

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        reports_store_failures(cls, SupervisorFeed.__abstractmethods__)

    @abc.abstractmethod
    def devices(self) -> list[DevicePresence]:
        """Every device and station, with presence and health."""

    @abc.abstractmethod
    def exceptions(self) -> list[FloorException]:
        """Exceptions waiting for a decision, oldest first."""

    @abc.abstractmethod
    def throughput(self) -> Throughput:
        """Per stage and per person, over the last hour."""

    @abc.abstractmethod
    def bottlenecks(self) -> list[StageBacklog]:
        """Orders waiting per stage, in flow order."""

    @abc.abstractmethod
    def pickers(self) -> list[str]:
        """User ids a task may be given to."""

    @abc.abstractmethod
    def history(self) -> list[DecisionRecord]:
        """Decisions taken, newest first (at most :data:`HISTORY_LIMIT`)."""

    @abc.abstractmethod
    def reasons(self, kind: DecisionKind) -> tuple[str, ...]:
        """The reason codes a decision of ``kind`` may give."""

    @abc.abstractmethod
    def approve_short(self, order_id: str, by: str, reason: str) -> None:
        """Accept an order's shortage for the reason code ``reason`` (claim)."""

    @abc.abstractmethod
    def release_hold(self, order_id: str, by: str, reason: str) -> None:
        """Release a held order for the reason code ``reason`` (claim)."""

    @abc.abstractmethod
    def reassign_task(self, task_id: str, to_user: str, by: str) -> None:
        """Give a task to another picker (claim)."""

    @abc.abstractmethod
    def acknowledge_count(self, count_id: int, by: str) -> None:
        """A count difference was seen: it leaves the exceptions (a fact for the hub)."""

    def follow(self) -> None:  # noqa: B027 - a feed of this device alone follows nothing
        """Start following the site, if the feed follows anything beyond this device (the
        board calls it when it opens; calling it again does nothing)."""


@dataclass(frozen=True, slots=True)
class CountDifferenceSeen:
    """An accepted count that changed stock, as the hub published it."""

    count_id: int
    location: str
    sku: str
    expected: int
    counted: int
    user: str
    reason: str
    at: float

    def exception(self, now: float) -> FloorException:
        """The difference as a row of the exceptions queue."""
        diff = self.counted - self.expected
        return FloorException(
            f"count:{self.count_id}",
            "count",
            f"{self.location} {self.sku}",
            f"{self.expected} → {self.counted} ({diff:+d}) {self.user}: {self.reason}",
            max(0.0, now - self.at),
            ("acknowledge",),
            (
                (
                    "exceptions.count",
                    (
                        ("expected", str(self.expected)),
                        ("counted", str(self.counted)),
                        ("diff", f"{diff:+d}"),
                        ("user", self.user),
                        ("reason", self.reason),
                    ),
                ),
            ),
        )


#: The flow stages the bottleneck view shows, plus the two side tracks.
BACKLOG_STATES: tuple[OrderState, ...] = (
    *(s for s in STAGES if s is not OrderState.SHIPPED),
    OrderState.SHORT,
    OrderState.HELD,
)

_STAGE_OF_EVENT = {
    "pick.confirmed": "pick",
    "pick.undone": "pick",
    "pack.completed": "pack",
    "label.confirmed": "label",
}


class LocalSupervisorFeed(SupervisorFeed):
    """A feed over this device's own store (demo mode, or a supervisor without a broker)."""

    def __init__(
        self,
        store: Store,
        own: Callable[[], DevicePresence],
        *,
        clock: Clock = time.time,
        stalled_after_s: float = STALLED_AFTER_S,
        reasons: ReasonCodes | None = None,
    ) -> None:
        self.store = store
        self._own = own
        self.clock = clock
        self.reason_codes = reasons or ReasonCodes()
        self.stalled_after_s = stalled_after_s
        #: count ids acknowledged here (hidden until the hub publishes them acknowledged)
        self.acknowledged: set[int] = set()

    def devices(self) -> list[DevicePresence]:
        return [self._own()]

    def exceptions(self) -> list[FloorException]:
        now = self.clock()
        out: list[FloorException] = []
        with self.store.unit_of_work() as uow:
            for order_id in uow.orders.by_state(OrderState.SHORT):
                order = uow.orders.get(order_id)
                shorts = uow.tasks.shortages(order_id)
                what = ", ".join(f"{s.qty}x {s.sku} {s.reason.value}" for s in shorts) or "short"
                parts = tuple(
                    (
                        "exceptions.short",
                        (("qty", str(s.qty)), ("sku", s.sku), ("reason", s.reason.value)),
                    )
                    for s in shorts
                )
                out.append(
                    FloorException(
                        f"short:{order_id}",
                        "short",
                        order_id,
                        what,
                        now - self._updated(uow, order_id, now),
                        ("approve",),
                        parts,
                    )
                )
            for order_id in uow.orders.by_state(OrderState.HELD):
                order = uow.orders.get(order_id)
                out.append(
                    FloorException(
                        f"held:{order_id}",
                        "held",
                        order_id,
                        order.hold_reason or "held",
                        now - self._updated(uow, order_id, now),
                        ("release",),
                    )
                )
            for task_id, _state, user, updated in uow.tasks.task_rows(TaskState.IN_PROGRESS):
                if now - updated >= self.stalled_after_s:
                    out.append(
                        FloorException(
                            f"stalled:{task_id}",
                            "stalled",
                            task_id,
                            f"{user or '-'}",
                            now - updated,
                            ("reassign",),
                        )
                    )
        out += [
            d.exception(now)
            for d in self.count_differences()
            if d.count_id not in self.acknowledged
        ]
        out.sort(key=lambda e: -e.age_s)
        return out

    def count_differences(self) -> list[CountDifferenceSeen]:
        """Count differences not yet acknowledged (none without the hub's feed)."""
        return []

    @staticmethod
    def _updated(uow: object, order_id: str, now: float) -> float:
        from floor_app.store.tables import OrderRow

        session = uow.session  # type: ignore[attr-defined]
        value = session.scalar(select(OrderRow.updated_at).where(OrderRow.order_id == order_id))
        return float(value) if value is not None else now

    def throughput(self) -> Throughput:
        since = self.clock() - THROUGHPUT_WINDOW_S
        stage: Counter[str] = Counter()
        person: dict[str, Counter[str]] = {}
        with self.store.read() as session:
            rows = session.execute(
                select(OutboxRow.type, OutboxRow.payload).where(
                    OutboxRow.created_at >= since, OutboxRow.type.in_(list(_STAGE_OF_EVENT))
                )
            )
            for event_type, payload in rows:
                data = json.loads(payload)
                units = int(data.get("qty", 1))
                if event_type == "pick.undone":
                    units = -units
                name = _STAGE_OF_EVENT[event_type]
                stage[name] += units
                person.setdefault(str(data.get("user", "")), Counter())[name] += units
        return Throughput(
            THROUGHPUT_WINDOW_S,
            {s: stage.get(s, 0) for s in ("pick", "pack", "label")},
            {p: dict(c) for p, c in sorted(person.items())},
        )

    def bottlenecks(self) -> list[StageBacklog]:
        now = self.clock()
        with self.store.read() as session:
            from floor_app.store.repositories import OrderRepository

            waiting = OrderRepository(session).waiting_by_state()
        out = []
        for state in BACKLOG_STATES:
            n, oldest = waiting.get(state.value, (0, now))
            out.append(StageBacklog(state.value, n, max(0.0, now - oldest) if n else 0.0))
        return out

    def pickers(self) -> list[str]:
        with self.store.unit_of_work() as uow:
            return [u.user_id for u in uow.users.all() if u.active and Role.PICKER in u.roles]

    def history(self) -> list[DecisionRecord]:
        return self.local_history()

    def local_history(self) -> list[DecisionRecord]:
        """The decisions recorded in this device's outbox, newest first."""
        out: list[DecisionRecord] = []
        with self.store.read() as session:
            rows = session.execute(
                select(
                    OutboxRow.event_id,
                    OutboxRow.device_id,
                    OutboxRow.type,
                    OutboxRow.payload,
                    OutboxRow.created_at,
                )
                .where(OutboxRow.type.in_(DECISION_EVENT_TYPES))
                .where(  # a parcel packed is a decision only when a weight was overridden
                    or_(
                        OutboxRow.type != PackCompleted.TYPE,
                        func.json_extract(OutboxRow.payload, "$.weight_override_by") != "",
                    )
                )
                .order_by(OutboxRow.seq.desc())
                .limit(HISTORY_LIMIT)
            )
            for event_id, device_id, event_type, payload, at in rows:
                decision = decision_of(event_from_payload(event_type, json.loads(payload)))
                if decision is not None:
                    out.append(DecisionRecord(event_id, decision, device_id, float(at)))
        return out

    def reasons(self, kind: DecisionKind) -> tuple[str, ...]:
        return self.reason_codes.of(kind)

    def approve_short(self, order_id: str, by: str, reason: str) -> None:
        reason = self.reason_codes.check(DecisionKind.APPROVE_SHORT, reason)
        with self.store.unit_of_work() as uow:
            order = uow.orders.get(order_id)
            if order.state is not OrderState.SHORT:
                raise DomainError(
                    f"order {order_id} is {order.state}, not short",
                    code="supervise.not_short",
                    params={"order": order_id, "order_state": order.state.value},
                )
            if not order.is_fully_picked:
                raise DomainError(
                    f"order {order_id} still has lines to pick",
                    hint="wait until its task is done",
                    code="supervise.lines_open",
                    params={"order": order_id},
                )
            seen = order.version
            order.transition(OrderState.PICKED, f"short approved by {by}: {reason}")
            uow.orders.save(order)
            event = ShortApproved(order=order_id, user=by, order_version=seen, reason=reason)
            self._emit(uow, event, seen)
            uow.commit()

    def release_hold(self, order_id: str, by: str, reason: str) -> None:
        reason = self.reason_codes.check(DecisionKind.RELEASE_HOLD, reason)
        with self.store.unit_of_work() as uow:
            order = uow.orders.get(order_id)
            seen = order.version
            order.release()
            uow.orders.save(order)
            event = HoldReleased(order=order_id, user=by, order_version=seen, reason=reason)
            self._emit(uow, event, seen)
            uow.commit()

    def reassign_task(self, task_id: str, to_user: str, by: str) -> None:
        with self.store.unit_of_work() as uow:
            task = uow.tasks.get(task_id)
            user = uow.users.get(to_user)
            if user is None or not user.active or Role.PICKER not in user.roles:
                raise DomainError(
                    f"{to_user} is not an active picker",
                    code="supervise.not_picker",
                    params={"user": to_user},
                )
            if task.state not in (TaskState.ASSIGNED, TaskState.IN_PROGRESS, TaskState.OPEN):
                raise DomainError(
                    f"task {task_id} is {task.state}; it cannot be reassigned",
                    code="supervise.cannot_reassign",
                    params={"task": task_id, "task_state": task.state.value},
                )
            seen = task.version
            if task.state is TaskState.IN_PROGRESS or task.state is TaskState.OPEN:
                task.move_to(TaskState.ASSIGNED)
            task.assigned_to = to_user
            uow.tasks.save(task)
            self._emit(
                uow, TaskReassigned(task=task_id, to_user=to_user, user=by, task_version=seen), None
            )
            uow.commit()

    def acknowledge_count(self, count_id: int, by: str) -> None:
        with self.store.unit_of_work() as uow:
            uow.emit(CountAcknowledged(count_id=count_id, user=by))
            uow.commit()
        self.acknowledged.add(count_id)

    @staticmethod
    def _emit(uow: object, event: DomainEvent, version: int | None) -> None:
        uow.emit(event, order_version=version)  # type: ignore[attr-defined]
