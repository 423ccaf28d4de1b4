"""floor-bench carriers: every order gets a service or is counted as having none, the same
seed gives the same choices, and a bad --orders is refused with the reason."""

import pytest

from bench.carriers import figures, main

pytestmark = pytest.mark.unit


def test_every_order_is_counted_once_and_the_same_seed_chooses_the_same() -> None:
    first = figures(7, 20)
    assert first["orders"] == 20
    assert first["on_time"] + first["late"] + first["no_service"] == 20
    assert sum(first["services"].values()) == first["on_time"] + first["late"]
    assert first["compared_with_given"] <= 20 and first["cost_chosen"] > 0
    again = figures(7, 20)
    timing = ("ms_per_order", "ms_per_order_max")
    assert {k: v for k, v in again.items() if k not in timing} == {
        k: v for k, v in first.items() if k not in timing
    }


def test_orders_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--orders", "0"]) == 2
    assert "--orders must be positive" in capsys.readouterr().err
