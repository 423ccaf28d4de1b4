"""File names for jobs and writing files whole (temporary file, fsync, rename)."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def job_file_name(job_id: str, suffix: str = ".zpl") -> str:
    """A file name for ``job_id``: the id itself when it is safe, else a cleaned id with a
    short hash (two different ids never share a name)."""
    clean = _SAFE.sub("_", job_id)[:80].lstrip(".") or "job"
    if clean != job_id:
        clean += "-" + hashlib.sha256(job_id.encode("utf-8")).hexdigest()[:10]
    return clean + suffix


def write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the whole file or none: a hidden
    temporary file in the same folder, flushed to disk, then renamed over ``path``."""
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
