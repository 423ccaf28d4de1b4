"""The printer driver's job rules over a scripted transport: never twice, status before and
after, retries with backoff, faults as states, nothing raised."""

from __future__ import annotations

import threading
import time

import pytest

from device_drivers.base import PrinterState, PrinterStatus, PrintJob
from device_drivers.printer import StatusTimeout, Transport, TransportError, ZplPrinter

pytestmark = pytest.mark.unit

LABEL = b"^XA^FO50,50^BCN,100^FD>:TRK0001000010006^FS^XZ"


class ScriptedTransport(Transport):
    """Answers from a script: each status query and send pops its next outcome."""

    can_query_status = True

    def __init__(self) -> None:
        self.statuses: list[PrinterStatus | Exception] = []
        self.sends: list[Exception | None] = []
        self.sent: list[bytes] = []
        self.queries = 0
        self.closed = False

    def query_status(self) -> PrinterStatus:
        self.queries += 1
        outcome = self.statuses.pop(0) if self.statuses else PrinterStatus()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def send(self, job: PrintJob) -> None:
        outcome = self.sends.pop(0) if self.sends else None
        if outcome is not None:
            raise outcome
        self.sent.append(job.data)

    def close(self) -> None:
        self.closed = True


def printer(transport: Transport, retries: int = 2) -> ZplPrinter:
    return ZplPrinter("printer", transport, retries=retries, retry_backoff_s=0.001)


def test_prints_once_with_status_before_and_after() -> None:
    transport = ScriptedTransport()
    p = printer(transport)
    result = p.print_job(PrintJob("01JOB", LABEL))
    assert result.printed and not result.duplicate and result.status is not None
    assert transport.sent == [LABEL]
    assert transport.queries == 2
    assert p.state is PrinterState.READY


def test_a_job_id_never_prints_twice() -> None:
    transport = ScriptedTransport()
    p = printer(transport)
    assert p.print_job(PrintJob("01JOB", LABEL)).printed
    again = p.print_job(PrintJob("01JOB", LABEL))
    assert again.printed and again.duplicate
    assert transport.sent == [LABEL]


def test_paper_out_is_a_state_and_the_job_is_not_sent() -> None:
    transport = ScriptedTransport()
    transport.statuses = [PrinterStatus(paper_out=True)] * 3
    p = printer(transport)
    result = p.print_job(PrintJob("01JOB", LABEL))
    assert not result.printed
    assert "paper out" in result.error and "3 attempts" in result.error
    assert transport.sent == []
    assert p.state is PrinterState.PAPER_OUT


def test_a_failed_job_is_retried_and_then_printed() -> None:
    transport = ScriptedTransport()
    transport.statuses = [PrinterStatus(head_open=True)]
    transport.sends = [TransportError("connection reset")]
    states: list[PrinterState] = []
    p = printer(transport, retries=3)
    p.on_state_change(lambda change: states.append(change.new))
    result = p.print_job(PrintJob("01JOB", LABEL))
    assert result.printed
    assert transport.sent == [LABEL]
    assert PrinterState.HEAD_OPEN in states and PrinterState.ERROR in states
    assert states[-1] is PrinterState.READY


def test_no_status_answer_means_not_sent() -> None:
    transport = ScriptedTransport()
    transport.statuses = [StatusTimeout("no status reply within 2 s")] * 2
    p = printer(transport, retries=1)
    result = p.print_job(PrintJob("01JOB", LABEL))
    assert not result.printed and "no status reply" in result.error
    assert transport.sent == []
    assert p.state is PrinterState.ERROR


def test_unreachable_is_disconnected() -> None:
    transport = ScriptedTransport()
    transport.statuses = [TransportError("refused", unreachable=True)]
    p = printer(transport, retries=0)
    result = p.print_job(PrintJob("01JOB", LABEL))
    assert not result.printed and result.error == "refused (1 attempt)"
    assert p.state is PrinterState.DISCONNECTED


def test_paper_out_after_printing_shows_but_the_job_counts_as_printed() -> None:
    transport = ScriptedTransport()
    transport.statuses = [PrinterStatus(), PrinterStatus(paper_out=True)]
    p = printer(transport)
    result = p.print_job(PrintJob("01JOB", LABEL))
    assert result.printed and result.status is not None and result.status.paper_out
    assert p.state is PrinterState.PAPER_OUT
    assert p.print_job(PrintJob("01JOB", LABEL)).duplicate


def test_bad_jobs_are_refused_without_touching_the_printer() -> None:
    transport = ScriptedTransport()
    p = printer(transport)
    assert "invalid job id" in p.print_job(PrintJob("two words", LABEL)).error
    assert "invalid job id" in p.print_job(PrintJob("", LABEL)).error
    assert "empty" in p.print_job(PrintJob("01JOB", b"")).error
    assert transport.queries == 0


def test_a_transport_bug_is_an_error_state_not_an_exception() -> None:
    transport = ScriptedTransport()
    transport.statuses = [RuntimeError("bug")]
    p = printer(transport, retries=0)
    assert p.query_status().raw == ""
    assert p.state is PrinterState.ERROR and "bug" in p.last_error


def test_start_checks_in_the_background_and_stop_ends_retries() -> None:
    transport = ScriptedTransport()
    transport.statuses = [PrinterStatus(paused=True)] * 100
    p = ZplPrinter("printer", transport, retries=50, retry_backoff_s=5.0)
    p.start()
    deadline = time.monotonic() + 5
    while p.state is not PrinterState.PAUSED and time.monotonic() < deadline:
        time.sleep(0.01)
    assert p.state is PrinterState.PAUSED
    results = []
    worker = threading.Thread(target=lambda: results.append(p.print_job(PrintJob("J", LABEL))))
    worker.start()
    time.sleep(0.1)
    p.stop()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert not results[0].printed and "stopped" in results[0].error
    assert p.state is PrinterState.STOPPED and transport.closed
