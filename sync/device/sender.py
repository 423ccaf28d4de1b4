"""The sender: the device's outbox to the hub, in sequence order, exactly once.

It publishes the outbox in batches when there is a backlog, keeps at most
``window_events`` unacknowledged events in flight, records the hub's cumulative acks in
the store, rewinds when the hub asks for a resend or stays silent for ``ack_timeout_s``,
and hears what else the hub says on the ``ack`` topic: claims refused as stale (a refused
tote comes off its task, see :mod:`.tote_refusals`), events rejected as invalid (whose
local effects are taken back, see :mod:`.rejections`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from floor_app.domain.events import ToteAssigned
from floor_app.hub_sync import ClaimRefusal, EventRejection
from floor_app.services.errors import Unavailable
from floor_app.store import StoreError
from sync.mqtt import Received
from sync.protocol import (
    Ack,
    ClaimRefused,
    EventRejected,
    ProtocolError,
    ResendRequest,
    decode_ack,
)

from .batches import batch_records
from .core import AgentCore, AgentPart
from .rejections import take_back_rejected
from .tote_refusals import take_back_refused_tote

log = logging.getLogger("floor.sync.device")


class OutboxSender(AgentPart):
    """Sends one device's outbox and follows the hub's acks (on the agent thread)."""

    def __init__(self, core: AgentCore, request_sync: Callable[[], None]) -> None:
        super().__init__(core)
        self._request_sync = request_sync
        self._acked_cond = threading.Condition()
        #: the highest sequence the hub acknowledged (recorded in the store)
        self.acked = 0
        self.last_ack_at: float | None = None
        #: the newest sequence in the outbox, as far as known
        self.last_seq = 0
        self._last_seq_hint = 0  # from store commits (the committing thread)
        self._sent_upto = 0
        self._last_progress = time.monotonic()
        #: rejected stock facts whose local take-back the store refused: (seq, reason)
        self._take_backs: list[tuple[int, str]] = []
        self._take_back_at = 0.0
        self.refused = 0
        self.rejected = 0

    def load(self) -> None:
        """Read the positions from the store (before the agent thread starts)."""
        last = self.store.outbox_stats()[2]
        first = self.store.pending(limit=1)
        self.last_seq = last
        self.acked = first[0].seq - 1 if first else last
        self._sent_upto = self.acked

    def on_commit(self, records: list[Any]) -> None:
        """Store commit listener (any thread): note the newest sequence and wake the link."""
        if records:
            self._last_seq_hint = max(self._last_seq_hint, max(r.seq for r in records))
            self.link.wake()

    def on_link_up(self) -> None:
        """A new connection: everything above the last ack is sent again."""
        self.last_seq = max(self.last_seq, self._last_seq_hint, self.store.outbox_stats()[2])
        self._sent_upto = self.acked
        self._last_progress = time.monotonic()

    def refresh_last_seq(self) -> None:
        """Read the newest sequence from the store (for the heartbeat)."""
        self.last_seq = max(self.last_seq, self.store.outbox_stats()[2])

    def wait_acked(self, seq: int, timeout: float) -> bool:
        """Block until every event up to ``seq`` is acknowledged, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        with self._acked_cond:
            while self.acked < seq:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._acked_cond.wait(min(left, 0.5))
            return True

    # -- the ack topic --------------------------------------------------------------------

    def on_ack_topic(self, received: Received) -> None:
        """One message of ``dev/{device}/ack``: an ack, a resend request, a refusal or a
        rejection; acknowledged to the broker once handled."""
        topic, payload = received.topic, received.payload
        try:
            message = decode_ack(payload)
            if message.device_id != self.device_id:
                raise ProtocolError("device_mismatch", f"ack for {message.device_id!r} on {topic}")
        except ProtocolError as exc:
            self.diag.bad_input("ack", topic, payload, exc)
            self.link.ack(received)
            return
        if isinstance(message, Ack):
            self._record_ack(message.up_to_seq, payload)
        elif isinstance(message, ResendRequest):
            self._on_resend(message)
        elif isinstance(message, ClaimRefused):
            self.refused += 1
            log.info(
                "sync %s: claim %d (%s) refused: %s",
                self.device_id,
                message.seq,
                message.type,
                message.reason,
            )
            if message.type == ToteAssigned.TYPE:
                holder = message.params.get("order") if message.code == "tote.busy" else None
                self._take_back_tote(message.seq, str(holder) if holder else None)
            refusal = ClaimRefusal(
                message.seq,
                message.reason,
                message.type,
                message.task_id,
                message.order_id,
                message.code,
                message.params,
            )
            self.news.claim_refused.tell(refusal)
        elif isinstance(message, EventRejected):
            self.rejected += 1
            log.warning(
                "sync %s: event %d rejected by the hub: %s",
                self.device_id,
                message.seq,
                message.reason,
            )
            self._take_backs.append((message.seq, message.reason))
            self.retry_take_backs()
            self.news.event_rejected.tell(
                EventRejection(message.seq, message.reason, message.code, message.params)
            )
        self.link.ack(received)

    def _record_ack(self, up_to: int, payload: bytes) -> None:
        if up_to <= self.acked:
            self.diag.count("ack.duplicate")
            return
        if up_to > max(self.last_seq, self._last_seq_hint):
            self.last_seq = max(self.last_seq, self.store.outbox_stats()[2])
        if up_to > self.last_seq:
            error = ProtocolError(
                "future_ack",
                f"ack up to {up_to} but this device's newest event is {self.last_seq}",
            )
            self.diag.count("ack.future_seq")
            log.warning("sync %s: %s", self.device_id, error.reason)
            self.diag.dead_letter(self.topics.ack(self.device_id), payload, error)
            return
        try:
            self.store.mark_acked(up_to)
        except StoreError as exc:
            self.diag.error(f"cannot record the hub's ack: {exc.reason}")
            self.diag.note("store_error")
            return
        with self._acked_cond:
            self.acked = up_to
            self.last_ack_at = time.time()
            self._acked_cond.notify_all()
        self._sent_upto = max(self._sent_upto, up_to)
        self._last_progress = time.monotonic()
        self.news.acked.tell(up_to)

    def _on_resend(self, message: ResendRequest) -> None:
        self.diag.note("ack.resend_requested")
        rewind = max(self.acked, message.from_seq - 1)
        if rewind < self._sent_upto:
            log.info("sync %s: hub asks to resend from %d", self.device_id, message.from_seq)
            self._sent_upto = rewind

    def _take_back_tote(self, seq: int, holder: str | None) -> None:
        """A refused tote claim: the tote comes off the task's position (see
        :mod:`.tote_refusals`); the picker scans another one."""
        try:
            note = take_back_refused_tote(self.store, seq, holder)
        except (StoreError, Unavailable) as exc:
            # the screen still shows the refusal; the picker scans another tote
            log.warning(
                "sync %s: refused tote claim %d not taken back: %s", self.device_id, seq, exc
            )
            return
        if note:
            log.info("sync %s: %s", self.device_id, note)

    # -- rejected stock facts -------------------------------------------------------------

    def take_backs_due(self, now: float) -> bool:
        """True when a refused take-back is to be tried again."""
        return bool(self._take_backs) and now >= self._take_back_at

    def retry_take_backs(self) -> None:
        """Undo the local effects of rejected stock facts (see :mod:`.rejections`); one the
        store refused (busy, full) is tried again later, since the hub never sends a
        rejection twice."""
        waiting: list[tuple[int, str]] = []
        for seq, reason in self._take_backs:
            try:
                note = take_back_rejected(self.store, seq, reason)
            except Exception as exc:  # the store being busy or full must not stop the link
                log.warning(
                    "sync %s: taking back rejected event %d failed (%s), trying again",
                    self.device_id,
                    seq,
                    exc,
                )
                waiting.append((seq, reason))
                continue
            if note:
                log.info("sync %s: rejected event %d taken back: %s", self.device_id, seq, note)
        self._take_backs = waiting
        self._take_back_at = time.monotonic() + 1.0

    # -- sending --------------------------------------------------------------------------

    def maintain(self, now: float) -> None:
        """Send what the window allows; with no ack progress for too long, start again
        from the last ack and ask the hub for its ack."""
        self.pump()
        if self._sent_upto > self.acked and now - self._last_progress > self.options.ack_timeout_s:
            # no progress: the hub may have lost what we sent; send it again and ask for its ack
            log.info(
                "sync %s: no ack for %.0fs, resending from %d",
                self.device_id,
                now - self._last_progress,
                self.acked + 1,
            )
            self.diag.note("ack.timeout_resends")
            self._sent_upto = self.acked
            self._last_progress = now
            self._request_sync()

    def pump(self) -> None:
        """Publish the outbox from the last sent (or acked) sequence, window permitting."""
        self.last_seq = max(self.last_seq, self._last_seq_hint)
        o = self.options
        while self.link.online:
            start = max(self._sent_upto, self.acked)
            room = o.window_events - (start - self.acked)
            if start >= self.last_seq or room <= 0:
                return
            records = self.store.pending(after_seq=start, limit=min(o.batch_events, room))
            if not records:
                self.last_seq = max(self.acked, self.store.outbox_stats()[2])
                return
            if self._sent_upto <= self.acked:
                self._last_progress = time.monotonic()
            for body in batch_records(records, self.device_id, max_events=o.batch_events):
                if self.link.publish(self.topics.evt(self.device_id), body, qos=1) is None:
                    # "no connection": paho queued it in a client we are about to discard;
                    # never publish it again here, the outbox is resent after reconnecting
                    self._sent_upto = records[-1].seq
                    return
            self._sent_upto = records[-1].seq
