"""Properties of scan classification over generated input: it never fails any other way."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from floor_app.domain.codes import CodeKind, ScannedCode, classify
from floor_app.domain.errors import InvalidBarcode
from floor_app.domain.gtin import with_check_digit

pytestmark = pytest.mark.unit

# No deadline: the first GS1 example pays for importing biip's tables.
no_deadline = settings(deadline=None)

GS = "\x1d"
AIM_PREFIXES = ["", "]C1", "]C0", "]E0", "]E4", "]Q3", "]Q1", "]d2", "]d1", "]e0", "]X0"]
GS1_PIECES = [GS, "00", "01", "02", "10", "11", "15", "17", "21", "30", "37", "3103", "99"]


def _classify_or_invalid(text: str) -> ScannedCode | None:
    try:
        code = classify(text)
    except InvalidBarcode as exc:
        assert exc.reason  # every refusal says why
        return None
    assert code.raw == text
    assert code.value
    return code


@no_deadline
@given(st.text(max_size=60))
def test_arbitrary_text_raises_nothing_but_invalid_barcode(text: str) -> None:
    _classify_or_invalid(text)


@settings(deadline=None, max_examples=300)
@given(
    st.sampled_from(AIM_PREFIXES),
    st.lists(
        st.one_of(
            st.sampled_from(GS1_PIECES),
            st.text(alphabet="0123456789", min_size=1, max_size=14),
            st.text(alphabet="ABCXYZ-/.09", min_size=1, max_size=6),
        ),
        max_size=8,
    ),
)
def test_gs1_like_text_raises_nothing_but_invalid_barcode(prefix: str, pieces: list[str]) -> None:
    _classify_or_invalid(prefix + "".join(pieces))


@no_deadline
@given(st.sampled_from(AIM_PREFIXES), st.binary(max_size=40))
def test_bytes_decoded_leniently_raise_nothing_but_invalid_barcode(prefix: str, raw: bytes) -> None:
    _classify_or_invalid(prefix + raw.decode("latin-1"))


lots = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=20)
payload13 = st.text(alphabet="0123456789", min_size=13, max_size=13)


@no_deadline
@given(
    payload13,
    lots,
    lots,
    st.dates(min_value=date(2000, 1, 1), max_value=date(2049, 12, 31)),
    st.sampled_from(["]C1", "]d2", "]Q3", "]e0"]),
)
def test_gs1_fields_round_trip_when_separators_are_kept(
    payload: str, lot: str, serial: str, expiry: date, prefix: str
) -> None:
    gtin = with_check_digit(payload)
    text = f"{prefix}01{gtin}17{expiry:%y%m%d}10{lot}{GS}21{serial}"
    code = classify(text)
    assert code.kind is CodeKind.PRODUCT
    assert code.value == gtin
    assert (code.batch, code.serial, code.expiry) == (lot, serial, expiry)


@given(
    st.sampled_from([7, 11, 12, 13]).flatmap(
        lambda n: st.text("0123456789", min_size=n, max_size=n)
    )
)
def test_every_valid_gtin_is_a_product(payload: str) -> None:
    gtin = with_check_digit(payload)
    code = classify(gtin)
    assert code.kind is CodeKind.PRODUCT
    assert code.value == gtin.zfill(14)
