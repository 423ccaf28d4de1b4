"""Cycle counting rules: when a counted quantity is accepted, and how often a SKU is counted.

* :class:`CountTolerance`: a count within ``units`` or ``percent`` of what the hub holds is
  accepted at once; a first count further off asks for a recount by another user.
* :func:`classify_abc`: SKUs ranked by how much they moved over a window (picked units);
  the SKUs making the first ``a_share`` of the movement are class A, the next up to
  ``b_share`` class B, the rest (and SKUs that did not move) class C.
* :class:`CountFrequency`: how many days may pass between two counts of a class.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from .errors import DomainError

DAY_S = 86400.0


class CountOutcome(StrEnum):
    """What the hub decided about one counted quantity."""

    MATCH = "match"  # counted what the hub held: a new baseline, no change
    ADJUSTED = "adjusted"  # accepted with a difference: stock set to the count
    RECOUNT = "recount"  # too far off on a first count: another user counts again
    DEFERRED = "deferred"  # fewer than picks still to come here: count again after them


@dataclass(frozen=True, slots=True)
class CountTolerance:
    """How far a count may be from what the hub holds and still be accepted at once.

    A difference is within tolerance when it is at most ``units`` units, or at most
    ``percent`` % of the held quantity (whichever allows more). The default (0, 0) accepts
    only exact counts: any difference is counted again by someone else first.
    """

    units: int = 0
    percent: float = 0.0

    def __post_init__(self) -> None:
        if self.units < 0 or self.percent < 0:
            raise DomainError(
                f"count tolerance cannot be negative (units {self.units}, percent {self.percent})",
                hint="use 0 to accept only exact counts",
            )

    def allows(self, expected: int, counted: int) -> bool:
        """True when ``counted`` is close enough to ``expected`` to accept it at once."""
        diff = abs(counted - expected)
        return diff <= self.units or diff * 100.0 <= self.percent * max(expected, 0)


def decide(
    tolerance: CountTolerance, expected: int, counted: int, attempt: int, reserved: int = 0
) -> CountOutcome:
    """The outcome of a count: a recount only for a first count out of tolerance.

    A count below the units ``reserved`` for picks not yet made at the place is deferred:
    those picks will report the missing units short, and a shortage takes them off stock,
    so accepting the count now would take them off twice.
    """
    if counted < 0:
        raise DomainError(
            f"a count cannot be negative ({counted})",
            hint="enter 0 or more",
            code="count.negative",
            params={"counted": counted},
        )
    if counted < reserved:
        return CountOutcome.DEFERRED
    if counted == expected:
        return CountOutcome.MATCH
    if attempt <= 1 and not tolerance.allows(expected, counted):
        return CountOutcome.RECOUNT
    return CountOutcome.ADJUSTED


class AbcClass(StrEnum):
    """A SKU's movement class: A moves most, C least."""

    A = "A"
    B = "B"
    C = "C"


@dataclass(frozen=True, slots=True)
class CountFrequency:
    """Days between two counts of a SKU at a location, by class; the classes' shares."""

    a_days: float = 30.0
    b_days: float = 90.0
    c_days: float = 180.0
    #: Class A: the SKUs that make the first ``a_share`` of the movement.
    a_share: float = 0.8
    #: Class B: the next SKUs up to ``b_share`` of the movement.
    b_share: float = 0.95

    def __post_init__(self) -> None:
        if min(self.a_days, self.b_days, self.c_days) <= 0:
            raise DomainError(
                f"count frequencies must be positive days (A {self.a_days}, B {self.b_days}, "
                f"C {self.c_days})"
            )
        if not 0 < self.a_share <= self.b_share <= 1:
            raise DomainError(
                f"ABC shares must satisfy 0 < A ({self.a_share}) <= B ({self.b_share}) <= 1"
            )

    def days(self, cls: AbcClass) -> float:
        """Days allowed between two counts of class ``cls``."""
        return {AbcClass.A: self.a_days, AbcClass.B: self.b_days, AbcClass.C: self.c_days}[cls]

    def is_due(self, cls: AbcClass, last_counted_at: float | None, now: float) -> bool:
        """True when a place of class ``cls`` last counted (or loaded) at
        ``last_counted_at`` (None: never) must be counted at ``now``."""
        return last_counted_at is None or now - last_counted_at >= self.days(cls) * DAY_S


def classify_abc(
    movement: Mapping[str, int], skus: Iterable[str], freq: CountFrequency
) -> dict[str, AbcClass]:
    """Class of every SKU in ``skus`` (and ``movement``) by its share of the movement.

    SKUs are ranked by moved units (ties by SKU); a SKU is A while the movement of the SKUs
    ranked above it is below ``a_share`` of the total, B below ``b_share``, else C. A SKU
    that did not move is C.
    """
    every = set(skus) | set(movement)
    ranked = sorted(
        ((sku, max(0, movement.get(sku, 0))) for sku in every), key=lambda x: (-x[1], x[0])
    )
    total = sum(units for _, units in ranked)
    out: dict[str, AbcClass] = {}
    before = 0
    for sku, units in ranked:
        if units <= 0 or total <= 0:
            out[sku] = AbcClass.C
        elif before < freq.a_share * total:
            out[sku] = AbcClass.A
        elif before < freq.b_share * total:
            out[sku] = AbcClass.B
        else:
            out[sku] = AbcClass.C
        before += units
    return out
