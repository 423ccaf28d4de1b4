"""Raw TCP to port 9100, the way ZPL printers take jobs on the network.

Each job and each status query uses a connection of its own: a printer restarted between
two labels is simply reached again, and nothing waits on a half-dead socket. A status query
sends ``~HS`` and waits at most ``status_timeout_s`` for the three-string reply: a printer
with its head open or out of media may accept the connection and never answer.
"""

from __future__ import annotations

import socket
import time

from device_drivers.base import PrinterStatus, PrintJob

from .status import StatusReplyError, parse_host_status, reply_complete
from .transport import StatusTimeout, Transport, TransportError


class TcpTransport(Transport):
    """ZPL over raw TCP (``host:port``, port 9100 on Zebra printers)."""

    can_query_status = True

    def __init__(
        self,
        host: str,
        port: int = 9100,
        *,
        connect_timeout_s: float = 3.0,
        status_timeout_s: float = 2.0,
        send_timeout_s: float = 15.0,
    ) -> None:
        self.host = host
        self.port = port
        self.connect_timeout_s = connect_timeout_s
        self.status_timeout_s = status_timeout_s
        self.send_timeout_s = send_timeout_s

    def describe(self) -> str:
        return f"{self.host}:{self.port}"

    def _connect(self) -> socket.socket:
        try:
            return socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s)
        except OSError as exc:
            raise TransportError(
                f"cannot connect to printer {self.describe()}: {_reason(exc)}", unreachable=True
            ) from exc

    def send(self, job: PrintJob) -> None:
        """Send the job's bytes and close; every byte is handed over or it raises."""
        with self._connect() as sock:
            try:
                sock.settimeout(self.send_timeout_s)
                sock.sendall(job.data)
                sock.shutdown(socket.SHUT_WR)
            except OSError as exc:
                raise TransportError(
                    f"sending to printer {self.describe()} failed: {_reason(exc)}"
                ) from exc

    def query_status(self) -> PrinterStatus:
        """Send ``~HS`` and parse the reply; raises :class:`StatusTimeout` when none comes."""
        with self._connect() as sock:
            reply = b""
            deadline = time.monotonic() + self.status_timeout_s
            try:
                sock.sendall(b"~HS\r\n")
                while not reply_complete(reply):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError
                    sock.settimeout(left)
                    chunk = sock.recv(4096)
                    if not chunk:
                        raise TransportError(
                            f"printer {self.describe()} closed the connection before its "
                            f"status reply was complete ({len(reply)} bytes)"
                        )
                    reply += chunk
            except TimeoutError as exc:
                raise StatusTimeout(
                    f"printer {self.describe()} sent no status reply within "
                    f"{self.status_timeout_s:g} s (print head open, media out or busy?)"
                ) from exc
            except OSError as exc:
                raise TransportError(
                    f"status query to printer {self.describe()} failed: {_reason(exc)}"
                ) from exc
        try:
            return parse_host_status(reply)
        except StatusReplyError as exc:
            raise TransportError(f"printer {self.describe()}: {exc}") from exc


def _reason(exc: OSError) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return exc.strerror or str(exc) or type(exc).__name__
