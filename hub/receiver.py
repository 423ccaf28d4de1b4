"""What the hub does with each message it receives, independent of MQTT.

:meth:`Receiver.handle` takes a topic and its payload, runs the one transaction that
message needs, and returns the committed messages to publish. Bad input never raises:
it is dead-lettered with its reason and counted. Only a database that cannot be reached
raises (:class:`~hub.errors.DatabaseUnavailable`): then the MQTT message must not be
acknowledged, so the broker delivers it again later.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, select
from sqlalchemy import exc as sa_exc

from hub.metrics import HubMetrics
from sync.protocol import (
    DeviceStatus,
    ProtocolError,
    StoreRecovery,
    TopicError,
    TopicKind,
    TopicRef,
    Topics,
    check_device,
    decode,
    decode_sync,
)

from . import dead_letters, history
from .apply import CURSORS, ApplyResult, apply_batch
from .batch_reader import read_batch
from .database import run_transaction
from .errors import DatabaseUnavailable, UnknownDevice
from .handlers import HandlerSettings
from .intake import take_raw
from .leases import renew_leases
from .outbound import Outbound, OutMessage, transact
from .presence import catch_up, record_presence, sound_hub_seq, sync_reply
from .tables import DeviceRow, table_of
from .upstream_cancel import take_cancel

log = logging.getLogger("floor.hub.receiver")

DEVICES = table_of(DeviceRow)


@dataclass
class Handled:
    """The outcome of one received message."""

    messages: list[OutMessage] = field(default_factory=list)
    note: str = ""
    #: A transaction committed (the crash-after-commit hook applies).
    committed: bool = False
    #: A gap was seen and the batch was left for a moment (shared subscription); not acked.
    deferred: bool = False
    result: ApplyResult | None = None


#: dead-letter code of a message whose content the database refused
DB_REFUSED = "db_refused"


class Receiver:
    """Handles messages of one site against the hub database."""

    def __init__(
        self,
        engine: Engine,
        site: str,
        *,
        settings: HandlerSettings | None = None,
        metrics: HubMetrics | None = None,
    ) -> None:
        self.engine = engine
        self.topics = Topics(site)
        self.settings = settings or HandlerSettings()
        self.metrics = metrics
        self.counts: Counter[str] = Counter()

    # -- entry point ---------------------------------------------------------------------

    def handle(self, topic: str, payload: bytes, *, defer_gaps: bool = False) -> Handled:
        """Handle one message (see the module docstring)."""
        try:
            ref = self.topics.parse(topic)
        except TopicError as exc:
            return self._dead(topic, payload, dead_letters.WRONG_TOPIC, str(exc), None)
        try:
            if ref.kind is TopicKind.EVT:
                return self._events(ref, topic, payload, defer_gaps)
            if ref.kind is TopicKind.ORDERS_IN:
                return self._intake(payload)
            if ref.kind is TopicKind.ORDERS_CANCEL:
                return self._cancel(payload)
            if ref.kind is TopicKind.SYNC:
                return self._sync(ref, topic, payload)
            if ref.kind is TopicKind.STATUS:
                return self._status(ref, topic, payload)
        except (sa_exc.DataError, sa_exc.IntegrityError) as exc:
            # the database refused this message's content (a value, a constraint): the
            # message is dead-lettered and the stream goes on; told apart from an outage
            # by the error's class, never its text
            log.warning("the hub database refused a message on %s: %s", topic, exc.orig)
            return self._dead(
                topic, payload, DB_REFUSED, f"{type(exc.orig).__name__}: {exc.orig}", ref.device_id
            )
        except sa_exc.DBAPIError as exc:
            raise DatabaseUnavailable(f"the hub database failed: {exc.orig}") from exc
        except DatabaseUnavailable:
            raise
        except Exception as exc:  # a bug must not stop the hub: dead-letter and go on
            log.exception("handling a message on %s failed", topic)
            return self._dead(
                topic, payload, "hub_error", f"{type(exc).__name__}: {exc}", ref.device_id
            )
        self.counts["ignored"] += 1
        return Handled(note=f"{ref.kind.value} is not for the hub")

    # -- kinds ---------------------------------------------------------------------------

    def _dead(
        self, topic: str, payload: bytes, code: str, reason: str, device: str | None
    ) -> Handled:
        self.counts[f"dead_letter.{code}"] += 1
        if self.metrics is not None:
            self.metrics.dead_letter(code, device)
        letter = dead_letters.letter(topic, payload, code, reason, device)
        try:
            _, sent = transact(
                self.engine,
                self.topics,
                lambda conn, out: dead_letters.record(conn, out, letter),
                "dead letter",
            )
        except (sa_exc.DataError, sa_exc.IntegrityError) as exc:
            # even the letter's text is refused: keep its code and size, never block
            log.warning("dead letter on %s kept without its text: %s", topic, exc.orig)
            bare = letter.model_copy(
                update={
                    "topic": topic.encode("ascii", "replace").decode()[:200],
                    "reason": f"{code} (its text was refused by the database)",
                    "payload_excerpt": "",
                    "device_id": None,
                }
            )
            _, sent = transact(
                self.engine,
                self.topics,
                lambda conn, out: dead_letters.record(conn, out, bare),
                "dead letter",
            )
        return Handled(sent, note=f"{code}: {reason}", committed=True)

    def _events(self, ref: TopicRef, topic: str, payload: bytes, defer_gaps: bool) -> Handled:
        device = ref.device_id or ""
        try:
            batch = read_batch(payload, device)
        except ProtocolError as exc:
            return self._dead(topic, payload, exc.code, exc.reason, device)

        def work(conn: Connection) -> ApplyResult | None:
            if defer_gaps and self._gap_only(conn, device, batch.records[0].seq):
                return None
            return apply_batch(
                conn, device, batch.records, site=self.topics.site, settings=self.settings
            )

        started = time.perf_counter()
        try:
            result = run_transaction(self.engine, work, what=f"batch of {device}")
        except UnknownDevice as exc:
            return self._dead(topic, payload, dead_letters.UNKNOWN_DEVICE, exc.reason, device)
        if result is None:
            self.counts["gap_deferred"] += 1
            return Handled(note="gap: deferred", deferred=True)
        if result.stale is not None:
            self.counts["stale_store"] += 1
            return Handled(result.messages, note=result.stale.reason, committed=True)
        self.counts["batches"] += 1
        self.counts["events_applied"] += result.applied
        self.counts["duplicates"] += result.duplicates
        if result.gap_from is not None:
            self.counts["gaps"] += 1
        if self.metrics is not None:
            self._measure(device, result, time.perf_counter() - started)
        return Handled(result.messages, committed=True, result=result)

    def _measure(self, device: str, result: ApplyResult, seconds: float) -> None:
        metrics = self.metrics
        assert metrics is not None
        for event_type, count in result.types.items():
            metrics.event_applied(device, event_type, count)
        if result.duplicates:
            metrics.event_duplicate(device, result.duplicates)
        for _, outcome in result.outcomes:
            if outcome.kind == "rejected":
                metrics.dead_letter(dead_letters.REJECTED_EVENT, device)
        metrics.device_applied_seq(device, result.acked_up_to)
        metrics.observe_apply_seconds(seconds)

    @staticmethod
    def _gap_only(conn: Connection, device: str, first_seq: int) -> bool:
        """True when the batch starts beyond the next sequence (a look without a lock)."""
        last = conn.execute(
            select(CURSORS.c.last_seq).where(CURSORS.c.device_id == device)
        ).scalar()
        return last is not None and first_seq > int(last) + 1

    def _intake(self, payload: bytes) -> Handled:
        result, sent = transact(
            self.engine,
            self.topics,
            lambda conn, out: take_raw(
                conn, out, payload, source="orders/in", limits=self.settings.intake
            ),
            "intake",
        )
        self.counts["orders_accepted" if result.accepted else "orders_rejected"] += 1
        note = "accepted" if result.accepted else "; ".join(result.reasons)
        return Handled(sent, note=f"{result.order_id}: {note}", committed=True)

    def _cancel(self, payload: bytes) -> Handled:
        outcome, sent = transact(
            self.engine,
            self.topics,
            lambda conn, out: take_cancel(conn, out, payload),
            "cancel",
        )
        result = outcome.result
        self.counts[f"cancels_{result.outcome}"] += 1
        if outcome.code:
            self.counts[f"dead_letter.{outcome.code}"] += 1
            if self.metrics is not None:
                self.metrics.dead_letter(outcome.code, None)
        note = f"{result.order_id or '?'}: {result.outcome}"
        return Handled(sent, note=f"{note}: {result.reason}", committed=True)

    def _known(self, conn: Connection, device: str) -> bool:
        return (
            conn.execute(select(DEVICES.c.device_id).where(DEVICES.c.device_id == device)).first()
            is not None
        )

    def _sync(self, ref: TopicRef, topic: str, payload: bytes) -> Handled:
        device = ref.device_id or ""
        try:
            request = decode_sync(payload)
            check_device(device, request.device_id)
        except ProtocolError as exc:
            return self._dead(topic, payload, exc.code, exc.reason, device)
        if isinstance(request, StoreRecovery):
            return self._recover(request, topic, payload)

        def work(conn: Connection, out: Outbound) -> list[OutMessage] | None:
            if not self._known(conn, device):
                return None
            return sync_reply(conn, out, request)

        reply, sent = transact(self.engine, self.topics, work, "sync")
        if reply is None:
            return self._dead(
                topic,
                payload,
                dead_letters.UNKNOWN_DEVICE,
                f"device {device!r} is not registered with the hub",
                device,
            )
        self.counts["sync_requests"] += 1
        return Handled(reply + sent, note=f"sync from {request.since_cursor}")

    def _recover(self, request: StoreRecovery, topic: str, payload: bytes) -> Handled:
        now = time.time()
        answer, sent = transact(
            self.engine,
            self.topics,
            lambda conn, out: history.recover(
                conn, out, request, raw=payload, topic=topic, now=now
            ),
            "store recovery",
        )
        if answer is None:
            return self._dead(
                topic,
                payload,
                dead_letters.UNKNOWN_DEVICE,
                f"device {request.device_id!r} is not registered with the hub",
                request.device_id,
            )
        self.counts["store_recoveries"] += 1
        log.warning(
            "%s recovered its store: it continues after %d; %d events only the hub holds",
            request.device_id,
            answer.hub_seq,
            answer.missing_count,
        )
        return Handled(sent, note=f"store recovered after {answer.hub_seq}", committed=True)

    def _status(self, ref: TopicRef, topic: str, payload: bytes) -> Handled:
        device = ref.device_id or ""
        if not payload:
            return Handled(note="retained status cleared")
        try:
            status = decode(DeviceStatus, payload)
            check_device(device, status.device_id)
        except (ProtocolError, ValidationError) as exc:
            code = exc.code if isinstance(exc, ProtocolError) else "invalid"
            return self._dead(topic, payload, code, str(exc), device)
        now = time.time()

        def work(conn: Connection, out: Outbound) -> bool | None:
            if not self._known(conn, device):
                return None
            kept = record_presence(conn, status, now)
            if kept and status.state == "online":  # alive: the tasks it works on stay its own
                renew_leases(conn, device, now, self.settings.lease_s)
            if kept and status.health is not None:  # a restored hub catches up with it
                catch_up(
                    conn,
                    out,
                    device,
                    hub_seq=sound_hub_seq(conn, device),
                    acked_seq=status.health.acked_seq,
                    push_cursor=status.health.push_cursor,
                )
            return kept

        kept, sent = transact(self.engine, self.topics, work, "presence")
        if kept is None:
            self.counts["status_unknown_device"] += 1
            return Handled(note=f"status of unregistered device {device}")
        self.counts["statuses"] += 1
        if kept and self.metrics is not None:
            self.metrics.device_status(status)
        return Handled(sent, note="kept" if kept else "older epoch: ignored")
