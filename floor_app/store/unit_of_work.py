"""The unit of work: one write transaction holding a state change and its outbox events.

Use it as a context manager; it rolls back unless :meth:`UnitOfWork.commit` was called::

    with store.unit_of_work() as uow:
        task = uow.tasks.get(task_id)
        task.line(line_id).confirm(1)
        uow.tasks.save(task)
        uow.emit(PickConfirmed(...))
        uow.commit()          # only now may the UI say "confirmed"

The transaction starts with ``BEGIN IMMEDIATE`` when the block is entered, so the
sequence number read for the outbox cannot be read by another writer at the same time.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from floor_app.domain.events import DomainEvent

from . import outbox
from .errors import StoreError, translate
from .outbox import OutboxRecord
from .repositories import (
    CatalogueRepository,
    MetaRepository,
    OrderRepository,
    PackRepository,
    ReceiptRepository,
    StockTaskRepository,
    TaskRepository,
    ToteRepository,
    UserRepository,
)

if TYPE_CHECKING:
    from .store import Store


class UnitOfWork:
    """One atomic write to the device store (see the module docstring)."""

    session: Session
    meta: MetaRepository
    catalogue: CatalogueRepository
    users: UserRepository
    orders: OrderRepository
    tasks: TaskRepository
    packs: PackRepository
    stock_tasks: StockTaskRepository
    totes: ToteRepository
    receipts: ReceiptRepository

    def __init__(self, store: Store) -> None:
        self._store = store
        self._committed = False
        self.events: list[OutboxRecord] = []

    def __enter__(self) -> UnitOfWork:
        self.session = Session(self._store.engine, expire_on_commit=False, autoflush=True)
        try:
            self.session.begin()
            self.session.connection()  # issue BEGIN IMMEDIATE now, not at the first write
        except sa_exc.DBAPIError as exc:
            self.session.close()
            raise self._translate(exc) from exc
        self.meta = MetaRepository(self.session)
        self.catalogue = CatalogueRepository(self.session)
        self.users = UserRepository(self.session)
        self.orders = OrderRepository(self.session)
        self.tasks = TaskRepository(self.session)
        self.packs = PackRepository(self.session)
        self.stock_tasks = StockTaskRepository(self.session)
        self.totes = ToteRepository(self.session)
        self.receipts = ReceiptRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                self.session.rollback()
        finally:
            self.session.close()
        # A database error inside the block (ORM or plain SQL on the connection) reaches
        # the caller as a StoreError with its reason; the transaction is already rolled back.
        if exc is not None and not isinstance(exc, StoreError):
            translated = translate(exc, str(self._store.path))
            if translated is not None:
                raise translated from exc

    def emit(
        self, event: DomainEvent, *, order_version: int | None = None, event_id: str | None = None
    ) -> OutboxRecord:
        """Record ``event`` in the outbox as part of this transaction.

        ``event_id`` keys an event whose id was chosen earlier (a label job's id).
        """
        record = outbox.append(
            self.session,
            self._store.device_id,
            event,
            order_version=order_version,
            event_id=event_id,
        )
        self.events.append(record)
        return record

    def commit(self) -> list[OutboxRecord]:
        """Make everything durable (fsync'd, ``synchronous=FULL``) or raise a :class:`StoreError`.

        On error the transaction is rolled back and nothing of it is kept.
        """
        try:
            self.session.commit()
        except sa_exc.DBAPIError as exc:
            self.session.rollback()
            raise self._translate(exc) from exc
        self._committed = True
        self._store.notify_commit(self.events)
        return self.events

    def _translate(self, exc: sa_exc.DBAPIError) -> StoreError:
        return translate(exc, str(self._store.path)) or StoreError(
            f"database error: {exc.orig}", code="store.failed", params={"error": str(exc.orig)}
        )
