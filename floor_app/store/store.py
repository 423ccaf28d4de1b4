"""The device's local store: opening, migrating, units of work, and the outbox API for sync."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from . import migrate, outbox
from .engine import make_engine, read_engine
from .errors import StoreError, StoreUnavailable, translate
from .outbox import OutboxRecord
from .repositories import MetaRepository
from .unit_of_work import UnitOfWork

#: meta key of the store's identity (see :attr:`Store.store_id`)
STORE_ID = "store_id"
#: meta key of the hub's word that the store is stale, kept until it is recovered
STALE_WORD = "sync.store_stale"

CommitListener = Callable[[list[OutboxRecord]], None]

log = logging.getLogger("floor.store")


class Store:
    """A device's SQLite store. Open it with :meth:`Store.open`; one per process."""

    def __init__(self, path: Path, device_id: str, engine: Engine) -> None:
        self.path = path
        self.device_id = device_id
        self.engine = engine
        self.reader = read_engine(engine)
        self._listeners: list[CommitListener] = []
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls, path: Path, *, device_id: str, site: str = "", busy_timeout_ms: int = 5000
    ) -> Store:
        """Open (creating if needed) and migrate the store at ``path`` for ``device_id``.

        A store belongs to one device: opening it under another device id is refused, since
        its outbox sequence would otherwise be sent under the wrong name.
        """
        path = Path(path)
        engine = make_engine(path, busy_timeout_ms=busy_timeout_ms)
        try:
            migrate.upgrade(engine)
            store = cls(path, device_id, engine)
            with store.unit_of_work() as uow:
                owner = uow.meta.get("device_id")
                if owner is not None and owner != device_id:
                    raise StoreUnavailable(
                        f"{path} belongs to device {owner}, not {device_id}",
                        hint="use this device's own data folder, or set device.id to " + owner,
                    )
                if owner is None:
                    uow.meta.set("device_id", device_id)
                    uow.meta.set("site", site)
                made = uow.meta.get(STORE_ID) is None
                if made:  # once: a copy of the file keeps it
                    uow.meta.set(STORE_ID, outbox.new_event_id())
                if owner is None or made:
                    uow.commit()
        except sa_exc.DBAPIError as exc:
            engine.dispose()
            raise (
                translate(exc, str(path)) or StoreError(f"cannot open {path}: {exc.orig}")
            ) from exc
        except StoreError:
            engine.dispose()
            raise
        return store

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def unit_of_work(self) -> UnitOfWork:
        """A new write transaction (see :class:`UnitOfWork`)."""
        return UnitOfWork(self)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (deferred transaction; never blocks writers for long)."""
        session = Session(self.reader, expire_on_commit=False)
        try:
            yield session
        except sa_exc.DBAPIError as exc:
            raise (
                translate(exc, str(self.path))
                or StoreError(str(exc.orig), code="store.failed", params={"error": str(exc.orig)})
            ) from exc
        finally:
            session.rollback()
            session.close()

    # -- commit notifications (the sync agent wakes on them) --------------------------------

    def on_commit(self, listener: CommitListener) -> None:
        """Call ``listener`` with the outbox records of every successful commit."""
        with self._lock:
            self._listeners.append(listener)

    def notify_commit(self, records: list[OutboxRecord]) -> None:
        """Tell listeners about a commit (called by the unit of work)."""
        if not records:
            return
        for listener in list(self._listeners):
            try:
                listener(records)
            except Exception:  # the commit stands; a listener's bug must not undo it
                log.exception("commit listener %r failed", listener)

    # -- the outbox API for sync -----------------------------------------------------------

    def pending(self, *, after_seq: int = 0, limit: int = 500) -> list[OutboxRecord]:
        """Unacknowledged events after ``after_seq``, in sequence order."""
        with self.read() as s:
            return outbox.pending(s, after_seq=after_seq, limit=limit)

    def mark_acked(self, up_to_seq: int) -> int:
        """Record the hub's cumulative ack; returns how many events it newly covered."""
        with self.unit_of_work() as uow:
            n = outbox.mark_acked(uow.session, up_to_seq)
            uow.commit()
            return n

    def rebase_outbox(self, hub_seq: int, known: set[str]) -> tuple[int, int]:
        """Continue the outbox after the hub's ``hub_seq`` (a stale store's recovery, see
        :func:`outbox.rebase`); (events the hub already holds, events renumbered)."""
        with self.unit_of_work() as uow:
            counts = outbox.rebase(uow.session, hub_seq, known)
            uow.commit()
        return counts

    def unsent_ids(self, after_seq: int, limit: int) -> list[str]:
        """The ids of the outbox's events after ``after_seq`` that are not acknowledged,
        in sequence order (at most ``limit``)."""
        with self.read() as s:
            return outbox.unsent_ids(s, after_seq, limit)

    def reopen_outbox(self, after_seq: int) -> tuple[int, int]:
        """Count the events after ``after_seq`` unsent again (see :func:`outbox.reopen`)."""
        with self.unit_of_work() as uow:
            counts = outbox.reopen(uow.session, after_seq)
            uow.commit()
        return counts

    def prune_outbox(self, *, acked_before: float, keep_at_most: int) -> int:
        """Delete old delivered events (see :func:`outbox.prune`); how many went."""
        with self.unit_of_work() as uow:
            gone = outbox.prune(uow.session, acked_before=acked_before, keep_at_most=keep_at_most)
            uow.commit()
        return gone

    def event_id_at(self, seq: int) -> str | None:
        """The id of this store's event numbered ``seq`` (None: it holds none)."""
        with self.read() as s:
            return outbox.event_id_at(s, seq)

    @property
    def store_id(self) -> str:
        """This store's identity, made when it was created (a copy of the file keeps it)."""
        return self.meta(STORE_ID, "") or ""

    def outbox_stats(self) -> tuple[int, float | None, int]:
        """(unacked depth, created_at of the oldest unacked event, last sequence used)."""
        with self.read() as s:
            return outbox.stats(s)

    def meta(self, key: str, default: str | None = None) -> str | None:
        """Read a meta value."""
        with self.read() as s:
            return MetaRepository(s).get(key, default)

    def set_meta(self, key: str, value: str) -> None:
        """Write a meta value in its own transaction."""
        with self.unit_of_work() as uow:
            uow.meta.set(key, value)
            uow.commit()
