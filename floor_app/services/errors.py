"""Errors the services raise for the user to read (domain errors pass through unchanged).

A use case that the device's store could not carry out raises :class:`Unavailable` (made
from the store's own error), so the UI reads the reason without knowing the store. Service
classes say so with :func:`reports_store_failures`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import ParamSpec, TypeVar

from floor_app.domain.errors import DomainError, Param, Reason
from floor_app.store import StoreError

P = ParamSpec("P")
R = TypeVar("R")
C = TypeVar("C", bound=type)


class AccessDenied(DomainError):
    """Login refused: unknown badge, disabled user, wrong PIN or a role the user lacks."""


class ServiceError(Exception):
    """A use case could not be carried out for a reason that is not a rule of the floor;
    ``reason`` says what, ``hint`` what to do, ``code`` and ``params`` say both for the
    device's catalogue (:mod:`floor_app.domain.errors`). Nothing was changed."""

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

    @property
    def why(self) -> Reason:
        """The reason and the hint as one :class:`Reason`."""
        text = f"{self.reason} — {self.hint}" if self.hint else self.reason
        return Reason(text, self.code, self.params)


class Unavailable(ServiceError):
    """The device's store could not do what was asked (locked, full, damaged): nothing was
    half-written; the action can be repeated once the hint is followed."""


class LabelNotMade(ServiceError):
    """The label of a job cannot be made: the order's address or carrier does not fit a
    label, or this device has no font for its text."""


def store_failure_reported(method: Callable[P, R]) -> Callable[P, R]:
    """``method``, raising :class:`Unavailable` where the store raised its own error."""

    @functools.wraps(method)
    def reported(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except StoreError as exc:
            raise Unavailable(exc.reason, hint=exc.hint, code=exc.code, params=exc.params) from exc

    return reported


def reports_store_failures(cls: C, names: Iterable[str] | None = None) -> C:
    """Class decorator: the public methods ``cls`` defines (or those of ``names``) raise
    :class:`Unavailable` instead of the store's errors."""
    chosen = frozenset(names) if names is not None else None
    for name, member in list(vars(cls).items()):
        wanted = name in chosen if chosen is not None else not name.startswith("_")
        if wanted and inspect.isfunction(member):
            setattr(cls, name, store_failure_reported(member))
    return cls
