"""Opening serial ports for scanners and scales: stable paths and pyserial URLs.

A USB serial device gets a new ``/dev/ttyUSBn`` each time it is plugged in; udev keeps a
stable link under ``/dev/serial/by-id/``. The link is resolved again at every (re)open, so a
replugged scanner is found wherever it came back. ``socket://``, ``rfc2217://`` and other
pyserial URLs are opened as they are (a scale behind a serial-to-Ethernet server).
"""

from __future__ import annotations

import os

import serial

from device_drivers.config import SerialLine

_PARITY = {
    "N": serial.PARITY_NONE,
    "E": serial.PARITY_EVEN,
    "O": serial.PARITY_ODD,
    "M": serial.PARITY_MARK,
    "S": serial.PARITY_SPACE,
}
_STOPBITS = {
    1.0: serial.STOPBITS_ONE,
    1.5: serial.STOPBITS_ONE_POINT_FIVE,
    2.0: serial.STOPBITS_TWO,
}


def is_url(port: str) -> bool:
    """True for pyserial URLs (``socket://``, ``rfc2217://``, ``loop://`` ...)."""
    return "://" in port


def resolve_port(port: str) -> str:
    """The device behind ``port`` now: symlinks (``/dev/serial/by-id/...``) resolved.

    Raises :class:`FileNotFoundError` naming the configured path when nothing is plugged in.
    """
    if is_url(port):
        return port
    if not os.path.lexists(port):
        raise FileNotFoundError(f"{port} does not exist (device unplugged?)")
    real = os.path.realpath(port)
    if not os.path.exists(real):
        raise FileNotFoundError(f"{port} points to {real}, which does not exist")
    return real


def open_serial(line: SerialLine, *, timeout: float) -> serial.SerialBase:
    """Open ``line`` with its framing; ``timeout`` is the read timeout in seconds."""
    target = resolve_port(line.port)
    port: serial.SerialBase = serial.serial_for_url(
        target,
        do_not_open=True,
        baudrate=line.baudrate,
        bytesize=line.bytesize,
        parity=_PARITY[line.parity],
        stopbits=_STOPBITS[float(line.stopbits)],
        rtscts=line.rtscts,
        xonxoff=line.xonxoff,
        timeout=timeout,
        write_timeout=max(timeout, 1.0),
    )
    if not is_url(target):
        port.exclusive = True  # a second reader on the same tty would steal half the bytes
    port.open()
    return port
