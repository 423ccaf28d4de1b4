"""Receiving's rules and the notice files: counting onto lines by SKU and lot, taking back,
serials once, variances per SKU with the reasons that fit them, closing; every bad notice
row refused with its file, line, column and reason."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from floor_app.domain.errors import DomainError, IllegalTransition, QuantityError
from floor_app.domain.receiving import (
    Condition,
    Receipt,
    ReceiptKind,
    ReceiptLine,
    ReceiptState,
    VarianceReason,
    expiry_refusal,
    tracking_refusal,
)
from hub.receiving.files import read_notices
from hub.site_files.csvfile import Problems

pytestmark = pytest.mark.unit


def notice() -> Receipt:
    return Receipt(
        "R-000001",
        "ASN-1",
        "Acme",
        lines=[
            ReceiptLine(1, "TEA", expected=12, lot="L1"),
            ReceiptLine(2, "TEA", expected=6),
            ReceiptLine(3, "MUG", expected=10),
        ],
    )


def test_counts_go_to_the_line_of_their_lot_or_one_without() -> None:
    r = notice()
    assert r.count("TEA", 12, lot="L1").line_no == 1
    line = r.count("TEA", 4, lot="L2", expiry="2030-01-01")
    assert (line.line_no, line.lot, line.expiry) == (2, "L2", "2030-01-01")  # took the lot
    extra = r.count("TEA", 2, lot="L3")  # no free line of TEA left: a line of its own
    assert (extra.line_no, extra.expected, extra.received) == (4, 0, 2)
    assert r.count("SOAP", 1).line_no == 5  # not on the notice at all
    assert r.state is ReceiptState.RECEIVING


def test_damaged_units_and_taking_back() -> None:
    r = notice()
    r.count("MUG", 10)
    r.count("MUG", 1, condition=Condition.DAMAGED)
    r.count("MUG", -2)
    line = r.lines[2]
    assert (line.received, line.damaged, line.counted) == (8, 1, 9)
    with pytest.raises(QuantityError) as taken:
        r.count("MUG", -2, condition=Condition.DAMAGED)
    assert taken.value.code == "receiving.take_back_more"
    with pytest.raises(QuantityError):
        r.count("BOWL", -1)
    with pytest.raises(QuantityError):
        r.count("MUG", 0)


def test_a_serial_is_counted_once_and_may_be_taken_back() -> None:
    r = notice()
    r.count("MUG", 1, serial="S1")
    with pytest.raises(DomainError) as twice:
        r.count("MUG", 1, serial="S1")
    assert twice.value.code == "receiving.serial_twice"
    r.count("MUG", -1, serial="S1")
    r.count("MUG", 1, serial="S1")  # back again after the take-back
    assert r.serials == ["S1"] and r.lines[2].received == 1


def test_variances_are_per_sku_and_need_a_fitting_reason() -> None:
    r = notice()
    r.count("TEA", 12, lot="L1")
    r.count("TEA", 6, lot="L2")  # TEA: 18 of 18, across two lots
    r.count("MUG", 8)
    r.count("MUG", 2, condition=Condition.DAMAGED)
    r.count("SOAP", 3)
    variances = {v.sku: v for v in r.variances()}
    assert set(variances) == {"MUG", "SOAP"}
    assert (variances["MUG"].over, variances["SOAP"].over) == (-2, 3)
    assert VarianceReason.DAMAGED in variances["MUG"].reasons
    assert VarianceReason.DAMAGED not in variances["SOAP"].reasons  # an over receipt
    with pytest.raises(DomainError) as missing:
        r.close({"MUG": VarianceReason.DAMAGED})
    assert missing.value.code == "receiving.reason_missing"
    with pytest.raises(DomainError):  # short_shipped cannot explain units over
        r.close({"MUG": VarianceReason.DAMAGED, "SOAP": VarianceReason.SHORT_SHIPPED})
    closed = r.close({"MUG": VarianceReason.DAMAGED, "SOAP": VarianceReason.NOT_ON_NOTICE})
    assert len(closed) == 2 and r.state is ReceiptState.CLOSED
    with pytest.raises(IllegalTransition):
        r.count("MUG", 1)


def test_closing_needs_something_counted_and_a_blind_receipt_has_no_variances() -> None:
    with pytest.raises(DomainError) as empty:
        notice().close({})
    assert empty.value.code == "receiving.nothing_counted"
    blind = Receipt("BL-1", "DN-1", kind=ReceiptKind.BLIND)
    blind.count("MUG", 5)
    assert blind.variances() == [] and blind.close({}) == []


def test_a_receipt_survives_its_json() -> None:
    r = notice()
    r.count("MUG", 1, serial="S9", sscc="003506032100000017")
    assert Receipt.from_dict(json.loads(json.dumps(r.as_dict()))) == r


def test_tracking_and_expiry_refusals() -> None:
    today = dt.date(2026, 12, 8)
    assert expiry_refusal("2026-12-07", today) is not None
    assert expiry_refusal("2026-12-08", today) is None and expiry_refusal("", today) is None
    lot = tracking_refusal("TEA", lot_tracked=True, serial_tracked=False, lot="", serial="", qty=1)
    assert lot is not None and lot.code == "receiving.lot_missing"
    serial = tracking_refusal("M", lot_tracked=False, serial_tracked=True, lot="", serial="", qty=1)
    assert serial is not None and serial.code == "receiving.serial_missing"
    many = tracking_refusal("M", lot_tracked=False, serial_tracked=True, lot="", serial="S", qty=6)
    assert many is not None and many.code == "receiving.serial_one"
    assert (
        tracking_refusal("M", lot_tracked=True, serial_tracked=True, lot="L", serial="S", qty=1)
        is None
    )


# -- notice files -----------------------------------------------------------------------------


def problems_of(path: Path) -> list[str]:
    problems = Problems()
    read_notices(path, problems)
    return [str(p) for p in problems.items]


def test_a_good_csv_groups_rows_by_reference(tmp_path: Path) -> None:
    path = tmp_path / "asn.csv"
    path.write_bytes(
        "\ufeffreference,supplier,sku,gtin,qty,lot,expiry,sscc\n"
        "ASN-1,Acme,TEA,,12,L1,2030-01-31,003506032100000017\n"
        "ASN-2,Brix,,5060321001105,3,,,\n"
        "ASN-1,,MUG,,4,,,\n".encode()
    )
    problems = Problems()
    found = read_notices(path, problems)
    assert not problems
    assert [(n.reference, n.supplier, len(n.lines)) for n in found.notices] == [
        ("ASN-1", "Acme", 2),
        ("ASN-2", "Brix", 1),
    ]
    assert found.notices[1].lines[0].gtin == "05060321001105"
    assert found.where[0] == ["2", "4"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reference;qty\nA;1\n", "asn.csv:1: the columns are separated by semicolons"),
        ("reference,sku\nA,TEA\n", "asn.csv:1: qty: missing column"),
        ("reference,gtin,qty\nA,5060321001104,1\n", "asn.csv:2: gtin:"),
        ("reference,sku,qty\nA,TEA,-3\n", "asn.csv:2: qty:"),
        ("reference,sku,qty,expiry\nA,TEA,1,2030-02-30\n", "asn.csv:2: expiry: '2030-02-30'"),
        ("reference,sku,qty,expiry\nA,TEA,1,31/01/2030\n", "asn.csv:2: expiry:"),
        ("reference,sku,qty,sscc\nA,TEA,1,003506032100000018\n", "asn.csv:2: sscc: SSCC"),
        ("reference,sku,qty\nA,,1\n", "asn.csv:2: a line needs its sku or its gtin"),
        ("reference,supplier,sku,qty\nA,X,TEA,1\nA,Y,MUG,1\n", "asn.csv:3: supplier: notice A"),
        ("reference,sku,qty\n", "asn.csv:1: the file has a header but no notice lines"),
        ("reference,sku,qty\nA/B,TEA,1\n", "asn.csv:2: reference:"),
    ],
)
def test_bad_csv_rows_name_file_line_and_column(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "asn.csv"
    path.write_text(text, encoding="utf-8")
    found = problems_of(path)
    assert any(p.startswith(expected) for p in found), found


def test_a_file_not_utf8_or_too_large_is_refused(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("reference,sku,qty\nÄSN,TEA,1\n".encode("latin-1"))
    assert problems_of(latin) == ["latin.csv:2: not UTF-8 text; save the file as CSV UTF-8"]
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(200 * 1024 * 1024)  # sparse: 200 MB without writing them
    (problem,) = problems_of(big)
    assert problem.startswith("big.csv: the file is 210 MB; a notice file is at most")


def test_json_notices_and_their_problems(tmp_path: Path) -> None:
    good = tmp_path / "n.json"
    good.write_text(
        json.dumps([{"reference": "ASN-9", "lines": [{"sku": "TEA", "qty": 2, "lot": "L1"}]}]),
        encoding="utf-8",
    )
    problems = Problems()
    found = read_notices(good, problems)
    assert not problems and found.notices[0].lines[0].lot == "L1"
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"notices": [{"reference": "ASN-9", "lines": [{"sku": "TEA", "qty": 0}]}]}),
        encoding="utf-8",
    )
    assert problems_of(bad)[0].startswith("bad.json: notices[0].lines[0]: qty:")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    assert problems_of(broken)[0].startswith("broken.json: not valid JSON")
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"reference": "ASN-1", "lines": []}), encoding="utf-8")
    assert problems_of(empty)[0].startswith("empty.json: notices[0]: lines:")
