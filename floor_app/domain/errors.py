"""Domain errors: each carries a reason a person on the floor can act on.

A reason travels as a stable ``code`` with ``params`` (what the device's catalogue turns into
the user's language, ``errors.<code>``) beside its English text (for logs, and for a device
that does not know the code). :class:`Reason` is the same without an exception, for rules
that answer "why not" (:func:`floor_app.domain.stockwork.return_refusal` ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Self

#: a parameter of a reason: what the catalogue's template shows
Param = str | int | float


@dataclass(frozen=True, slots=True)
class Reason:
    """Why something is refused: ``code`` and ``params`` for the catalogue, ``text`` in
    English (an empty code: only the text is known)."""

    text: str
    code: str = ""
    params: Mapping[str, Param] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text


class DomainError(Exception):
    """A rule of the floor was broken; ``reason`` says which, ``hint`` what to do, ``code``
    and ``params`` say both for the device's catalogue."""

    def __init__(
        self,
        reason: str,
        *,
        hint: str = "",
        code: str = "",
        params: Mapping[str, Param] | None = None,
    ) -> None:
        super().__init__(reason if not hint else f"{reason} ({hint})")
        self.reason = reason
        self.hint = hint
        self.code = code
        self.params: Mapping[str, Param] = dict(params or {})

    @classmethod
    def of(cls, reason: Reason, *, hint: str = "") -> Self:
        """The error saying ``reason``."""
        return cls(reason.text, hint=hint, code=reason.code, params=reason.params)

    @property
    def why(self) -> Reason:
        """The reason and the hint as one :class:`Reason`."""
        text = f"{self.reason} — {self.hint}" if self.hint else self.reason
        return Reason(text, self.code, self.params)


class InvalidBarcode(DomainError):
    """A scanned or typed code is malformed, has a wrong check digit or is unknown."""


class IllegalTransition(DomainError):
    """An order (or task) was asked to move to a state its current state does not allow."""


class QuantityError(DomainError):
    """A quantity is not positive, or more than is open."""


class NotFound(DomainError):
    """A thing named by a scan or an id does not exist."""
