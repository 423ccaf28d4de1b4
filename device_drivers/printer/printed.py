"""The ids of jobs already printed, kept in a small file so a restart never reprints.

One id per line, appended and flushed to disk before a job counts as printed. The file keeps
the newest ``keep`` ids: when it has grown to twice that, it is rewritten (whole, through a
temporary file) with the newest ones. Lines that are not ids (a torn last line after a power
cut) are skipped. Without a file the ids live in memory only. A file that exists but cannot
be read sets :attr:`PrintedJobs.load_error`: the printer then prints nothing, because it
cannot tell what it printed before.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

from .files import write_whole


class PrintedJobs:
    """A set of printed job ids, persisted to ``path`` when given."""

    def __init__(self, path: Path | None = None, *, keep: int = 20_000) -> None:
        self.path = path
        self.keep = keep
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lines = 0
        self._lock = threading.Lock()
        self.load_error = ""
        if path is not None:
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        except OSError as exc:
            self.load_error = f"cannot read printed jobs from {path}: {exc.strerror or exc}"
            return
        for line in text.splitlines():
            job_id = line.strip()
            if valid_job_id(job_id):
                self._ids[job_id] = None
                self._ids.move_to_end(job_id)
                self._lines += 1
        while len(self._ids) > self.keep:
            self._ids.popitem(last=False)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, job_id: str) -> None:
        """Record ``job_id`` as printed (raises :class:`OSError` when the file cannot be
        written; the id is remembered in memory all the same)."""
        with self._lock:
            self._ids[job_id] = None
            while len(self._ids) > self.keep:
                self._ids.popitem(last=False)
            if self.path is None:
                return
            self._lines += 1
            if self._lines > 2 * self.keep:
                self._compact(self.path)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as out:
                out.write(job_id + "\n")
                out.flush()
                os.fsync(out.fileno())

    def _compact(self, path: Path) -> None:
        write_whole(path, "".join(f"{i}\n" for i in self._ids).encode("utf-8"))
        self._lines = len(self._ids)


def valid_job_id(job_id: str) -> bool:
    """A job id is 1 to 200 printable characters without spaces."""
    return 0 < len(job_id) <= 200 and job_id.isprintable() and not any(c.isspace() for c in job_id)
