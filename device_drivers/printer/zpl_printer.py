"""A ZPL label printer behind any transport: status before and after, retries, never twice.

For every job :meth:`ZplPrinter.print_job`:

1. returns ``duplicate`` at once when the job id was printed before (the ids are kept in
   a file, see :class:`~device_drivers.printer.printed.PrintedJobs`, so a restart does not
   reprint);
2. asks the printer's status (``~HS``) where the transport can. Paper out, head open,
   paused or ribbon out become the printer's state and the job is not sent; a printer that
   gives no answer is not sent the job either (it may print it later, when nobody expects
   it, and the retry would print it a second time);
3. sends the job. TCP and serial send every byte or raise; the ``^XZ`` that makes a printer
   print is the last byte, so a send that failed half-way printed nothing and may be retried;
4. records the id as printed, then asks the status again, so a printer that ran out of
   paper on this label shows it at once;
5. on failure waits ``retry_backoff_s``, doubling, and tries again up to ``retries``
   times; then the result says why, and the printer's state shows it.

Every state change goes through ``_set_state``; nothing here raises into the caller.
"""

from __future__ import annotations

import logging
import threading

from device_drivers.base import (
    DetailValue,
    LabelPrinter,
    PrinterState,
    PrinterStatus,
    PrintJob,
    PrintResult,
)
from device_drivers.config import PrinterConfig

from .printed import PrintedJobs, valid_job_id
from .transport import StatusTimeout, Transport, TransportError

log = logging.getLogger(__name__)


def state_of(status: PrinterStatus) -> tuple[PrinterState, str]:
    """The printer state and message a status reply means."""
    if status.paper_out:
        return PrinterState.PAPER_OUT, "paper out: load a new roll of labels"
    if status.head_open:
        return PrinterState.HEAD_OPEN, "print head open: close it"
    if status.ribbon_out:
        return PrinterState.ERROR, "ribbon out: load a new ribbon"
    if status.paused:
        return PrinterState.PAUSED, "printer paused: press its pause key"
    return PrinterState.READY, ""


class ZplPrinter(LabelPrinter):
    """A label printer reached through ``transport`` (see the module docstring)."""

    def details(self) -> dict[str, DetailValue]:
        out = super().details()
        if self.config is not None:
            out["transport"] = self.config.transport
            where = {
                "tcp": f"{self.config.host}:{self.config.port}",
                "serial": self.config.serial_port,
                "cups": self.config.cups_queue,
            }.get(self.config.transport, "")
            if where:
                out["address"] = where
        return out

    def __init__(
        self,
        name: str,
        transport: Transport,
        *,
        required: bool = True,
        retries: int = 3,
        retry_backoff_s: float = 1.0,
        printed: PrintedJobs | None = None,
        config: PrinterConfig | None = None,
    ) -> None:
        super().__init__(name, required=required)
        self.config = config
        self.transport = transport
        self.retries = retries
        self.retry_backoff_s = retry_backoff_s
        self.printed = printed if printed is not None else PrintedJobs()
        self.last_status: PrinterStatus | None = None
        self._job_lock = threading.Lock()
        self._io_lock = threading.Lock()
        self._stopping = threading.Event()
        self._probe: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Check the printer in the background (state ``connecting`` until known)."""
        self._stopping.clear()
        self._set_state(PrinterState.CONNECTING)
        self._probe = threading.Thread(
            target=self.query_status, name=f"{self.name}-status", daemon=True
        )
        self._probe.start()

    def stop(self) -> None:
        """Stop retrying and release the transport; idempotent."""
        self._stopping.set()
        if self._probe is not None and self._probe is not threading.current_thread():
            self._probe.join(timeout=10)
        with self._io_lock:
            self.transport.close()
        self._set_state(PrinterState.STOPPED)

    # -- status ------------------------------------------------------------------------

    def _report(self, state: PrinterState, message: str = "") -> None:
        """Change the state, unless the printer is being stopped (STOPPED stays)."""
        if not self._stopping.is_set():
            self._set_state(state, message)

    def query_status(self) -> PrinterStatus:
        """Ask the printer (or check the spool/queue); faults become states, never raise.

        When there is no answer, the returned status has an empty ``raw``: read the state.
        """
        status, _ok, _error = self._check()
        return status if status is not None else PrinterStatus(raw="")

    def _check(self) -> tuple[PrinterStatus | None, bool, str]:
        """``(status, may print, error)``, the state set to match."""
        try:
            with self._io_lock:
                if self.transport.can_query_status:
                    status = self.transport.query_status()
                else:
                    self.transport.check()
                    status = None
        except StatusTimeout as exc:
            self._report(PrinterState.ERROR, str(exc))
            return None, False, str(exc)
        except TransportError as exc:
            state = PrinterState.DISCONNECTED if exc.unreachable else PrinterState.ERROR
            self._report(state, str(exc))
            return None, False, str(exc)
        except Exception as exc:  # a bug in a transport must not reach the caller
            self._report(PrinterState.ERROR, f"status check failed: {exc}")
            return None, False, str(exc)
        if status is None:
            self._report(PrinterState.READY)
            return None, True, ""
        self.last_status = status
        state, message = state_of(status)
        self._report(state, message)
        return status, state is PrinterState.READY, message

    # -- printing ----------------------------------------------------------------------

    def print_job(self, job: PrintJob) -> PrintResult:
        """Print ``job`` once (see the module docstring); blocks, never raises."""
        if not valid_job_id(job.job_id):
            return PrintResult(job.job_id, printed=False, error=f"invalid job id {job.job_id!r}")
        if not job.data:
            return PrintResult(job.job_id, printed=False, error="empty print job")
        with self._job_lock:
            if job.job_id in self.printed:
                return PrintResult(job.job_id, printed=True, duplicate=True)
            if self.printed.load_error:
                self._report(PrinterState.ERROR, self.printed.load_error)
                return PrintResult(job.job_id, printed=False, error=self.printed.load_error)
            error = ""
            status: PrinterStatus | None = None
            attempts = self.retries + 1
            for attempt in range(attempts):
                if attempt and self._stopping.wait(self.retry_backoff_s * 2 ** (attempt - 1)):
                    error = f"printer stopped; last error: {error}"
                    break
                status, may_print, error = self._check()
                if not may_print:
                    continue
                sent, error = self._send(job)
                if not sent:
                    continue
                after, _ok, _error = self._check()
                return PrintResult(job.job_id, printed=True, status=after or status)
            tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
            return PrintResult(job.job_id, printed=False, error=f"{error} ({tries})", status=status)

    def _send(self, job: PrintJob) -> tuple[bool, str]:
        self._report(PrinterState.PRINTING)
        try:
            with self._io_lock:
                self.transport.send(job)
        except TransportError as exc:
            state = PrinterState.DISCONNECTED if exc.unreachable else PrinterState.ERROR
            self._report(state, str(exc))
            return False, str(exc)
        except Exception as exc:
            self._report(PrinterState.ERROR, f"sending failed: {exc}")
            return False, str(exc)
        try:
            self.printed.add(job.job_id)
        except OSError as exc:  # printed all the same: never report it failed (reprint)
            log.error(
                "label %s printed but not recorded in %s: %s", job.job_id, self.printed.path, exc
            )
        self._report(PrinterState.READY)
        return True, ""
