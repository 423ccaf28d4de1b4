"""Store errors: what went wrong with the local database and what the user should do."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from sqlalchemy import exc as sa_exc

from floor_app.domain.errors import Param


class StoreError(Exception):
    """The local store could not do what was asked; nothing was half-written."""

    def __init__(
        self,
        reason: str,
        *,
        hint: str = "",
        code: str = "",
        params: Mapping[str, Param] | None = None,
    ) -> None:
        super().__init__(reason if not hint else f"{reason} — {hint}")
        self.reason = reason
        self.hint = hint
        self.code = code
        self.params: Mapping[str, Param] = dict(params or {})


class StoreUnavailable(StoreError):
    """The database file cannot be opened: missing folder, no permission, or not a database."""


class StoreTooNew(StoreUnavailable):
    """The store was migrated by a newer floor-app: this one cannot read it safely."""


class StoreBusy(StoreError):
    """Another process holds the database lock for longer than the busy timeout."""


class StoreFull(StoreError):
    """The disk (or the database's size limit) is full; the last action was not saved."""


class ConcurrencyError(StoreError):
    """The record changed under us (its version moved on); reload and try again."""


def translate(error: BaseException, path: str = "") -> StoreError | None:
    """Map a SQLAlchemy/sqlite3 error to a :class:`StoreError`, or None if it is not one of ours."""
    orig = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    if not isinstance(orig, sqlite3.Error):
        return None
    text = str(orig).lower()
    where = f" ({path})" if path else ""
    if "locked" in text or "busy" in text:
        return StoreBusy(
            f"the local database is locked by another program{where}",
            hint="close the other floor-app on this device, then try again",
            code="store.busy",
        )
    if "full" in text:
        return StoreFull(
            f"the disk is full: the last action was NOT saved{where}",
            hint="free disk space on the device (or call a supervisor), then repeat the action",
            code="store.full",
        )
    if "unable to open" in text or "readonly" in text or "read-only" in text:
        return StoreUnavailable(
            f"cannot open the local database{where}: {orig}",
            hint="check that the data folder exists and is writable",
            code="store.cannot_open",
            params={"error": str(orig)},
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreUnavailable(
            f"the local database file is damaged or not a database{where}: {orig}",
            hint=(
                "move the file aside and restore it from backup; "
                "do not delete it, unsynced work may be in it"
            ),
            code="store.damaged",
            params={"error": str(orig)},
        )
    return None
