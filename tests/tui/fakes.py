"""Small fakes of the driver and sync abstractions for the screen tests (they subclass the
real abstract classes; the shared fakes of device_drivers/fakes.py replace them once there)."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from device_drivers.base import (
    LabelPrinter,
    PrinterState,
    PrinterStatus,
    PrintJob,
    PrintResult,
    Scale,
    ScaleState,
    Scan,
    Scanner,
    ScannerState,
    Weight,
)
from floor_app.domain.symbology import Symbology


class FakeScanner(Scanner):
    """A scanner whose scans and unplugging the test drives (from any thread)."""

    def start(self) -> None:
        self._set_state(ScannerState.READY)

    def stop(self) -> None:
        self._set_state(ScannerState.STOPPED)

    def scan(self, text: str) -> None:
        self._emit_scan(Scan(text, text.encode(), Symbology.UNKNOWN, self.name, time.time()))

    def unplug(self) -> None:
        self._set_state(ScannerState.DISCONNECTED, "device unplugged")

    def replug(self) -> None:
        self._set_state(ScannerState.READY)


class FakeScale(Scale):
    """A scale that reads whatever the test put on it."""

    def __init__(self, name: str = "scale") -> None:
        super().__init__(name)
        self.grams = 0

    def start(self) -> None:
        self._set_state(ScaleState.READY)

    def stop(self) -> None:
        self._set_state(ScaleState.STOPPED)

    def read(self, *, stable: bool = True, timeout: float = 2.0) -> Weight:
        return Weight(Decimal(self.grams), "g", True, self.name)

    def zero(self) -> None:
        self.grams = 0

    def tare(self) -> Weight:
        return self.read()


class FakePrinter(LabelPrinter):
    """A printer that records jobs, prints each job id once, and can be made to fail."""

    def __init__(self, name: str = "printer") -> None:
        super().__init__(name)
        self.jobs: list[PrintJob] = []
        self.fail = ""

    def start(self) -> None:
        self._set_state(PrinterState.READY)

    def stop(self) -> None:
        self._set_state(PrinterState.STOPPED)

    def query_status(self) -> PrinterStatus:
        return PrinterStatus(paper_out=bool(self.fail))

    def print_job(self, job: PrintJob) -> PrintResult:
        if self.fail:
            self._set_state(PrinterState.PAPER_OUT, self.fail)
            return PrintResult(job.job_id, printed=False, error=self.fail)
        if any(j.job_id == job.job_id for j in self.jobs):
            return PrintResult(job.job_id, printed=True, duplicate=True)
        self.jobs.append(job)
        return PrintResult(job.job_id, printed=True)


class FakeRefusal:
    """What the sync agent hands to claim-refused listeners."""

    def __init__(self, reason: str, task_id: str | None = None, order_id: str | None = None):
        self.reason = reason
        self.task_id = task_id
        self.order_id = order_id


class FakeSync:
    """The sync agent's listener API, driven by the test."""

    def __init__(self) -> None:
        self.online = False
        self.listeners: dict[str, list[Callable[[Any], None]]] = {}

    def status(self) -> Any:
        return type("S", (), {"online": self.online, "detail": ""})()

    def on_claim_refused(self, listener: Callable[[Any], None]) -> None:
        self.listeners.setdefault("refused", []).append(listener)

    def on_push_applied(self, listener: Callable[[Any], None]) -> None:
        self.listeners.setdefault("push", []).append(listener)

    def on_online_changed(self, listener: Callable[[Any], None]) -> None:
        self.listeners.setdefault("online", []).append(listener)

    def fire(self, kind: str, value: Any) -> None:
        for listener in self.listeners.get(kind, []):
            listener(value)
