"""Writing the site's files safely: atomic replace, fsync, modes, an exclusive lock."""

from __future__ import annotations

import contextlib
import fcntl
import grp
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def write_atomic(
    path: Path, data: bytes | str, mode: int = 0o600, group: str | None = None
) -> None:
    """Replace ``path`` with ``data`` in one step (a reader sees the old or the new file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        set_group(Path(tmp), group)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename inside ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def set_group(path: Path, group: str | None) -> bool:
    """Give ``path`` to ``group`` when running as root and the group exists; else leave it."""
    if group is None or os.geteuid() != 0:
        return False
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        return False
    os.chown(path, 0, gid)
    return True


@contextlib.contextmanager
def exclusive_lock(folder: Path) -> Iterator[None]:
    """Hold the site folder's lock: one provisioning or revocation at a time."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o711)  # broker/ inside must be reachable
    with (folder / ".lock").open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
