"""ZPL over a serial line (RS-232 or USB serial), with ``~HS`` status on the same line.

The port is opened on first use and kept open; any error closes it, and the next job opens
it again (resolving a ``/dev/serial/by-id/...`` link anew, so a replugged printer is found).
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

from device_drivers.base import PrinterStatus, PrintJob

from .status import StatusReplyError, parse_host_status, reply_complete
from .transport import StatusTimeout, Transport, TransportError


class SerialTransport(Transport):
    """ZPL to a printer on ``port`` (a device path or a pyserial URL)."""

    can_query_status = True

    def __init__(
        self,
        port: str,
        baudrate: int = 9600,
        *,
        status_timeout_s: float = 2.0,
        send_timeout_s: float = 15.0,
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self.status_timeout_s = status_timeout_s
        self.send_timeout_s = send_timeout_s
        self._serial: Any = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        return self.port

    def _open(self) -> Any:
        if self._serial is not None:
            return self._serial
        import serial

        from device_drivers.serial_port import resolve_port

        try:
            target = resolve_port(self.port)
            self._serial = serial.serial_for_url(
                target,
                baudrate=self.baudrate,
                timeout=0.05,
                write_timeout=self.send_timeout_s,
            )
        except (OSError, serial.SerialException, ValueError) as exc:
            raise TransportError(
                f"cannot open printer port {self.port}: {exc}", unreachable=True
            ) from exc
        return self._serial

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(Exception):
                self._serial.close()
            self._serial = None

    def send(self, job: PrintJob) -> None:
        """Write the job's bytes and wait until they have left the port."""
        with self._lock:
            port = self._open()
            try:
                port.write(job.data)
                port.flush()
            except Exception as exc:
                self._close()
                raise TransportError(f"writing to printer port {self.port} failed: {exc}") from exc

    def query_status(self) -> PrinterStatus:
        """Send ``~HS`` and read the reply; :class:`StatusTimeout` when none comes."""
        with self._lock:
            port = self._open()
            reply = b""
            deadline = time.monotonic() + self.status_timeout_s
            try:
                port.reset_input_buffer()
                port.write(b"~HS\r\n")
                port.flush()
                while not reply_complete(reply):
                    if time.monotonic() >= deadline:
                        raise StatusTimeout(
                            f"printer on {self.port} sent no status reply within "
                            f"{self.status_timeout_s:g} s (print head open, media out, or "
                            "wrong baud rate?)"
                        )
                    reply += port.read(4096)
            except TransportError:
                raise
            except Exception as exc:
                self._close()
                raise TransportError(f"status query on {self.port} failed: {exc}") from exc
        try:
            return parse_host_status(reply)
        except StatusReplyError as exc:
            raise TransportError(f"printer on {self.port}: {exc}") from exc
