"""ZPL label printers: raw TCP 9100, serial, a spool folder or a CUPS raw queue.

``build_printer(name, config)`` is what the device factory calls; it returns a
:class:`ZplPrinter` over the configured :class:`Transport`. Printed job ids are kept in a
file in ``state_dir`` (for a spool printer: the spool folder itself) so a restart never
prints a job twice.
"""

from __future__ import annotations

from pathlib import Path

from device_drivers.config import PrinterConfig

from .cups import CupsTransport
from .files import job_file_name
from .printed import PrintedJobs
from .serial_line import SerialTransport
from .spool import SpoolTransport
from .status import StatusReplyError, host_status_reply, parse_host_status
from .tcp import TcpTransport
from .transport import StatusTimeout, Transport, TransportError
from .zpl_printer import ZplPrinter, state_of

__all__ = [
    "CupsTransport",
    "PrintedJobs",
    "SerialTransport",
    "SpoolTransport",
    "StatusReplyError",
    "StatusTimeout",
    "TcpTransport",
    "Transport",
    "TransportError",
    "ZplPrinter",
    "build_printer",
    "build_transport",
    "host_status_reply",
    "parse_host_status",
    "printed_jobs_file",
    "state_of",
]

PRINTED_JOBS_FILE = ".printed-jobs"


def build_transport(config: PrinterConfig) -> Transport:
    """The transport ``config.transport`` names, with its settings."""
    if config.transport == "tcp":
        return TcpTransport(
            config.host,
            config.port,
            connect_timeout_s=config.connect_timeout_s,
            status_timeout_s=config.status_timeout_s,
        )
    if config.transport == "serial":
        return SerialTransport(
            config.serial_port, config.baudrate, status_timeout_s=config.status_timeout_s
        )
    if config.transport == "spool":
        assert config.spool_dir is not None  # the config model insists on it
        return SpoolTransport(Path(config.spool_dir))
    return CupsTransport(config.cups_queue)


def printed_jobs_file(name: str, config: PrinterConfig, state_dir: Path | None) -> Path | None:
    """Where the printed job ids of printer ``name`` are kept, or None (memory only).

    ``state_dir`` (or a ``state_dir`` field of the configuration) wins; a spool printer
    otherwise keeps them in its spool folder.
    """
    folder = state_dir or getattr(config, "state_dir", None)
    if folder is None and config.transport == "spool" and config.spool_dir is not None:
        return Path(config.spool_dir) / PRINTED_JOBS_FILE
    if folder is None:
        return None
    return Path(folder) / job_file_name(f"printed-jobs-{name}", ".txt")


def build_printer(name: str, config: PrinterConfig, *, state_dir: Path | None = None) -> ZplPrinter:
    """A built (not started) printer for ``config``."""
    return ZplPrinter(
        name,
        build_transport(config),
        required=config.required,
        retries=config.retries,
        retry_backoff_s=config.retry_backoff_s,
        printed=PrintedJobs(printed_jobs_file(name, config, state_dir)),
        config=config,
    )
