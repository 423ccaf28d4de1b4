"""The lot a pick takes: no lot, the wrong lot and an expired lot are refused with their
reason; the site's rule decides whether another unexpired lot is a substitution."""

from __future__ import annotations

import datetime as dt

import pytest

from floor_app.domain.errors import DomainError
from floor_app.domain.lots import LotRule, PickedLot, check_pick_lot
from floor_app.domain.picking import PickLine

pytestmark = pytest.mark.unit

TODAY = dt.date(2026, 12, 7)


def line(*, tracked: bool = True, lot: str = "L1", expiry: str = "2027-03-01") -> PickLine:
    return PickLine(
        "PT-1-001",
        "SO-1",
        1,
        "TEA-1",
        "05060321000108",
        "A01-01-1A",
        3,
        lot_tracked=tracked,
        lot=lot if tracked else "",
        expiry=expiry if tracked else "",
    )


def refused(code: str, *args: object, **kwargs: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        check_pick_lot(*args, **kwargs)  # type: ignore[arg-type]
    assert caught.value.why.code == code
    return caught.value


def test_an_item_without_lots_takes_any_scan() -> None:
    assert check_pick_lot(line(tracked=False), None, None, TODAY) == PickedLot("")


def test_the_allocated_lot_is_taken() -> None:
    assert check_pick_lot(line(), "L1", dt.date(2027, 3, 1), TODAY) == PickedLot("L1")
    assert check_pick_lot(line(), "L1", None, TODAY) == PickedLot("L1")  # the line's expiry


def test_a_scan_without_its_lot_is_refused() -> None:
    error = refused("lot.missing", line(), None, None, TODAY)
    assert "AI 10" in error.why.text and error.why.params["lot"] == "L1"


def test_a_wrong_lot_is_refused_where_the_site_wants_the_exact_lot() -> None:
    error = refused("lot.wrong", line(), "L2", dt.date(2027, 5, 1), TODAY)
    assert "take lot L1" in error.why.text


def test_another_unexpired_lot_is_a_substitution_where_the_site_allows_it() -> None:
    got = check_pick_lot(line(), "L2", dt.date(2027, 5, 1), TODAY, LotRule.SUBSTITUTE)
    assert got == PickedLot("L2", substituted=True)
    got = check_pick_lot(line(), "L2", None, TODAY, LotRule.SUBSTITUTE)  # no date on it
    assert got.substituted


@pytest.mark.parametrize("rule", list(LotRule))
def test_an_expired_lot_is_never_picked(rule: LotRule) -> None:
    refused("lot.expired", line(), "L2", dt.date(2026, 12, 6), TODAY, rule)
    refused("lot.expired", line(expiry="2026-12-01"), "L1", None, TODAY, rule)  # since allocated
    # the last day is still good
    assert check_pick_lot(line(), "L1", TODAY, TODAY, rule).lot == "L1"


def serial_line() -> PickLine:
    return PickLine(
        "PT-1-002", "SO-1", 2, "LMP-1", "05060321001709", "B03-01-1A", 2, serial_tracked=True
    )


def test_a_serial_tracked_unit_needs_its_serial_once() -> None:
    from floor_app.domain.lots import check_pick_serial

    assert check_pick_serial(line(tracked=False), None, picked=False) == ""
    assert check_pick_serial(serial_line(), "LMP0025600", picked=False) == "LMP0025600"
    with pytest.raises(DomainError) as caught:
        check_pick_serial(serial_line(), None, picked=False)
    assert caught.value.why.code == "serial.missing" and "AI 21" in caught.value.why.text
    with pytest.raises(DomainError) as caught:
        check_pick_serial(serial_line(), "LMP0025600", picked=True)
    assert caught.value.why.code == "serial.twice"
