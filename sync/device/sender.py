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
from floor_app.hub_sync import ClaimRefusal, EventRejection, StaleStore, StoreRecovered
from floor_app.services.errors import Unavailable
from floor_app.store import StoreError
from floor_app.store.store import STALE_WORD
from sync.mqtt import Received
from sync.protocol import (
    RECOVERY_EVENT_LIMIT,
    Ack,
    ClaimRefused,
    EventRejected,
    ProtocolError,
    ResendRequest,
    StoreHistory,
    StoreRecovery,
    StoreStale,
    decode_ack,
    encode,
)

from .batches import batch_records
from .core import AgentCore, AgentPart
from .rejections import take_back_rejected
from .tote_refusals import take_back_refused_tote

log = logging.getLogger("floor.sync.device")


def stale_news(message: StoreStale) -> StaleStore:
    """What the app hears of the hub's stale word."""
    return StaleStore(message.cause, message.hub_seq, message.store_seq, message.reason)


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
        #: this store's identity (:attr:`Store.store_id`)
        self.store_id = ""
        #: the hub's word that this store does not continue its record (None: it does)
        self.stale: StoreStale | None = None
        #: a recovery asked for (by this user) and not answered yet
        self._recover_by: str | None = None
        self._recover_sent = False
        self._prune_at = 0.0
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
        self.store_id = self.store.store_id
        self.stale = None
        text = self.store.meta(STALE_WORD, "") or ""
        if text:
            try:
                self.stale = StoreStale.model_validate_json(text)
            except ValueError:
                log.warning("sync %s: unreadable stale-store note ignored", self.device_id)

    def on_commit(self, records: list[Any]) -> None:
        """Store commit listener (any thread): note the newest sequence and wake the link."""
        if records:
            self._last_seq_hint = max(self._last_seq_hint, max(r.seq for r in records))
            self.link.wake()

    def on_link_up(self) -> None:
        """A new connection: everything above the last ack is sent again (and a recovery
        asked for and not answered is asked again)."""
        self._recover_sent = False
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
            if self.stale is None and self._same_history(message):
                self._record_ack(message.up_to_seq, payload)
            else:  # an ack from before the hub found the store stale
                self.diag.count("ack.while_stale")
        elif isinstance(message, StoreStale):
            self._on_stale(message)
        elif isinstance(message, StoreHistory):
            self._on_history(message)
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
        if message.from_seq - 1 < self.acked and self.stale is None:
            self._rewind(message.from_seq - 1, message.reason)
            return
        rewind = max(self.acked, message.from_seq - 1)
        if rewind < self._sent_upto:
            log.info("sync %s: hub asks to resend from %d", self.device_id, message.from_seq)
            self._sent_upto = rewind

    def _rewind(self, to: int, why: str) -> None:
        """The hub lost events it had acknowledged (its database restored from a backup):
        count them unsent again and send them from ``to + 1``, as far as the store still
        holds them (delivered events are kept for ``retention_s``)."""
        try:
            reopened, first = self.store.reopen_outbox(to)
        except StoreError as exc:
            self.diag.error(f"cannot send the hub's lost events again: {exc.reason}")
            return
        self.diag.note("ack.rewound")
        log.warning(
            "sync %s: the hub asks again for events from %d it had acknowledged (%s): "
            "%d sent again",
            self.device_id,
            to + 1,
            why,
            reopened,
        )
        if first > to + 1:  # pruned: the hub must hear what this device can no longer send
            error = ProtocolError(
                "events_pruned",
                f"the hub lost events {to + 1} to {first - 1} of {self.device_id}, which this "
                f"device no longer holds (kept {self.options.retention_s / 86400:g} days)",
            )
            log.error("sync %s: %s", self.device_id, error.reason)
            self.diag.error(error.reason)
            self.diag.dead_letter(self.topics.ack(self.device_id), b"", error)
        with self._acked_cond:
            self.acked = min(self.acked, first - 1)
        self._sent_upto = self.acked
        self._last_progress = time.monotonic()

    def prune(self, now: float) -> None:
        """Delete delivered events older than the retention (at most once per
        ``prune_every_s``)."""
        if now < self._prune_at:
            return
        self._prune_at = now + self.options.prune_every_s
        o = self.options
        try:
            gone = self.store.prune_outbox(
                acked_before=time.time() - o.retention_s, keep_at_most=o.retention_max_events
            )
        except StoreError as exc:
            log.warning("sync %s: pruning delivered events failed: %s", self.device_id, exc)
            return
        if gone:
            log.info(
                "sync %s: %d delivered events past their retention deleted", self.device_id, gone
            )

    # -- a stale store -------------------------------------------------------------------

    def _same_history(self, ack: Ack) -> bool:
        """True unless the hub's event under the acknowledged sequence is not this store's
        own there (the store is an older copy that went on alone): then it is stale."""
        if not ack.event_id or ack.up_to_seq <= self.acked:
            return True
        try:
            mine = self.store.event_id_at(ack.up_to_seq)
        except StoreError:
            return False  # not known now: the next ack will say
        if mine is None or mine == ack.event_id:
            return True
        self._on_stale(
            StoreStale(
                device_id=self.device_id,
                cause="conflict",
                hub_seq=ack.up_to_seq,
                store_seq=max(self.last_seq, ack.up_to_seq),
                conflict_seq=ack.up_to_seq,
                reason=(
                    f"this device's store does not hold the events the hub recorded from "
                    f"{self.device_id}: the hub recorded event {ack.event_id} under sequence "
                    f"{ack.up_to_seq}, this store holds {mine} there"
                )[:500],
            )
        )
        return False

    def _on_stale(self, message: StoreStale) -> None:
        """The hub says this store does not continue its record: stop sending (what is
        unsent stays in the outbox), remember it across restarts, tell the app once."""
        first = self.stale is None or self.stale.cause != message.cause
        self.stale = message
        self._sent_upto = self.acked
        self.diag.count("store.stale")
        if not first:
            return
        log.warning("sync %s: the hub says this store is stale: %s", self.device_id, message.reason)
        try:
            self.store.set_meta(STALE_WORD, message.model_dump_json())
        except StoreError as exc:
            self.diag.error(f"cannot record that the store is stale: {exc.reason}")
        self.news.store_stale.tell(stale_news(message))

    def request_recovery(self, user: str) -> bool:
        """Ask the hub for this store's history (sent from the agent thread); False when
        the store is not stale."""
        if self.stale is None:
            return False
        self._recover_by = user
        self.link.wake()
        return True

    def recovery_due(self) -> bool:
        """True when a recovery was asked for, not yet sent on this connection, and the
        link can carry it."""
        return (
            self._recover_by is not None
            and not self._recover_sent
            and self.stale is not None
            and self.link.online
        )

    def send_recovery(self) -> None:
        """Publish the recovery request: the store's unsent event ids (once per link-up)."""
        user = self._recover_by or ""
        request = StoreRecovery(
            device_id=self.device_id,
            store_id=self.store_id or "-",
            acked_seq=self.acked,
            event_ids=self.store.unsent_ids(0, RECOVERY_EVENT_LIMIT),
            user=user[:64],
            sent_at=time.time(),
        )
        if self.link.publish(self.topics.sync(self.device_id), encode(request)) is not None:
            log.warning("sync %s: store recovery asked for by %s", self.device_id, user or "?")
            self._recover_sent = True

    def _on_history(self, message: StoreHistory) -> None:
        """The hub's answer to a recovery: the store continues after its last sequence."""
        if self.stale is None:
            self.diag.count("history.unasked")
            return
        try:
            held, moved = self.store.rebase_outbox(message.hub_seq, set(message.known))
            self.store.set_meta(STALE_WORD, "")
        except StoreError as exc:
            self.diag.error(f"cannot recover the store: {exc.reason}")
            return
        self.stale = None
        self._recover_by = None
        self._recover_sent = False
        self.load()
        missing = tuple(
            f"{e.seq} {e.type}" + (f" {e.order_id}" if e.order_id else "") for e in message.missing
        )
        log.warning(
            "sync %s: store recovered: it continues after %d (%d unsent events already at "
            "the hub, %d renumbered; %d events at the hub are not in this store)",
            self.device_id,
            message.hub_seq,
            held,
            moved,
            message.missing_count,
        )
        self.news.store_recovered.tell(
            StoreRecovered(message.hub_seq, held, moved, message.missing_count, missing[:50])
        )
        self._request_sync()

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
        if self.recovery_due():
            self.send_recovery()
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
        if self.stale is not None:  # nothing is sent until the store is recovered
            return
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
