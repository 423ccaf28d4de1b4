"""A Zebra-like ZPL printer on a loopback TCP port, for printer tests.

It answers ``~HS`` with a host status built from its flags (paper out, head open, paused),
keeps every label format it receives, and can misbehave the way real printers do: accept a
connection and never answer (``silent``), or drop connections.
"""

from __future__ import annotations

import socket
import threading
import time

from device_drivers.printer import host_status_reply


class ZebraSimulator:
    """A printer listening on ``127.0.0.1:port``; use as a context manager."""

    def __init__(self) -> None:
        self.paper_out = False
        self.head_open = False
        self.paused = False
        self.silent = False  # accepts connections, never answers, never prints
        self.received: list[bytes] = []
        self.status_queries = 0
        self.connections = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.1)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._lock = threading.Lock()

    def __enter__(self) -> ZebraSimulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()

    @property
    def labels(self) -> list[bytes]:
        """Complete label formats printed (``^XA`` ... ``^XZ``)."""
        with self._lock:
            return [data for data in self.received if b"^XZ" in data]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(0.2)
            data = b""
            deadline = time.monotonic() + 10
            while not self._stop.is_set() and time.monotonic() < deadline:
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    if self.silent:
                        continue
                    if data:
                        break
                    continue
                except OSError:
                    return
                if not chunk:
                    break
                data += chunk
                if b"~HS" in data and not self.silent:
                    self.status_queries += 1
                    conn.sendall(
                        host_status_reply(
                            paper_out=self.paper_out, head_open=self.head_open, paused=self.paused
                        )
                    )
                    data = data.replace(b"~HS", b"", 1).strip()
            if data.strip() and not self.silent:
                with self._lock:
                    self.received.append(data)
