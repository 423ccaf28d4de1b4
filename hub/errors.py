"""Hub errors: each carries a reason an operator can act on, and a hint when there is one."""

from __future__ import annotations


class HubError(Exception):
    """The hub could not do what was asked; nothing was half-written."""

    def __init__(self, reason: str, *, hint: str = "") -> None:
        super().__init__(reason if not hint else f"{reason} ({hint})")
        self.reason = reason
        self.hint = hint


class DatabaseUnavailable(HubError):
    """The hub database cannot be opened or reached."""


class UnknownDevice(HubError):
    """A device that is not registered with the hub sent something."""


class NotFound(HubError):
    """An order, task or device named by a command does not exist."""


class ImportFileError(HubError):
    """An order import file cannot be read at all (missing, unknown format)."""
