"""Shipping labels: a job per label keyed by an event id, printed once, scanned back.

* :meth:`LabelService.request` creates a :class:`LabelJob` whose ``job_id`` is a new event
  id. Asking again returns the same unprinted job (so a retry never makes a second label);
  a label that was printed can only be printed again as a reprint with a reason, and the
  old one is voided.
* :meth:`LabelService.print` renders the label, keeps a copy in the spool folder, sends it
  to the printer as a :class:`device_drivers.base.PrintJob` with the job id (a driver
  prints a job id once) and records :class:`LabelPrinted` under the job id as its outbox
  event id: the outbox's unique event id makes a second record of the same print
  impossible.
* :meth:`LabelService.confirm` checks the scanned-back label and records
  :class:`LabelConfirmed`; the order is labelled.

``print`` blocks on the printer: the UI calls it from a thread worker.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from device_drivers.base import LabelPrinter, PrinterState, PrinterStatus, PrintJob, PrintResult
from floor_app.domain.codes import CodeKind, classify
from floor_app.domain.errors import DomainError, NotFound
from floor_app.domain.events import LabelConfirmed, LabelPrinted
from floor_app.domain.order import Order, OrderState
from floor_app.domain.packing import LabelJob, LabelState, PackState, tracking_number
from floor_app.store import Store, UnitOfWork
from floor_app.store.outbox import new_event_id
from floor_app.store.tables import OutboxRow


@dataclass(frozen=True, slots=True)
class LabelDocument:
    """A rendered label: ZPL for the printer and the lines a person reads on screen."""

    zpl: bytes
    lines: tuple[str, ...]
    png: bytes | None = None


def render_label(job: LabelJob, order: Order) -> LabelDocument:
    """The label of ``job``: the labels module's rendering when present, else plain ZPL."""
    try:
        module = importlib.import_module("device_drivers.labels")
    except ImportError:
        module = None
    lines = (
        f"{job.carrier or order.carrier or 'CARRIER'} {order.service}".strip(),
        *order.ship_to.as_label_lines(),
        f"{order.order_id}  {job.tracking}",
    )
    if module is not None and hasattr(module, "render_shipping_label"):
        try:
            rendered = module.render_shipping_label(job=job, order=order)
            zpl = getattr(rendered, "zpl", rendered)
            png = getattr(rendered, "png", None)
            if isinstance(zpl, bytes):
                return LabelDocument(zpl, lines, png if isinstance(png, bytes) else None)
        except Exception:  # fall back to the plain label rather than stop the packer
            pass
    return LabelDocument(plain_zpl(job, order), lines)


def _zpl_text(text: str) -> str:
    return text.replace("^", " ").replace("~", " ")


def plain_zpl(job: LabelJob, order: Order) -> bytes:
    """A 4x6 in label at 203 dpi: carrier, address, tracking as Code 128, order as QR."""
    out = ["^XA", "^CI28", "^PW812", "^LL1218"]
    out.append(f"^FO40,40^A0N,60,60^FD{_zpl_text(job.carrier or order.carrier)}^FS")
    y = 140
    for line in order.ship_to.as_label_lines():
        out.append(f"^FO40,{y}^A0N,40,40^FD{_zpl_text(line)}^FS")
        y += 50
    out.append(f"^FO40,{y + 40}^BY3^BCN,160,Y,N,N^FD{job.tracking}^FS")
    out.append(f"^FO40,{y + 280}^BQN,2,6^FDQA,{order.order_id} {job.tracking}^FS")
    out.append(f"^FO420,{y + 300}^A0N,40,40^FD{order.order_id}^FS")
    out.append("^XZ")
    return "\n".join(out).encode("utf-8")


class SpoolFolderPrinter(LabelPrinter):
    """A printer that writes each job to ``folder/<job id>.zpl`` (demo mode, no hardware).

    A job id already in the folder is reported as a duplicate and not written again.
    """

    def __init__(self, folder: Path, name: str = "spool") -> None:
        super().__init__(name, required=False)
        self.folder = folder

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._set_state(PrinterState.READY)

    def stop(self) -> None:
        self._set_state(PrinterState.STOPPED)

    def query_status(self) -> PrinterStatus:
        return PrinterStatus()

    def print_job(self, job: PrintJob) -> PrintResult:
        path = self.folder / f"{job.job_id}.zpl"
        if path.exists():
            return PrintResult(job.job_id, printed=True, duplicate=True)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(job.data)
            tmp.replace(path)
        except OSError as exc:
            self._set_state(PrinterState.ERROR, str(exc))
            return PrintResult(job.job_id, printed=False, error=str(exc))
        self._set_state(PrinterState.READY)
        return PrintResult(job.job_id, printed=True)


class LabelService:
    """Label jobs for one station's printer."""

    def __init__(self, store: Store, printer: LabelPrinter | None, spool: Path) -> None:
        self.store = store
        self.spool = spool
        self.printer = printer

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
                )
            if order.state not in (OrderState.PACKED, OrderState.LABELLED):
                raise DomainError(
                    f"order {order_id} is {order.state}, not packed", hint="weigh it first"
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

    def document(self, job: LabelJob) -> LabelDocument:
        """The rendered label of ``job`` (for the preview)."""
        with self.store.read() as session:
            from floor_app.store.repositories import OrderRepository

            order = OrderRepository(session).get(job.order_id)
        return render_label(job, order)

    def print(self, job: LabelJob, user: str) -> tuple[LabelJob, PrintResult]:
        """Render, spool and print ``job`` and record the outcome (blocking)."""
        doc = self.document(job)
        self.spool.mkdir(parents=True, exist_ok=True)
        (self.spool / f"{job.job_id}.zpl").write_bytes(doc.zpl)
        if doc.png is not None:
            (self.spool / f"{job.job_id}.png").write_bytes(doc.png)
        if self.printer is None:
            result = PrintResult(job.job_id, printed=False, error="no label printer configured")
        else:
            try:
                result = self.printer.print_job(PrintJob(job.job_id, doc.zpl, job.tracking))
            except Exception as exc:  # a driver must not raise; if it does, it is a failure
                result = PrintResult(job.job_id, printed=False, error=str(exc))
        with self.store.unit_of_work() as uow:
            stored = uow.packs.label(job.job_id)
            if stored is None:
                raise NotFound(f"unknown label job {job.job_id}")
            if stored.state is LabelState.VOIDED:
                raise DomainError(f"label job {job.job_id} was voided", hint="print the new one")
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
            )
        with self.store.unit_of_work() as uow:
            job = uow.packs.label(job_id)
            if job is None:
                raise NotFound(f"unknown label job {job_id}")
            if job.state is LabelState.CONFIRMED:
                return job
            if job.state is not LabelState.PRINTED:
                raise DomainError(f"label {job.tracking} is {job.state}, not printed")
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
