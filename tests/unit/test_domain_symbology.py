"""AIM symbology identifiers: split off a scan, mapped to the floor's symbologies."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from floor_app.domain.symbology import AimPrefix, Symbology, aim_identifier, split_aim

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "symbology"),
    [
        ("]C1", Symbology.GS1_128),
        ("]C0", Symbology.CODE128),
        ("]E0", Symbology.EAN13),
        ("]E4", Symbology.EAN8),
        ("]E3", Symbology.EAN13),
        ("]A0", Symbology.CODE39),
        ("]I0", Symbology.ITF),
        ("]Q1", Symbology.QR),
        ("]Q3", Symbology.GS1_QR),
        ("]Q4", Symbology.GS1_QR),
        ("]d1", Symbology.DATAMATRIX),
        ("]d2", Symbology.GS1_DATAMATRIX),
        ("]d5", Symbology.GS1_DATAMATRIX),
        ("]e0", Symbology.GS1_DATABAR),
        ("]L0", Symbology.PDF417),
    ],
)
def test_identifier_is_split_off_and_named(text: str, symbology: Symbology) -> None:
    prefix, rest = split_aim(text + "REST")
    assert prefix == AimPrefix(text, symbology)
    assert rest == "REST"


def test_unknown_code_character_keeps_the_content() -> None:
    prefix, rest = split_aim("]X9ABC")
    assert prefix == AimPrefix("]X9", Symbology.UNKNOWN)
    assert rest == "ABC"


@pytest.mark.parametrize("text", ["ABC", "", "]", "]C", "C1]ABC", " ]C1ABC"])
def test_no_identifier_leaves_the_text_alone(text: str) -> None:
    assert split_aim(text) == (None, text)


def test_identifier_alone_leaves_an_empty_body() -> None:
    assert split_aim("]C1") == (AimPrefix("]C1", Symbology.GS1_128), "")


def test_gs1_symbologies() -> None:
    gs1 = {s for s in Symbology if s.is_gs1}
    assert gs1 == {
        Symbology.GS1_128,
        Symbology.GS1_QR,
        Symbology.GS1_DATAMATRIX,
        Symbology.GS1_DATABAR,
    }


UPC = (Symbology.UPCA, Symbology.UPCE)


@pytest.mark.parametrize(
    "symbology", [s for s in Symbology if s is not Symbology.UNKNOWN and s not in UPC]
)
def test_aim_identifier_round_trips(symbology: Symbology) -> None:
    ident = aim_identifier(symbology)
    assert len(ident) == 3
    prefix, rest = split_aim(ident + "X")
    assert prefix is not None
    assert prefix.symbology is symbology
    assert rest == "X"


@pytest.mark.parametrize("symbology", [Symbology.UNKNOWN, *UPC])
def test_symbologies_without_an_identifier_of_their_own_get_none(symbology: Symbology) -> None:
    # UPC-A and UPC-E travel as EAN-13 (]E0) with a leading zero; their plain digits are
    # classified without a prefix instead.
    assert aim_identifier(symbology) == ""


@given(st.text(max_size=12))
def test_split_never_loses_characters(text: str) -> None:
    prefix, rest = split_aim(text)
    assert (prefix.identifier if prefix else "") + rest == text
