"""Shipping labels: a job per label keyed by an event id, printed once, scanned back.

* :meth:`LabelService.request` creates a :class:`LabelJob` whose ``job_id`` is a new event
  id. Asking again returns the same unprinted job (so a retry never makes a second label);
  a label that was printed can only be printed again as a reprint with a reason, and the
  old one is voided.
* :meth:`LabelService.print` renders the label with the
  :class:`~device_drivers.base.LabelRenderer` bootstrap handed the service (a label it
  cannot make is a failed print, with the reason), keeps a copy in the spool folder, sends
  it to the printer as a :class:`device_drivers.base.PrintJob` with the job id (a driver
  prints a job id once) and records :class:`LabelPrinted` under the job id as its outbox
  event id: the outbox's unique event id makes a second record of the same print
  impossible.
* :meth:`LabelService.confirm` checks the scanned-back label and records
  :class:`LabelConfirmed`; the order is labelled.

A label carries the parcel's facts (:class:`~floor_app.domain.labelling.ParcelFacts`): the
site's sender and return address (settings ``[label]``), the weight the pack station
accepted, the day the job was made as the ship date, and the piece (a parcel per order:
1/1). :meth:`LabelService.current` is the label of an order as it now stands (after a
reprint, the new job with its new tracking number).

``print`` blocks on the printer: the UI calls it from a thread worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select

from device_drivers.base import LabelError, LabelPrinter, LabelRenderer, PrintJob, PrintResult
from floor_app.domain.codes import CodeKind, classify
from floor_app.domain.errors import DomainError, NotFound
from floor_app.domain.events import LabelConfirmed, LabelPrinted
from floor_app.domain.labelling import ParcelFacts
from floor_app.domain.order import Address, Order, OrderState
from floor_app.domain.packing import LabelJob, LabelState, PackState, tracking_number
from floor_app.store import Store, UnitOfWork
from floor_app.store.outbox import new_event_id
from floor_app.store.tables import OutboxRow

from .errors import LabelNotMade, reports_store_failures


@dataclass(frozen=True, slots=True)
class LabelDocument:
    """A rendered label: ZPL for the printer and the lines a person reads on screen."""

    zpl: bytes
    lines: tuple[str, ...]
    png: bytes | None = None


log = logging.getLogger("floor.services.labels")


def label_lines(job: LabelJob, order: Order, parcel: ParcelFacts | None) -> tuple[str, ...]:
    """What the screen shows of the label of ``job``: carrier and service, the address and
    phone, the order and tracking number, sort code, weight, ship date and piece."""
    choice = order.carrier_choice
    sort = choice.sort_code if choice is not None and choice.sort_code else order.ship_to.country
    facts = (
        (
            f"{parcel.weight_g / 1000:.2f} kg",
            parcel.ship_date.isoformat(),
            f"{parcel.piece}/{parcel.pieces}",
        )
        if parcel is not None
        else ()
    )
    phone = (f"Tel {order.ship_to.phone}",) if order.ship_to.phone else ()
    return (
        f"{job.carrier or order.carrier or 'CARRIER'} {order.service}".strip(),
        *order.ship_to.as_label_lines(),
        *phone,
        f"{order.order_id}  {job.tracking}",
        sort,
        *facts,
    )


@reports_store_failures
class LabelService:
    """Label jobs for one station's printer."""

    def __init__(
        self,
        store: Store,
        printer: LabelPrinter | None,
        spool: Path,
        renderer: LabelRenderer,
        *,
        sender: Address | None = None,
        return_to: Address | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.spool = spool
        self.printer = printer
        self.renderer = renderer
        self.sender = sender
        self.return_to = return_to
        self.clock = clock

    def request(self, order_id: str, *, reprint_reason: str = "") -> LabelJob:
        """The label job to print for a packed order (see the module docstring)."""
        with self.store.unit_of_work() as uow:
            order = uow.orders.get(order_id)
            jobs = uow.packs.labels_for(order_id)
            unprinted = [j for j in jobs if j.state in (LabelState.QUEUED, LabelState.FAILED)]
            printed = [j for j in jobs if j.state in (LabelState.PRINTED, LabelState.CONFIRMED)]
            if not printed and unprinted:
                return unprinted[-1]
            if printed and not reprint_reason.strip():
                raise DomainError(
                    f"the label of {order_id} was printed already",
                    hint="a reprint needs a reason",
                    code="label.printed_already",
                    params={"order": order_id},
                )
            if order.state not in (OrderState.PACKED, OrderState.LABELLED):
                raise DomainError(
                    f"order {order_id} is {order.state}, not packed",
                    hint="weigh it first",
                    code="label.not_packed",
                    params={"order": order_id, "order_state": order.state.value},
                )
            previous = printed[-1] if printed else None
            for job in unprinted:
                job.state = LabelState.VOIDED
                uow.packs.save_label(job)
            if previous is not None:
                previous.state = LabelState.VOIDED
                uow.packs.save_label(previous)
                if order.state is OrderState.LABELLED:
                    order.transition(OrderState.PACKED, f"reprint: {reprint_reason}")
                    uow.orders.save(order)
                self._set_pack_state(uow, order_id, PackState.LABELLING)
            job = LabelJob(
                job_id=new_event_id(),
                order_id=order_id,
                tracking=tracking_number(order_id, len(jobs)),
                carrier=order.carrier or "DHL",
                reprint_of=previous.job_id if previous else None,
                reprint_reason=reprint_reason.strip() if previous else "",
            )
            uow.packs.save_label(job)
            uow.commit()
        return job

    def _order(self, job: LabelJob) -> tuple[Order, int | None]:
        """The order of ``job`` and the weight its parcel was packed at (if it was)."""
        with self.store.read() as session:
            from floor_app.store.repositories import OrderRepository, PackRepository

            order = OrderRepository(session).get(job.order_id)
            return order, PackRepository(session).packed_weight(job.order_id)

    def parcel(self, job: LabelJob, weight_g: int | None) -> ParcelFacts | None:
        """The facts of ``job``'s parcel (None without a sender or a weight)."""
        if self.sender is None or not weight_g or weight_g <= 0:
            return None
        made = job.created_at if job.created_at is not None else self.clock()
        return ParcelFacts(
            sender=self.sender,
            weight_g=weight_g,
            ship_date=date.fromtimestamp(made),
            return_to=self.return_to,
        )

    def current(self, order_id: str) -> LabelJob | None:
        """The label of ``order_id`` as it now stands: its newest job not voided."""
        with self.store.read() as session:
            from floor_app.store.repositories import PackRepository

            live = [
                j
                for j in PackRepository(session).labels_for(order_id)
                if j.state is not LabelState.VOIDED
            ]
        return live[-1] if live else None

    def lines(self, job: LabelJob) -> tuple[str, ...]:
        """What the screen shows of the label of ``job`` (nothing is rendered)."""
        order, weight = self._order(job)
        return label_lines(job, order, self.parcel(job, weight))

    def facts(self, job: LabelJob) -> tuple[Order, ParcelFacts]:
        """The order and parcel facts ``job``'s label is made from; :class:`LabelNotMade`
        without a sender address in the settings or a weighed parcel."""
        order, weight = self._order(job)
        if self.sender is None:
            raise LabelNotMade(
                f"the label of {job.order_id} cannot be made: no sender address",
                hint="set [label.sender] in the device's settings",
            )
        parcel = self.parcel(job, weight)
        if parcel is None:
            raise LabelNotMade(
                f"the label of {job.order_id} cannot be made: the parcel was not weighed",
                hint="weigh it at the pack station first",
            )
        return order, parcel

    def document(self, job: LabelJob) -> LabelDocument:
        """The rendered label of ``job``; :class:`LabelNotMade` when it cannot be made (see
        :meth:`facts`; the order's address or carrier, or no font for its text here)."""
        order, parcel = self.facts(job)
        try:
            rendered = self.renderer.render(job, order, parcel)
        except LabelError as exc:
            raise LabelNotMade(
                f"the label of {job.order_id} cannot be made: {exc}",
                code="label.cannot_make",
                params={"order": job.order_id, "error": str(exc)},
            ) from exc
        return LabelDocument(rendered.zpl, label_lines(job, order, parcel), rendered.png)

    def print(self, job: LabelJob, user: str) -> tuple[LabelJob, PrintResult]:
        """Render, spool and print ``job`` and record the outcome (blocking). A label that
        cannot be made is recorded as failed, with the reason."""
        try:
            doc = self.document(job)
        except LabelNotMade as exc:
            return self._record(job, user, PrintResult(job.job_id, printed=False, error=str(exc)))
        self.spool.mkdir(parents=True, exist_ok=True)
        (self.spool / f"{job.job_id}.zpl").write_bytes(doc.zpl)
        if doc.png is not None:
            (self.spool / f"{job.job_id}.png").write_bytes(doc.png)
        if self.printer is None:
            result = PrintResult(job.job_id, printed=False, error="no label printer configured")
        else:
            try:
                result = self.printer.print_job(PrintJob(job.job_id, doc.zpl, job.tracking))
            except Exception as exc:  # drivers never raise: a bug, logged, and a failed print
                log.exception("printer %s raised on job %s", self.printer.name, job.job_id)
                result = PrintResult(job.job_id, printed=False, error=str(exc))
        return self._record(job, user, result)

    def _record(
        self, job: LabelJob, user: str, result: PrintResult
    ) -> tuple[LabelJob, PrintResult]:
        with self.store.unit_of_work() as uow:
            stored = uow.packs.label(job.job_id)
            if stored is None:
                raise NotFound(
                    f"unknown label job {job.job_id}",
                    code="label.unknown_job",
                    params={"job": job.job_id},
                )
            if stored.state is LabelState.VOIDED:
                raise DomainError(
                    f"label job {job.job_id} was voided",
                    hint="print the new one",
                    code="label.voided",
                    params={"job": job.job_id},
                )
            stored.attempts += 1
            if result.printed:
                already = uow.session.scalar(
                    select(OutboxRow.seq).where(OutboxRow.event_id == job.job_id)
                )
                if stored.state not in (LabelState.PRINTED, LabelState.CONFIRMED):
                    stored.state = LabelState.PRINTED
                stored.last_error = ""
                if already is None:
                    uow.emit(
                        LabelPrinted(
                            job=job.job_id,
                            order=job.order_id,
                            tracking=job.tracking,
                            carrier=job.carrier,
                            user=user,
                            reprint_of=job.reprint_of or "",
                            reprint_reason=job.reprint_reason,
                        ),
                        event_id=job.job_id,
                    )
                self._set_pack_state(uow, job.order_id, PackState.CONFIRMING)
            else:
                stored.state = LabelState.FAILED
                stored.last_error = result.error or "not printed"
            uow.packs.save_label(stored)
            uow.commit()
        return stored, result

    def confirm(self, job_id: str, scanned: str, user: str) -> LabelJob:
        """The packer scanned the printed label back: check it and record it."""
        code = classify(scanned)
        if code.kind is not CodeKind.TRACKING:
            raise DomainError(
                f"{code.value} is a {code.kind.value} code, not a shipping label",
                hint="scan the big barcode on the label you just printed",
                code="label.not_label",
                params={"code": code.value, "code_kind": code.kind.value},
            )
        with self.store.unit_of_work() as uow:
            job = uow.packs.label(job_id)
            if job is None:
                raise NotFound(
                    f"unknown label job {job_id}", code="label.unknown_job", params={"job": job_id}
                )
            if job.state is LabelState.CONFIRMED:
                return job
            if job.state is not LabelState.PRINTED:
                raise DomainError(
                    f"label {job.tracking} is {job.state}, not printed",
                    code="label.not_printed",
                    params={"tracking": job.tracking, "label_state": job.state.value},
                )
            job.confirm_scan(code.value)
            uow.packs.save_label(job)
            order = uow.orders.get(job.order_id)
            if order.state is OrderState.PACKED:
                order.transition(OrderState.LABELLED, job.tracking)
                uow.orders.save(order)
            self._set_pack_state(uow, job.order_id, PackState.PACKED)
            uow.emit(
                LabelConfirmed(job=job.job_id, order=job.order_id, tracking=job.tracking, user=user)
            )
            uow.commit()
        return job

    @staticmethod
    def _set_pack_state(uow: UnitOfWork, order_id: str, state: PackState) -> None:
        session = uow.packs.open_session_for(order_id)
        if session is not None and session.state is not PackState.VERIFYING:
            session.state = state
            uow.packs.save_session(session)
