"""GTIN-8/12/13/14 check digits, validation and the GTIN-14 form."""

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from floor_app.domain.errors import InvalidBarcode
from floor_app.domain.gtin import (
    gs1_check_digit,
    is_ascii_digits,
    normalise_gtin,
    validate_gtin,
    with_check_digit,
)

pytestmark = pytest.mark.unit

# Published examples: GS1's own GTIN-14, an EAN-13, a UPC-A and an EAN-8.
KNOWN_GOOD = ["09501101530003", "4006381333931", "036000291452", "96385074"]


@pytest.mark.parametrize("code", KNOWN_GOOD)
def test_published_gtins_validate_unchanged(code: str) -> None:
    assert validate_gtin(code) == code


@pytest.mark.parametrize(
    ("payload", "digit"),
    [("0950110153000", 3), ("400638133393", 1), ("03600029145", 2), ("9638507", 4)],
)
def test_check_digit_of_published_payloads(payload: str, digit: int) -> None:
    assert gs1_check_digit(payload) == digit


def test_sscc_check_digit_uses_the_same_rule() -> None:
    assert gs1_check_digit("10614141123456789") == 7


def test_normalise_pads_to_fourteen_digits() -> None:
    assert normalise_gtin("96385074") == "00000096385074"
    assert normalise_gtin("036000291452") == "00036000291452"
    assert normalise_gtin("4006381333931") == "04006381333931"
    assert normalise_gtin("09501101530003") == "09501101530003"


def test_surrounding_whitespace_is_ignored() -> None:
    assert validate_gtin(" 4006381333931\r\n") == "4006381333931"


def test_wrong_check_digit_names_expected_and_got() -> None:
    with pytest.raises(InvalidBarcode) as info:
        validate_gtin("4006381333932")
    assert "expected 1" in info.value.reason
    assert "got 2" in info.value.reason
    assert info.value.hint


@pytest.mark.parametrize("length", [1, 7, 9, 10, 11, 15, 18])
def test_wrong_lengths_are_refused_with_the_length(length: int) -> None:
    code = with_check_digit("1" * (length - 1)) if length > 1 else "1"
    with pytest.raises(InvalidBarcode, match=f"has {length} digits"):
        validate_gtin(code)


@pytest.mark.parametrize(
    "code",
    [
        "",
        "   ",
        "400638133393X",
        "4006381-333931",
        "4006381 333931",
        "-4006381333931",
        "²²²²²²²²",  # superscripts: str.isdigit() says yes, int() says no
        "١٢٣٤٥٦٧٠",  # Arabic-Indic digits
        "４００６３８１３３３９３１",  # full-width digits, a valid EAN-13 otherwise
    ],
)
def test_anything_but_ascii_digits_is_refused(code: str) -> None:
    with pytest.raises(InvalidBarcode, match="digits 0-9 only"):
        validate_gtin(code)


@pytest.mark.parametrize("payload", ["", "12a", "²²", "１２３"])
def test_check_digit_of_non_digits_is_invalid_barcode(payload: str) -> None:
    with pytest.raises(InvalidBarcode, match="not all digits"):
        gs1_check_digit(payload)


def test_is_ascii_digits() -> None:
    assert is_ascii_digits("0123456789")
    assert not is_ascii_digits("")
    assert not is_ascii_digits("²")
    assert not is_ascii_digits("１")
    assert not is_ascii_digits("12 3")


payloads = st.sampled_from([7, 11, 12, 13]).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)
)


@given(payloads)
def test_any_payload_with_its_check_digit_validates(payload: str) -> None:
    code = with_check_digit(payload)
    assert validate_gtin(code) == code
    assert normalise_gtin(code) == code.zfill(14)
    assert len(normalise_gtin(code)) == 14


@given(payloads, st.integers(min_value=1, max_value=9))
def test_any_other_last_digit_fails(payload: str, offset: int) -> None:
    wrong = (gs1_check_digit(payload) + offset) % 10
    with pytest.raises(InvalidBarcode, match="wrong check digit"):
        validate_gtin(payload + str(wrong))


@given(payloads, st.data())
def test_a_single_changed_digit_is_always_caught(payload: str, data: st.DataObject) -> None:
    code = with_check_digit(payload)
    i = data.draw(st.integers(min_value=0, max_value=len(code) - 1))
    new = data.draw(st.sampled_from([d for d in "0123456789" if d != code[i]]))
    with pytest.raises(InvalidBarcode):
        validate_gtin(code[:i] + new + code[i + 1 :])


@given(st.text(max_size=20))
def test_validate_raises_only_invalid_barcode(text: str) -> None:
    with contextlib.suppress(InvalidBarcode):
        assert validate_gtin(text) == text.strip()
