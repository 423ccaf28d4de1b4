"""Count rules: the tolerance that accepts a count at once, the outcome of a count, ABC
classes by movement and when a place of each class is due."""

from __future__ import annotations

import pytest

from floor_app.domain.counting import (
    DAY_S,
    AbcClass,
    CountFrequency,
    CountOutcome,
    CountTolerance,
    classify_abc,
    decide,
)
from floor_app.domain.errors import DomainError


@pytest.mark.parametrize(
    ("units", "percent", "expected", "counted", "allowed"),
    [
        (0, 0, 10, 10, True),
        (0, 0, 10, 9, False),
        (2, 0, 10, 8, True),
        (2, 0, 10, 13, False),
        (0, 10, 50, 55, True),  # 5 is 10 % of 50
        (0, 10, 50, 44, False),  # 6 is more
        (1, 10, 5, 6, True),  # units allow more than the percent here
        (1, 10, 100, 90, True),  # the percent allows more than the units here
        (0, 50, 0, 1, False),  # a percent of nothing is nothing
        (3, 0, 0, 3, True),
    ],
)
def test_tolerance_accepts_by_units_or_percent_whichever_allows_more(
    units: int, percent: float, expected: int, counted: int, allowed: bool
) -> None:
    assert CountTolerance(units, percent).allows(expected, counted) is allowed


def test_a_negative_tolerance_is_refused_with_what_to_do() -> None:
    with pytest.raises(DomainError, match="use 0 to accept only exact counts"):
        CountTolerance(units=-1)
    with pytest.raises(DomainError, match="cannot be negative"):
        CountTolerance(percent=-0.5)


def test_outcome_first_count_out_of_tolerance_is_a_recount_a_recount_is_accepted() -> None:
    exact = CountTolerance()
    assert decide(exact, 10, 10, attempt=1) is CountOutcome.MATCH
    assert decide(exact, 10, 7, attempt=1) is CountOutcome.RECOUNT
    assert decide(exact, 10, 7, attempt=2) is CountOutcome.ADJUSTED
    assert decide(CountTolerance(units=3), 10, 7, attempt=1) is CountOutcome.ADJUSTED
    assert decide(exact, 10, 10, attempt=2) is CountOutcome.MATCH
    with pytest.raises(DomainError, match="cannot be negative"):
        decide(exact, 10, -1, attempt=1)


def test_a_count_below_the_units_still_to_be_picked_is_deferred() -> None:
    loose = CountTolerance(units=100)
    assert decide(loose, 10, 4, attempt=1, reserved=5) is CountOutcome.DEFERRED
    assert decide(loose, 10, 4, attempt=2, reserved=5) is CountOutcome.DEFERRED
    assert decide(loose, 10, 5, attempt=1, reserved=5) is CountOutcome.ADJUSTED
    assert decide(CountTolerance(), 5, 5, attempt=1, reserved=5) is CountOutcome.MATCH


def test_abc_classes_by_share_of_the_movement() -> None:
    freq = CountFrequency(a_share=0.8, b_share=0.95)
    movement = {"S1": 700, "S2": 150, "S3": 100, "S4": 40, "S5": 10}
    classes = classify_abc(movement, ["S1", "S2", "S3", "S4", "S5", "S6"], freq)
    # S1 starts at 0 % (A); S2 at 70 % (A); S3 at 85 % (B); S4 at 95 % (C); S5 C; S6 never moved
    assert classes == {
        "S1": AbcClass.A,
        "S2": AbcClass.A,
        "S3": AbcClass.B,
        "S4": AbcClass.C,
        "S5": AbcClass.C,
        "S6": AbcClass.C,
    }


def test_abc_with_no_movement_at_all_is_all_c_and_ties_rank_by_sku() -> None:
    freq = CountFrequency(a_share=0.5, b_share=0.9)
    assert set(classify_abc({}, ["S1", "S2"], freq).values()) == {AbcClass.C}
    tied = classify_abc({"S2": 10, "S1": 10}, [], freq)
    assert tied == {"S1": AbcClass.A, "S2": AbcClass.B}


def test_a_place_is_due_when_its_class_frequency_has_passed_or_it_was_never_counted() -> None:
    freq = CountFrequency(a_days=30, b_days=90, c_days=180)
    now = 1000 * DAY_S
    assert freq.is_due(AbcClass.A, None, now)
    assert freq.is_due(AbcClass.A, now - 30 * DAY_S, now)
    assert not freq.is_due(AbcClass.A, now - 29 * DAY_S, now)
    assert not freq.is_due(AbcClass.B, now - 60 * DAY_S, now)
    assert freq.is_due(AbcClass.C, now - 200 * DAY_S, now)


def test_frequencies_and_shares_that_make_no_sense_are_refused() -> None:
    with pytest.raises(DomainError, match="must be positive days"):
        CountFrequency(a_days=0)
    with pytest.raises(DomainError, match="ABC shares"):
        CountFrequency(a_share=0.9, b_share=0.8)
