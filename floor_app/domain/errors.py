"""Domain errors: each carries a reason a person on the floor can act on."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the floor was broken; ``reason`` says which, ``hint`` what to do."""

    def __init__(self, reason: str, *, hint: str = "") -> None:
        super().__init__(reason if not hint else f"{reason} ({hint})")
        self.reason = reason
        self.hint = hint


class InvalidBarcode(DomainError):
    """A scanned or typed code is malformed, has a wrong check digit or is unknown."""


class IllegalTransition(DomainError):
    """An order (or task) was asked to move to a state its current state does not allow."""


class QuantityError(DomainError):
    """A quantity is not positive, or more than is open."""


class NotFound(DomainError):
    """A thing named by a scan or an id does not exist."""
