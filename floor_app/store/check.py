"""A look at a store without changing it: ``floor-app doctor`` opens the file read-only,
runs SQLite's integrity check and reads the schema revision and the unsent outbox."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from .migrate import HEAD, known_revisions
from .store import STALE_WORD


@dataclass(frozen=True, slots=True)
class StoreCheck:
    """What the check found; ``ok`` is False for a store that cannot be trusted."""

    path: str
    exists: bool
    ok: bool
    problems: list[str] = field(default_factory=list)
    revision: str | None = None
    unsent: int = 0
    oldest_unsent_s: float | None = None
    #: the hub found the store stale (its word): nothing is sent until it is recovered
    stale: str = ""
    #: the version of the site's reference data the store holds (0: none from the hub)
    site_version: int = 0

    def as_dict(self) -> dict[str, object]:
        """The findings by name (for ``floor-app doctor --json``)."""
        return {
            "path": self.path,
            "exists": self.exists,
            "ok": self.ok,
            "problems": list(self.problems),
            "revision": self.revision,
            "unsent": self.unsent,
            "oldest_unsent_s": self.oldest_unsent_s,
            "stale": self.stale,
            "site_version": self.site_version,
        }


def check_store(path: Path, *, now: float | None = None, max_problems: int = 20) -> StoreCheck:
    """Check the store at ``path`` read-only. A missing file is fine (made on first start)."""
    shown = str(path)
    if not path.exists():
        return StoreCheck(shown, exists=False, ok=True)
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error as exc:
        return StoreCheck(shown, exists=True, ok=False, problems=[f"cannot open: {exc}"])
    try:
        rows = conn.execute(f"PRAGMA integrity_check({max_problems})").fetchall()
        problems = [str(r[0]) for r in rows if r[0] != "ok"]
        if problems:
            return StoreCheck(shown, exists=True, ok=False, problems=problems)
        return _contents(conn, shown, time.time() if now is None else now)
    except sqlite3.Error as exc:
        return StoreCheck(shown, exists=True, ok=False, problems=[f"not a floor database: {exc}"])
    finally:
        conn.close()


def _contents(conn: sqlite3.Connection, shown: str, now: float) -> StoreCheck:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "alembic_version" not in tables or "outbox" not in tables:
        return StoreCheck(shown, exists=True, ok=False, problems=["not a floor database"])
    revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    rev = None if revision is None else str(revision[0])
    unsent, oldest = conn.execute(
        "SELECT count(*), min(created_at) FROM outbox WHERE acked_at IS NULL"
    ).fetchone()
    problems: list[str] = []
    stale = _stale_word(conn)  # the file is sound: said, not a problem of the store
    if rev != HEAD and rev not in known_revisions():
        problems.append(
            f"store schema {rev} was written by a newer floor-app (this one knows up to {HEAD})"
        )
    return StoreCheck(
        shown,
        exists=True,
        ok=not problems,
        problems=problems,
        revision=rev,
        unsent=int(unsent),
        oldest_unsent_s=None if oldest is None else round(max(0.0, now - float(oldest)), 1),
        stale=stale,
        site_version=_site_version(conn),
    )


def _site_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = 'site_version'").fetchone()
    try:
        return int(row[0]) if row and row[0] else 0
    except ValueError:
        return 0


def _stale_word(conn: sqlite3.Connection) -> str:
    """The reason of the hub's stale word kept in the store's meta ("" when none)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (STALE_WORD,)).fetchone()
    if not row or not row[0]:
        return ""
    try:
        return str(json.loads(row[0]).get("reason", "stale"))
    except (ValueError, AttributeError):
        return "stale"
