"""Cartons, pack sessions verifying an order, label jobs and tracking numbers."""

import pytest

from floor_app.domain.codes import CodeKind, classify
from floor_app.domain.errors import DomainError, QuantityError
from floor_app.domain.gtin import gs1_check_digit
from floor_app.domain.packing import (
    Carton,
    LabelJob,
    LabelState,
    PackSession,
    PackState,
    tracking_number,
)
from floor_app.domain.sku import Dimensions

pytestmark = pytest.mark.unit


def session() -> PackSession:
    return PackSession("PS-1", "SO-100001", "PACK-01", {"SKU-1": 2, "SKU-2": 1})


def test_carton_volume() -> None:
    carton = Carton("CTN-S", Dimensions(200, 150, 100), tare_g=80, max_weight_g=5000)
    assert carton.volume_mm3 == 3_000_000


def test_verify_counts_down_what_is_open() -> None:
    s = session()
    assert s.state is PackState.VERIFYING
    assert not s.is_complete
    assert s.verify("SKU-1") == 1
    assert s.missing == {"SKU-1": 1, "SKU-2": 1}
    assert s.verify("SKU-1") == 0
    assert s.verify("SKU-2", 1) == 0
    assert s.missing == {}
    assert s.is_complete


def test_item_not_in_the_order_is_refused() -> None:
    s = session()
    with pytest.raises(DomainError, match="SKU-9 is not in order SO-100001") as info:
        s.verify("SKU-9")
    assert "aside" in info.value.hint
    assert s.verified == {}


def test_more_than_ordered_is_refused_and_changes_nothing() -> None:
    s = session()
    s.verify("SKU-1", 2)
    with pytest.raises(QuantityError, match="SKU-1: 3 scanned but only 2 ordered"):
        s.verify("SKU-1")
    assert s.verified == {"SKU-1": 2}


@pytest.mark.parametrize("qty", [0, -1])
def test_verify_needs_a_positive_quantity(qty: int) -> None:
    s = session()
    with pytest.raises(QuantityError, match="must be positive"):
        s.verify("SKU-1", qty)
    assert s.verified == {}


def test_label_job_confirmed_by_scanning_its_tracking_number() -> None:
    job = LabelJob("evt-1", "SO-100001", "TRK1000010000007", "DHL")
    states = [job.state]
    job.confirm_scan("TRK1000010000007")
    states.append(job.state)
    assert states == [LabelState.QUEUED, LabelState.CONFIRMED]


def test_wrong_label_scanned_is_refused() -> None:
    job = LabelJob("evt-1", "SO-100001", "TRK1000010000007", "DHL")
    with pytest.raises(DomainError, match="shows TRK999, expected TRK1000010000007") as info:
        job.confirm_scan("TRK999")
    assert "wrong label" in info.value.hint
    assert job.state is LabelState.QUEUED


def test_a_reprint_needs_a_reason() -> None:
    with pytest.raises(DomainError, match="reprint needs a reason"):
        LabelJob("evt-2", "SO-1", "TRK1", "DHL", reprint_of="evt-1")
    job = LabelJob("evt-2", "SO-1", "TRK1", "DHL", reprint_of="evt-1", reprint_reason="smudged")
    assert job.reprint_of == "evt-1"


def test_tracking_number_is_deterministic_and_checked() -> None:
    number = tracking_number("SO-100001")
    assert number == tracking_number("SO-100001")
    assert number.startswith("TRK")
    body = number[3:-1]
    assert body == "000100001000"
    assert int(number[-1]) == gs1_check_digit(body)


def test_tracking_number_changes_with_the_attempt_and_the_order() -> None:
    numbers = {tracking_number("SO-100001", a) for a in range(5)}
    numbers.add(tracking_number("SO-100002"))
    assert len(numbers) == 6


def test_tracking_number_of_an_order_without_digits() -> None:
    assert tracking_number("ABC")[3:-1] == "000000000000"


def test_tracking_numbers_classify_as_tracking() -> None:
    code = classify(tracking_number("SO-100200", 3))
    assert code.kind is CodeKind.TRACKING
