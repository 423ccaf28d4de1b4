"""The device's sync with the hub as the app sees it: the seam bootstrap hands the UI.

:class:`DeviceSync` is what a screen may ask of sync (its :class:`SyncStatus`) and what it
may listen to: the link going up or down, a push from the hub applied to the store, a claim
the hub refused, an event it rejected, a new cumulative ack. Listener payloads are the small
dataclasses below; the app never sees the wire messages. ``sync.device.SyncAgent`` is the
implementation; tests drive a fake subclass.

Listeners are called on the sync thread: a UI listener only posts a message.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

from floor_app.domain.errors import Param, Reason
from floor_app.domain.order import OrderState

log = logging.getLogger("floor.sync")

T = TypeVar("T")


class LinkState(StrEnum):
    """The state of an MQTT link (changed only by the thread that drives it)."""

    STOPPED = "stopped"
    OFFLINE = "offline"  # waiting for the next attempt (backoff)
    CONNECTING = "connecting"  # TCP/TLS up, waiting for CONNACK
    SUBSCRIBING = "subscribing"  # CONNACK ok, waiting for SUBACK
    ONLINE = "online"  # subscribed: messages flow


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """A snapshot of the device's sync: the link, the outbox, acks, pushes, what went wrong."""

    state: LinkState
    outbox_depth: int = 0
    oldest_unsent_age_s: float | None = None
    last_seq: int = 0
    acked_seq: int = 0
    last_ack_at: float | None = None
    push_cursor: int = 0
    #: the connection epoch (one more per connection attempt)
    epoch: int = 0
    #: connections that came up (subscribed)
    connects: int = 0
    refused_claims: int = 0
    rejected_events: int = 0
    last_error: str = ""
    #: bad input received, by "<topic>.<code>" (malformed_json, stale_cursor, future_seq ...)
    bad_input: dict[str, int] = field(default_factory=dict)
    #: other things worth knowing: resends asked, ack timeouts, push gaps, stale wills ...
    counters: dict[str, int] = field(default_factory=dict)
    #: why the store does not continue what the hub recorded ("" while it does): nothing
    #: is sent until it is recovered
    store_stale: str = ""

    @property
    def online(self) -> bool:
        """Connected, subscribed and sending."""
        return self.state is LinkState.ONLINE


@dataclass(frozen=True, slots=True)
class ClaimRefusal:
    """The hub refused one of this device's claims as stale; ``reason`` is for the user
    (``code`` and ``params`` say it for the device's catalogue)."""

    seq: int
    reason: str
    type: str = ""
    task_id: str | None = None
    order_id: str | None = None
    code: str = ""
    params: Mapping[str, Param] = field(default_factory=dict)

    @property
    def why(self) -> Reason:
        """The hub's reason."""
        return Reason(self.reason, self.code, self.params)


@dataclass(frozen=True, slots=True)
class EventRejection:
    """The hub rejected one of this device's events as invalid (it is never sent again)."""

    seq: int
    reason: str
    code: str = ""
    params: Mapping[str, Param] = field(default_factory=dict)

    @property
    def why(self) -> Reason:
        """The hub's reason."""
        return Reason(self.reason, self.code, self.params)


@dataclass(frozen=True, slots=True)
class StaleStore:
    """The hub says this device's store does not continue what it recorded from the device
    (an older copy, an emptied or new store): nothing more is sent until it is recovered."""

    #: ``behind``, ``other_store`` or ``conflict`` (:class:`sync.protocol.StoreStale`)
    cause: str
    hub_seq: int
    store_seq: int
    reason: str


@dataclass(frozen=True, slots=True)
class StoreRecovered:
    """The store was recovered: it continues after the hub's ``hub_seq``."""

    hub_seq: int
    #: unsent events the hub had already recorded (now counted as delivered)
    already_recorded: int
    #: events numbered again after ``hub_seq`` (sent next)
    renumbered: int
    #: events the hub recorded from this device that the store does not hold
    missing_count: int
    #: the first of them, as "seq type order"
    missing: tuple[str, ...] = ()


class PushKind(StrEnum):
    """What a push from the hub carried."""

    TASK_ASSIGNED = "task_assigned"
    TASK_CANCELLED = "task_cancelled"
    ORDER_SNAPSHOT = "order_snapshot"
    ORDER_CANCELLED = "order_cancelled"
    ROSTER = "roster"
    STATION_CONFIG = "station_config"
    STOCK_TASK_ASSIGNED = "stock_task_assigned"
    STOCK_TASK_CANCELLED = "stock_task_cancelled"
    TOTE_CONTENTS = "tote_contents"
    SITE_REFERENCE = "site_reference"
    RECEIPT_NOTICE = "receipt_notice"


#: the pushes that end a task (a pick task or a stock task) the device may be working on
TASK_ENDING = frozenset({PushKind.TASK_CANCELLED, PushKind.STOCK_TASK_CANCELLED})


@dataclass(frozen=True, slots=True)
class PushApplied:
    """A push from the hub, applied and committed to the store (at ``cursor``)."""

    cursor: int
    kind: PushKind
    task_id: str | None = None
    order_id: str | None = None
    #: the hub's reason, for cancellations (and its code and parameters)
    reason: str = ""
    #: the order's state, for order snapshots
    order_state: OrderState | None = None
    code: str = ""
    params: Mapping[str, Param] = field(default_factory=dict)

    @property
    def why(self) -> Reason:
        """The hub's reason."""
        return Reason(self.reason, self.code, self.params)

    @property
    def ends_task(self) -> bool:
        """True when the push cancelled the task ``task_id``."""
        return self.kind in TASK_ENDING and bool(self.task_id)


class Listeners(Generic[T]):
    """Listeners of one kind of news; a failing listener is logged and the others still run."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._lock = threading.Lock()
        self._listeners: list[Callable[[T], object]] = []

    def add(self, listener: Callable[[T], object]) -> None:
        """Call ``listener(value)`` on every :meth:`tell`."""
        with self._lock:
            self._listeners.append(listener)

    def tell(self, value: T) -> None:
        """Hand ``value`` to every listener (on the calling thread)."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(value)
            except Exception:
                log.exception("a %s listener failed", self.what)


class DeviceSync(ABC):
    """What the app needs from the device's sync with the hub (see the module docstring)."""

    def __init__(self) -> None:
        self.online_changed: Listeners[bool] = Listeners("online")
        self.push_applied: Listeners[PushApplied] = Listeners("push")
        self.claim_refused: Listeners[ClaimRefusal] = Listeners("refused")
        self.event_rejected: Listeners[EventRejection] = Listeners("rejected")
        self.acked: Listeners[int] = Listeners("acked")
        self.store_stale: Listeners[StaleStore] = Listeners("stale store")
        self.store_recovered: Listeners[StoreRecovered] = Listeners("store recovered")

    @abstractmethod
    def status(self) -> SyncStatus:
        """A snapshot for the header and diagnostics."""

    @abstractmethod
    def stop(self, timeout: float = 10.0) -> None:
        """Say goodbye to the hub and stop."""

    def on_online_changed(self, listener: Callable[[bool], object]) -> None:
        """Call ``listener(online)`` when the link goes up or down."""
        self.online_changed.add(listener)

    def on_push_applied(self, listener: Callable[[PushApplied], object]) -> None:
        """Call ``listener(push)`` after a push was applied and committed."""
        self.push_applied.add(listener)

    def on_claim_refused(self, listener: Callable[[ClaimRefusal], object]) -> None:
        """Call ``listener(refusal)`` when the hub refuses a stale claim (show its reason)."""
        self.claim_refused.add(listener)

    def on_event_rejected(self, listener: Callable[[EventRejection], object]) -> None:
        """Call ``listener(rejection)`` when the hub rejected one of our events as invalid."""
        self.event_rejected.add(listener)

    def on_acked(self, listener: Callable[[int], object]) -> None:
        """Call ``listener(up_to_seq)`` after a new cumulative ack was recorded."""
        self.acked.add(listener)

    def on_store_stale(self, listener: Callable[[StaleStore], object]) -> None:
        """Call ``listener(stale)`` when the hub says the store is stale (and at start, when
        the store was left stale)."""
        self.store_stale.add(listener)

    def on_store_recovered(self, listener: Callable[[StoreRecovered], object]) -> None:
        """Call ``listener(recovered)`` once a stale store was recovered."""
        self.store_recovered.add(listener)

    def stale_store(self) -> StaleStore | None:
        """The hub's word that the store is stale, until it is recovered (None: it is not)."""
        return None

    def recover_store(self, user: str) -> bool:
        """Start the recovery of a stale store (a supervisor's decision, ``user``): the hub
        says which unsent events it holds and the store continues after its last one.
        False when there is nothing to recover or no hub to ask."""
        return False
