"""Pseudo-terminal pairs that stand in for serial devices in driver tests.

The driver opens the slave end as its serial port; the test writes and reads the master
end as the device would. Closing the pair is pulling the cable; a new pair behind the same
symlink is plugging it back in (as ``/dev/serial/by-id/...`` links behave).
"""

from __future__ import annotations

import contextlib
import os
import select
import time
import tty
from pathlib import Path


class PtyDevice:
    """One end of a serial cable, held by the test: write what the device sends."""

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no line discipline games before the driver opens it
        self.path = os.ttyname(self._slave)
        self.closed = False

    def link(self, link: Path) -> Path:
        """Point ``link`` (a stand-in for /dev/serial/by-id/...) at this device."""
        tmp = link.with_name(link.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(self.path)
        tmp.replace(link)
        return link

    def write(self, data: bytes) -> None:
        """Send ``data`` to the driver."""
        view = memoryview(data)
        while view:
            written = os.write(self.master, view)
            view = view[written:]

    def read(self, timeout: float = 2.0, until: bytes = b"\n") -> bytes:
        """Read what the driver sent, until ``until`` or ``timeout``."""
        out = b""
        deadline = time.monotonic() + timeout
        while until not in out:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
        return out

    def unplug(self) -> None:
        """Pull the cable: both ends close; the driver's next read fails."""
        if self.closed:
            return
        self.closed = True
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


def wait_for(predicate: object, timeout: float = 5.0, interval: float = 0.005) -> bool:
    """Poll ``predicate()`` until it is true or ``timeout`` passes (a generous limit)."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


class SicsScaleOnPty:
    """A small MT-SICS scale answering on a pty: S, SI, Z, T, and faults on request.

    ``weight`` is the gross load in ``unit``; ``stable`` whether it has settled;
    ``overload``/``underload`` the range faults; ``silent`` makes it answer nothing;
    ``reply_override`` replaces the next reply with raw bytes (garbage tests).
    """

    def __init__(self, unit: str = "kg") -> None:
        import threading
        from decimal import Decimal

        self.device = PtyDevice()
        self.unit = unit
        self.weight = Decimal("0.000")
        self.tare = Decimal("0.000")
        self.zero = Decimal("0.000")
        self.stable = True
        self.unstable_replies = 0
        self.overload = False
        self.underload = False
        self.silent = False
        #: seconds the scale takes before each answer (a slow scale, or a loaded machine)
        self.reply_delay_s = 0.0
        self.reply_override: bytes | None = None
        self.commands: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def path(self) -> str:
        return self.device.path

    def _weight_reply(self, command: str) -> str:
        if self.overload:
            return f"{command} +"
        if self.underload:
            return f"{command} -"
        net = self.weight - self.zero - self.tare
        stable = self.stable and self.unstable_replies == 0
        if self.unstable_replies:
            self.unstable_replies -= 1
        if command == "S" and not stable:
            return "S I"  # a real scale gives up waiting for stability with S I
        return f"S {'S' if stable else 'D'} {net:>10.3f} {self.unit}"

    def _answer(self, line: str) -> str | None:
        cmd = line.strip().upper()
        self.commands.append(cmd)
        if cmd in ("S", "SI"):
            return self._weight_reply(cmd)
        if cmd == "Z":
            if not self.stable:
                return "Z I"
            if self.weight - self.zero > 5:
                return "Z +"
            self.zero = self.weight
            self.tare = self.tare * 0
            return "Z A"
        if cmd == "T":
            if not self.stable:
                return "T I"
            self.tare = self.weight - self.zero
            return f"T S {self.tare:>10.3f} {self.unit}"
        return "ES"

    def _serve(self) -> None:
        buffer = b""
        while not self._stop.is_set() and not self.device.closed:
            ready, _, _ = select.select([self.device.master], [], [], 0.02)
            if not ready:
                continue
            try:
                chunk = os.read(self.device.master, 1024)
            except OSError:
                return
            buffer += chunk
            while b"\n" in buffer or b"\r" in buffer:
                cut = min(i for i in (buffer.find(b"\r"), buffer.find(b"\n")) if i >= 0)
                line, buffer = buffer[:cut].decode("ascii", "replace"), buffer[cut + 1 :]
                if not line.strip():
                    continue
                reply = self._answer(line)
                if self.silent or reply is None:
                    continue
                if self.reply_delay_s:
                    time.sleep(self.reply_delay_s)
                if self.reply_override is not None:
                    data, self.reply_override = self.reply_override, None
                else:
                    data = reply.encode("ascii") + b"\r\n"
                with contextlib.suppress(OSError):
                    self.device.write(data)

    def unplug(self) -> None:
        """Stop answering (the thread ends before its fd number can be reused), then unplug."""
        self._stop.set()
        self._thread.join(timeout=2.0)
        self.device.unplug()


class ContinuousScaleOnPty:
    """A scale that sends a weight line every ``interval`` seconds by itself.

    ``line()`` builds what is sent (change ``template``/``weight``/``flag`` at will):
    ``ST,GS,+0001.234kg`` style by default, or flagless ``"{weight} kg"`` lines.
    """

    def __init__(self, interval: float = 0.02) -> None:
        import threading
        from decimal import Decimal

        self.device = PtyDevice()
        self.interval = interval
        self.weight = Decimal("1.234")
        self.flag = "ST"
        self.template = "{flag},GS,{weight:+010.3f}kg"
        self.extra: list[bytes] = []
        self.received = b""
        self.paused = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._send, daemon=True)
        self._thread.start()

    @property
    def path(self) -> str:
        return self.device.path

    def _send(self) -> None:
        while not self._stop.wait(self.interval):
            if self.device.closed:
                return
            with contextlib.suppress(OSError):
                ready, _, _ = select.select([self.device.master], [], [], 0)
                if ready:
                    self.received += os.read(self.device.master, 1024)
                if self.paused:
                    continue
                while self.extra:
                    self.device.write(self.extra.pop(0))
                text = self.template.format(flag=self.flag, weight=self.weight)
                self.device.write(text.encode("ascii") + b"\r\n")

    def unplug(self) -> None:
        """Stop answering (the thread ends before its fd number can be reused), then unplug."""
        self._stop.set()
        self._thread.join(timeout=2.0)
        self.device.unplug()
