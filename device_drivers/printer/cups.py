"""A CUPS raw queue: ``lp -d QUEUE -o raw`` with the ZPL on standard input.

The queue must be a raw queue (``lpadmin -p QUEUE -v socket://printer:9100 -m raw`` or a
USB device URI) so CUPS passes the ZPL through untouched. The status comes from
``lpstat -p QUEUE`` when ``lpstat`` is installed: a disabled queue counts as paused.
"""

from __future__ import annotations

import shutil
import subprocess

from device_drivers.base import PrinterStatus, PrintJob

from .transport import Transport, TransportError


class CupsTransport(Transport):
    """Sends jobs to CUPS queue ``queue`` through ``lp`` (found on ``PATH``)."""

    def __init__(
        self, queue: str, *, lp: str = "lp", lpstat: str = "lpstat", timeout_s: float = 30.0
    ) -> None:
        self.queue = queue
        self.lp = lp
        self.lpstat = lpstat
        self.timeout_s = timeout_s

    @property
    def can_query_status(self) -> bool:  # type: ignore[override]
        return shutil.which(self.lpstat) is not None

    def describe(self) -> str:
        return f"CUPS queue {self.queue}"

    def check(self) -> None:
        """``lp`` is installed."""
        if shutil.which(self.lp) is None:
            raise TransportError(
                f"{self.lp} not found: install the CUPS client (Debian package cups-client)",
                unreachable=True,
            )

    def send(self, job: PrintJob) -> None:
        self.check()
        title = job.description or job.job_id
        command = [self.lp, "-d", self.queue, "-o", "raw", "-t", title[:100], "-"]
        try:
            done = subprocess.run(
                command, input=job.data, capture_output=True, timeout=self.timeout_s, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise TransportError(
                f"lp for {self.queue} took more than {self.timeout_s:g} s"
            ) from exc
        except OSError as exc:
            raise TransportError(f"cannot run {self.lp}: {exc}", unreachable=True) from exc
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
            raise TransportError(f"lp refused the job for {self.queue}: {message}")

    def query_status(self) -> PrinterStatus | None:
        """The queue's state from ``lpstat -p``; None without ``lpstat``."""
        if shutil.which(self.lpstat) is None:
            return None
        try:
            done = subprocess.run(
                [self.lpstat, "-p", self.queue],
                capture_output=True,
                timeout=self.timeout_s,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TransportError(f"cannot ask CUPS about {self.queue}: {exc}") from exc
        text = (done.stdout + done.stderr).decode("utf-8", "replace").strip()
        if done.returncode != 0:
            raise TransportError(f"CUPS does not know queue {self.queue}: {text}", unreachable=True)
        return PrinterStatus(paused="disabled" in text, raw=text)
