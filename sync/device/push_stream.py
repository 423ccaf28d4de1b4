"""The push stream: the hub's pushes applied to the store in cursor order, exactly once.

Each item and its cursor are applied in one local transaction (:class:`.PushApplier`), and
only then is the MQTT message acknowledged to the broker (``manual_ack``). An item that
arrives ahead of its turn is held back until the gap is filled (the hub is asked to resend
from the cursor); an item that cannot be
applied at all is dead-lettered and skipped, so it never blocks the stream.

``request_resync`` asks the hub for every push after the cursor; the agent sends at most
one such request per :data:`SYNC_REQUEST_INTERVAL_S` while a gap stays open.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from floor_app.store import StoreError
from sync.mqtt import Received
from sync.protocol import ProtocolError, PushMessage, decode, encode

from .core import AgentCore, AgentPart
from .push_apply import CURSOR_KEY, PushApplier, news_of, stored_cursor

log = logging.getLogger("floor.sync.device")

#: At most one resync request per this many seconds while a push gap is open.
SYNC_REQUEST_INTERVAL_S = 2.0
#: Pushes held back behind a gap, at most (more arrive again by cursor).
MAX_HELD_PUSHES = 5000


@dataclass(frozen=True, slots=True)
class _Held:
    """A push waiting for its turn; ``received`` is acked to the broker after its commit."""

    message: PushMessage
    received: Received | None


class PushStream(AgentPart):
    """Applies one device's push stream (on the agent thread)."""

    def __init__(self, core: AgentCore, request_resync: Callable[[], None]) -> None:
        super().__init__(core)
        self.topic = self.topics.push(self.device_id)
        self._request_resync = request_resync
        self._applier = PushApplier(self.store)
        #: the last cursor applied (stored with the item it belongs to)
        self.cursor = 0
        self._held: dict[int, _Held] = {}
        self._retry_at = 0.0

    def load(self) -> None:
        """Read the cursor from the store (before the agent thread starts)."""
        self.cursor = stored_cursor(self.store)

    def retry_in(self, now: float) -> float | None:
        """Seconds until held pushes are tried again; None when none are held."""
        return max(0.0, self._retry_at - now) if self._held else None

    def on_push(self, received: Received) -> None:
        """One message of ``dev/{device}/push``."""
        payload = received.payload
        try:
            message = decode(PushMessage, payload)
            if message.device_id != self.device_id:
                raise ProtocolError(
                    "device_mismatch", f"push for {message.device_id!r} on {self.topic}"
                )
        except ProtocolError as exc:
            self.diag.bad_input("push", self.topic, payload, exc)
            self.link.ack(received)
            return
        if message.cursor <= self.cursor or message.cursor in self._held:
            self.diag.count("push.stale_cursor")
            self.link.ack(received)
            return
        if len(self._held) >= MAX_HELD_PUSHES:
            self.diag.note("push.dropped_held")
            self.link.ack(received)  # it comes again by cursor
            return
        if message.cursor == self.cursor + 1:
            # the next one: acknowledged to the broker only once it is in the store
            self._held[message.cursor] = _Held(message, received)
        else:
            # behind a gap: acknowledged now, so that held messages never fill the broker's
            # window of unacknowledged messages (the gap's fill and the acks must still get
            # through). Lost in a crash, it comes again by cursor on the next resync.
            self.link.ack(received)
            self._held[message.cursor] = _Held(message, None)
        self.apply_held()

    def apply_held(self) -> None:
        """Apply the held pushes that are next in line; ask for a resync if a gap is left."""
        while self.cursor + 1 in self._held:
            held = self._held[self.cursor + 1]
            try:
                outcome = self._applier.apply(held.message)
            except StoreError as exc:
                self.diag.error(f"cannot save a push from the hub: {exc.reason}")
                self.diag.note("store_error")
                self._retry_at = time.monotonic() + 1.0
                return
            except Exception as exc:
                # the item cannot be applied at all: never block the stream behind it
                self.diag.count("push.unapplicable")
                log.exception(
                    "sync %s: push %d cannot be applied", self.device_id, held.message.cursor
                )
                error = ProtocolError(
                    "invalid", f"push {held.message.cursor} cannot be applied: {exc!r}"
                )
                self.diag.dead_letter(self.topic, encode(held.message), error)
                self.store.set_meta(CURSOR_KEY, str(held.message.cursor))
                outcome = None
            del self._held[held.message.cursor]
            self.cursor = held.message.cursor
            if held.received is not None:
                self.link.ack(held.received)
            if outcome is not None and outcome.applied:
                self.news.push_applied.tell(news_of(held.message))
        if self._held and self.link.online:
            self.diag.note("push.gap_seen")
            self._request_resync()

    def retry_held(self, now: float) -> None:
        """Try held pushes again once their retry time has come."""
        if self._held and now >= self._retry_at:
            self.apply_held()
