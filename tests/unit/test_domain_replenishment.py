"""Replenishment rules: when a face needs a refill, how much, and which reserve stock it takes
(earliest expiry, then oldest received; expired lots skipped; lots never mixed on a face)."""

from __future__ import annotations

import pytest

from floor_app.domain.errors import DomainError
from floor_app.domain.replenishment import PickFace, StockLot, choose_source, eligible

TODAY = "2026-11-25"
FACE = PickFace("A01-01-1A", "SKU-1", min_qty=5, max_qty=30)


def lot(
    location: str,
    on_hand: int = 50,
    *,
    lot: str = "",
    expiry: str = "",
    received_at: float | None = None,
    reserved: int = 0,
) -> StockLot:
    return StockLot(location, "SKU-1", on_hand, reserved, lot, expiry, received_at)


def test_a_face_needs_a_refill_when_its_available_units_fall_below_the_minimum() -> None:
    assert not FACE.needs_refill(on_hand=10, reserved=5)  # 5 available: not below 5
    assert FACE.needs_refill(on_hand=10, reserved=6)  # 4 available
    assert FACE.needs_refill(on_hand=0, reserved=0)
    assert FACE.refill_qty(on_hand=10) == 20  # up to max on hand
    assert FACE.refill_qty(on_hand=10, incoming=15) == 5
    assert FACE.refill_qty(on_hand=40) == 0


@pytest.mark.parametrize(
    ("min_qty", "max_qty", "message"),
    [
        (-1, 10, "min -1 is below zero"),
        (10, 10, "max 10 must be more than min 10"),
        (10, 4, "max 4 must be more than min 10"),
    ],
)
def test_bad_levels_are_refused_with_the_reason(min_qty: int, max_qty: int, message: str) -> None:
    with pytest.raises(DomainError, match=message):
        PickFace("A01-01-1A", "SKU-1", min_qty, max_qty)


def test_earliest_expiry_first_then_oldest_received_then_no_expiry_last() -> None:
    candidates = [
        lot("R-NODATE", lot="N", received_at=1.0),
        lot("R-LATE", lot="L", expiry="2027-06-01", received_at=2.0),
        lot("R-SOON-NEW", lot="S2", expiry="2027-01-01", received_at=9.0),
        lot("R-SOON-OLD", lot="S1", expiry="2027-01-01", received_at=3.0),
    ]
    order = [s.location for s in eligible(candidates, face_lot=None, today=TODAY)]
    assert order == ["R-SOON-OLD", "R-SOON-NEW", "R-LATE", "R-NODATE"]


def test_without_expiry_dates_the_oldest_received_goes_first() -> None:
    candidates = [lot("R-2", received_at=200.0), lot("R-1", received_at=100.0), lot("R-3")]
    order = [s.location for s in eligible(candidates, face_lot=None, today=TODAY)]
    assert order == ["R-1", "R-2", "R-3"]


def test_expired_lots_and_stock_all_promised_are_skipped() -> None:
    candidates = [
        lot("R-EXPIRED", expiry="2026-11-24"),
        lot("R-PROMISED", expiry="2026-12-01", reserved=50),
        lot("R-TODAY", expiry=TODAY),
    ]
    found = choose_source(FACE, lot(FACE.location, 0), candidates, today=TODAY)
    assert found is not None
    assert (found.stock.location, found.qty) == ("R-TODAY", 30)


def test_a_face_holding_a_lot_takes_only_that_lot() -> None:
    candidates = [
        lot("R-OTHER", lot="B", expiry="2027-01-01"),
        lot("R-SAME", lot="A", expiry="2027-09-01"),
    ]
    holding = lot(FACE.location, 2, lot="A")
    found = choose_source(FACE, holding, candidates, today=TODAY)
    assert found is not None and found.stock.location == "R-SAME"
    assert found.qty == 28
    # only another lot in reserve: no refill until the face is empty
    assert choose_source(FACE, holding, candidates[:1], today=TODAY) is None
    empty = lot(FACE.location, 0, lot="A")
    found = choose_source(FACE, empty, candidates[:1], today=TODAY)
    assert found is not None and found.stock.lot == "B"


def test_a_face_with_no_lot_recorded_takes_only_stock_with_none() -> None:
    candidates = [lot("R-LOT", lot="B"), lot("R-NONE", 7)]
    found = choose_source(FACE, lot(FACE.location, 3), candidates, today=TODAY)
    assert found is not None
    assert (found.stock.location, found.qty) == ("R-NONE", 7)  # all it holds


def test_no_refill_above_the_minimum_or_when_the_face_is_full() -> None:
    candidates = [lot("R-1")]
    assert choose_source(FACE, lot(FACE.location, 6), candidates, today=TODAY) is None
    full = PickFace("A01-01-1A", "SKU-1", min_qty=5, max_qty=6)
    assert choose_source(full, lot(FACE.location, 8, reserved=4), candidates, today=TODAY) is None
