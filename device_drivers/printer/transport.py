"""How ZPL reaches a printer: one small interface, four ways (TCP, serial, spool, CUPS)."""

from __future__ import annotations

import abc

from device_drivers.base import PrinterStatus, PrintJob


class TransportError(Exception):
    """Sending or asking failed; ``unreachable`` is True when the printer cannot be reached
    at all (refused, no route, unplugged), False when it was reached but misbehaved."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class StatusTimeout(TransportError):
    """The printer took the status query but sent no (complete) reply in time."""


class Transport(abc.ABC):
    """Sends jobs to one printer and, where it can, asks for its status."""

    #: True when :meth:`query_status` really asks the printer.
    can_query_status: bool = False

    @abc.abstractmethod
    def send(self, job: PrintJob) -> None:
        """Deliver ``job.data`` whole; raises :class:`TransportError`."""

    def check(self) -> None:
        """Raise :class:`TransportError` when jobs cannot go out this way now (a missing
        program, an unwritable folder); transports that can ask the printer do that instead.
        """
        return None

    def query_status(self) -> PrinterStatus | None:
        """The printer's status, or None when this transport cannot ask."""
        return None

    def describe(self) -> str:
        """Where the jobs go, for messages."""
        return type(self).__name__

    def close(self) -> None:
        """Release anything held open."""
        return None
