"""A spool folder: each job becomes one ``<job id>.zpl`` file, written whole.

Another program (a print server, a sync job, a person with a USB stick) takes the files
from there. A file appears complete or not at all (temporary file, then rename), so a
reader never picks up half a label; a job whose file is already there is not written again.
"""

from __future__ import annotations

import os
from pathlib import Path

from device_drivers.base import PrintJob

from .files import job_file_name, write_whole
from .transport import Transport, TransportError


class SpoolTransport(Transport):
    """Writes jobs into ``folder`` (created when missing)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def describe(self) -> str:
        return str(self.folder)

    def check(self) -> None:
        """The folder exists (or can be made) and can be written."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TransportError(
                f"cannot create spool folder {self.folder}: {exc.strerror or exc}",
                unreachable=True,
            ) from exc
        if not os.access(self.folder, os.W_OK | os.X_OK):
            raise TransportError(f"spool folder {self.folder} is not writable", unreachable=True)

    def path_for(self, job: PrintJob) -> Path:
        """Where ``job`` is written."""
        return self.folder / job_file_name(job.job_id)

    def send(self, job: PrintJob) -> None:
        self.check()
        path = self.path_for(job)
        if path.exists():
            return
        try:
            write_whole(path, job.data)
        except OSError as exc:
            raise TransportError(f"cannot write {path}: {exc.strerror or exc}") from exc
