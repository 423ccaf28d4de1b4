"""Scan classification: GTINs, GS1 element strings, AIM identifiers and the floor's own codes."""

from datetime import date
from decimal import Decimal

import pytest

from floor_app.domain.codes import CodeKind, classify, is_valid_gtin, parse_gs1
from floor_app.domain.errors import InvalidBarcode
from floor_app.domain.symbology import Symbology

pytestmark = pytest.mark.unit

GS = "\x1d"
GTIN = "09501101530003"  # GS1's example GTIN-14
SSCC = "106141411234567897"  # GS1's example SSCC


# -- plain GTINs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "symbology"),
    [
        ("96385074", "00000096385074", Symbology.EAN8),
        ("036000291452", "00036000291452", Symbology.UPCA),
        ("4006381333931", "04006381333931", Symbology.EAN13),
        (GTIN, GTIN, Symbology.CODE128),
    ],
)
def test_plain_gtins_become_gtin_14(text: str, value: str, symbology: Symbology) -> None:
    code = classify(text)
    assert code.kind is CodeKind.PRODUCT
    assert code.value == value
    assert code.symbology is symbology
    assert code.raw == text
    assert code.ais == {}


def test_scanner_suffixes_and_padding_are_stripped() -> None:
    for text in ("4006381333931\r\n", "4006381333931\r", "4006381333931\t", " 4006381333931 "):
        code = classify(text)
        assert code.value == "04006381333931"
        assert code.raw == text


@pytest.mark.parametrize(
    ("text", "value", "symbology"),
    [
        ("]E04006381333931", "04006381333931", Symbology.EAN13),
        ("]E00036000291452", "00036000291452", Symbology.EAN13),  # UPC-A sent as EAN-13
        ("]E496385074", "00000096385074", Symbology.EAN8),
        ("]I009501101530003", GTIN, Symbology.ITF),
    ],
)
def test_linear_symbols_with_aim_identifier(text: str, value: str, symbology: Symbology) -> None:
    code = classify(text)
    assert (code.kind, code.value, code.symbology) == (CodeKind.PRODUCT, value, symbology)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4006381333932", "expected 1, got 2"),
        ("]E04006381333930", "expected 1, got 0"),
        ("96385075", "expected 4, got 5"),
        ("036000291453", "expected 2, got 3"),
        ("09501101530004", "expected 3, got 4"),
    ],
)
def test_wrong_check_digit_is_refused_with_the_right_one(text: str, expected: str) -> None:
    with pytest.raises(InvalidBarcode, match="wrong check digit") as info:
        classify(text)
    assert expected in info.value.reason


def test_is_valid_gtin() -> None:
    assert is_valid_gtin("4006381333931")
    assert not is_valid_gtin("4006381333932")
    assert not is_valid_gtin("abc")
    assert not is_valid_gtin("")


# -- GS1 element strings: every AI the floor reads ------------------------------------


def test_ai_01_gtin() -> None:
    code = classify(f"]C101{GTIN}")
    assert code.kind is CodeKind.PRODUCT
    assert code.value == GTIN
    assert code.symbology is Symbology.GS1_128
    assert code.ais == {"01": GTIN}


def test_ai_00_sscc() -> None:
    code = classify(f"]C100{SSCC}")
    assert code.kind is CodeKind.SSCC
    assert code.value == SSCC
    assert code.ais == {"00": SSCC}


def test_ai_02_with_37_count_of_trade_items() -> None:
    code = classify(f"]C102{GTIN}3712")
    assert code.kind is CodeKind.PRODUCT
    assert code.value == GTIN
    assert code.count == 12


def test_sscc_wins_over_the_contents_it_describes() -> None:
    code = classify(f"]C100{SSCC}02{GTIN}3724")
    assert code.kind is CodeKind.SSCC
    assert code.value == SSCC
    assert code.ais == {"00": SSCC, "02": GTIN, "37": "24"}


def test_ai_10_batch_and_17_expiry() -> None:
    code = classify(f"]C101{GTIN}17261231" + "10ABC-123")
    assert code.batch == "ABC-123"
    assert code.expiry == date(2026, 12, 31)


def test_ai_17_day_zero_means_the_last_day_of_the_month() -> None:
    assert classify(f"]C101{GTIN}17280200").expiry == date(2028, 2, 29)


def test_ai_15_best_before() -> None:
    code = classify(f"]C101{GTIN}15270630")
    assert code.best_before == date(2027, 6, 30)
    assert code.expiry is None


def test_ai_11_production_date_is_kept_in_the_ais() -> None:
    code = classify(f"]C101{GTIN}11260101")
    assert code.ais["11"] == "260101"
    assert code.expiry is None and code.best_before is None


def test_ai_21_serial() -> None:
    assert classify(f"]C101{GTIN}21SN-0042").serial == "SN-0042"


def test_ai_30_variable_count() -> None:
    assert classify(f"]C101{GTIN}30" + "250").count == 250


@pytest.mark.parametrize(
    ("ai", "weight"),
    [
        ("3100", Decimal("1250")),
        ("3101", Decimal("125.0")),
        ("3102", Decimal("12.50")),
        ("3103", Decimal("1.250")),
        ("3104", Decimal("0.1250")),
        ("3105", Decimal("0.01250")),
    ],
)
def test_ai_310x_net_weight_in_kg(ai: str, weight: Decimal) -> None:
    code = classify(f"]C101{GTIN}{ai}001250")
    assert code.net_weight_kg == weight
    assert code.ais[ai] == "001250"


def test_every_field_at_once_with_group_separators() -> None:
    text = f"]C101{GTIN}11260101" + "15270101" + "17271231" + "3103000750" + f"10LOT7{GS}21S99"
    code = classify(text)
    assert code.kind is CodeKind.PRODUCT
    assert code.value == GTIN
    assert code.batch == "LOT7"
    assert code.serial == "S99"
    assert code.best_before == date(2027, 1, 1)
    assert code.expiry == date(2027, 12, 31)
    assert code.net_weight_kg == Decimal("0.750")
    assert set(code.ais) == {"01", "11", "15", "17", "3103", "10", "21"}
    assert code.raw == text


@pytest.mark.parametrize(
    ("prefix", "symbology"),
    [
        ("]C1", Symbology.GS1_128),
        ("]d2", Symbology.GS1_DATAMATRIX),
        ("]Q3", Symbology.GS1_QR),
        ("]e0", Symbology.GS1_DATABAR),
    ],
)
def test_gs1_symbologies_are_parsed_as_element_strings(prefix: str, symbology: Symbology) -> None:
    code = classify(f"{prefix}01{GTIN}10B1{GS}17261231")
    assert code.symbology is symbology
    assert (code.value, code.batch, code.expiry) == (GTIN, "B1", date(2026, 12, 31))


def test_leading_group_separator_fnc1_is_ignored() -> None:
    assert classify(f"]d2{GS}01{GTIN}").value == GTIN
    assert classify(f"]Q3{GS}{GS}01{GTIN}").value == GTIN


def test_trailing_group_separator_is_harmless() -> None:
    assert classify(f"]C101{GTIN}10ABC{GS}").batch == "ABC"


def test_gs1_string_without_identifier_is_recognised_by_its_ai() -> None:
    code = classify(f"01{GTIN}17261231")
    assert code.kind is CodeKind.PRODUCT
    assert code.symbology is Symbology.GS1_128
    assert code.expiry == date(2026, 12, 31)
    assert classify(f"00{SSCC}").kind is CodeKind.SSCC


def test_element_string_starting_with_group_separator_and_no_identifier() -> None:
    code = classify(f"{GS}01{GTIN}10X1")
    assert (code.value, code.batch) == (GTIN, "X1")


def test_parse_gs1_directly_keeps_the_raw_text() -> None:
    code = parse_gs1(f"01{GTIN}")
    assert code.raw == f"01{GTIN}"
    assert code.symbology is Symbology.GS1_128
    assert parse_gs1(f"01{GTIN}", Symbology.GS1_DATAMATRIX, raw="R").raw == "R"


# -- GS1: bad input ------------------------------------------------------------------


def test_gs1_gtin_with_wrong_check_digit() -> None:
    with pytest.raises(InvalidBarcode, match=r"GTIN 09501101530004 is invalid.*check digit"):
        classify("]C10109501101530004")


def test_gs1_sscc_with_wrong_check_digit() -> None:
    with pytest.raises(InvalidBarcode, match="SSCC 106141411234567890 is invalid"):
        classify("]C100106141411234567890")


def test_plain_sscc_with_wrong_check_digit() -> None:
    with pytest.raises(InvalidBarcode, match="SSCC 106141411234567890 is invalid"):
        classify("106141411234567890")
    assert classify(SSCC).kind is CodeKind.SSCC


@pytest.mark.parametrize(
    ("text", "what"),
    [
        (f"]C101{GTIN}17261340", "17"),  # month 13
        (f"]C101{GTIN}17260230", "17"),  # 30 February
        (f"]C101{GTIN}3103", "3103"),  # weight without its digits
        ("]C10112345678", "01"),  # GTIN too short
        (f"]C101{GTIN}71", "71"),  # an AI cut off
    ],
)
def test_malformed_element_strings_are_refused_naming_the_ai(text: str, what: str) -> None:
    with pytest.raises(InvalidBarcode, match="not a valid GS1 element string") as info:
        classify(text)
    assert what in info.value.reason
    assert "separator" in info.value.hint


@pytest.mark.parametrize("text", [f"]C101{GTIN}30", "]C130", f"]C101{GTIN}30{GS}10A"])
def test_ai_without_data_is_refused(text: str) -> None:
    with pytest.raises(InvalidBarcode, match=r"AI \(30\) without data"):
        classify(text)


def test_gs1_code_without_gtin_or_sscc() -> None:
    with pytest.raises(InvalidBarcode, match=r"no GTIN.*AIs \['10', '17'\]"):
        classify(f"]C110ABC{GS}17261231")


def test_same_ai_twice_with_different_values_is_refused() -> None:
    with pytest.raises(InvalidBarcode, match=r"AI \(10\) twice.*'ABC' and 'DEF'"):
        classify(f"]C101{GTIN}10ABC{GS}10DEF")
    with pytest.raises(InvalidBarcode, match=r"AI \(01\) twice"):
        classify(f"]C101{GTIN}0104006381333931")


def test_same_ai_twice_with_the_same_value_is_accepted() -> None:
    assert classify(f"]C101{GTIN}10ABC{GS}10ABC").batch == "ABC"


@pytest.mark.parametrize(
    "text",
    [
        "]C101٠٩٥٠١١٠١٥٣٠٠٠٣",  # Arabic-Indic digits match biip's \d
        f"]C101{GTIN}10ÄÖ",
        "]C1²²",
    ],
)
def test_gs1_text_outside_ascii_is_refused(text: str) -> None:
    with pytest.raises(InvalidBarcode, match="outside ASCII"):
        classify(text)


# -- keyboard wedges that lose the group separator -----------------------------------


def test_lost_separator_after_a_lot_hides_the_expiry_and_is_reported() -> None:
    # 10ABC123 <GS> 17261231 typed by a wedge without the GS: the lot swallows the expiry.
    with pytest.raises(InvalidBarcode, match="dropped a group separator") as info:
        classify(f"]C101{GTIN}10ABC123" + "17261231")
    assert "ABC12317261231" in info.value.reason
    assert "(17) 261231" in info.value.reason
    assert info.value.hint


@pytest.mark.parametrize(
    "tail",
    ["15270101", "11260101", "3102001500"],
)
def test_lost_separator_before_a_date_or_weight_is_reported(tail: str) -> None:
    with pytest.raises(InvalidBarcode, match="ambiguous"):
        classify(f"]C101{GTIN}21SER9" + tail)


def test_with_the_separator_the_same_code_parses() -> None:
    code = classify(f"]C101{GTIN}10ABC123{GS}17261231")
    assert (code.batch, code.expiry) == ("ABC123", date(2026, 12, 31))


def test_lost_separator_that_overflows_the_field_is_reported() -> None:
    # An 18-character lot followed by a serial: AI 10 holds at most 20 characters, so the
    # lot takes "21" and what is left ("S1") is no AI.
    with pytest.raises(InvalidBarcode, match="not a valid GS1 element string") as info:
        classify(f"]C101{GTIN}10" + "L" * 18 + "21S1")
    assert "separator" in info.value.hint


def test_lost_separator_before_the_gtin_leaves_no_gtin() -> None:
    with pytest.raises(InvalidBarcode, match="no GTIN"):
        classify(f"]C110ABC01{GTIN}")


def test_a_full_length_lot_ends_by_itself() -> None:
    code = classify(f"]C101{GTIN}10" + "L" * 20 + "21S1")
    assert (code.batch, code.serial) == ("L" * 20, "S1")


def test_fixed_length_fields_first_need_no_separator() -> None:
    code = classify(f"]C101{GTIN}17261231" + "10ABC123")
    assert (code.batch, code.expiry) == ("ABC123", date(2026, 12, 31))


def test_serial_ending_in_digits_is_kept_when_the_code_has_its_own_expiry() -> None:
    # A pharma pack (01, 17, 21): the serial's tail looks like an expiry, but the code
    # already carries AI 17, so nothing was swallowed.
    code = classify(f"]d201{GTIN}17261231" + "21" + "123417270131")
    assert code.serial == "123417270131"
    assert code.expiry == date(2026, 12, 31)


def test_lot_ending_in_digits_that_are_no_date_is_kept() -> None:
    assert classify(f"]C101{GTIN}10AB17261399").batch == "AB17261399"


# -- the floor's own codes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("A03-12-2A", CodeKind.LOCATION, "A03-12-2A"),
        ("b10-20-4a", CodeKind.LOCATION, "B10-20-4A"),
        ("PACK-01", CodeKind.LOCATION, "PACK-01"),
        ("STAGE-01", CodeKind.LOCATION, "STAGE-01"),
        ("DOCK-02", CodeKind.LOCATION, "DOCK-02"),
        ("QUAR-01", CodeKind.LOCATION, "QUAR-01"),
        ("RET-01", CodeKind.LOCATION, "RET-01"),
        ("T0001", CodeKind.TOTE, "T0001"),
        ("B1001", CodeKind.BADGE, "B1001"),
        ("b20010001", CodeKind.BADGE, "B20010001"),
        ("SO-100001", CodeKind.ORDER, "SO-100001"),
        ("SO100001", CodeKind.ORDER, "SO-100001"),
        ("so-100001", CodeKind.ORDER, "SO-100001"),
        ("CTN-M", CodeKind.CARTON, "CTN-M"),
        ("ctn-xl", CodeKind.CARTON, "CTN-XL"),
        ("1Z999AA10123456784", CodeKind.TRACKING, "1Z999AA10123456784"),
        ("TRK1000012340001", CodeKind.TRACKING, "TRK1000012340001"),
    ],
)
def test_floor_codes(text: str, kind: CodeKind, value: str) -> None:
    code = classify(text)
    assert (code.kind, code.value, code.raw) == (kind, value, text)
    assert code.symbology is Symbology.CODE128


@pytest.mark.parametrize(
    ("text", "kind", "symbology"),
    [
        ("]C0A03-12-2A", CodeKind.LOCATION, Symbology.CODE128),
        ("]Q1SO-100001", CodeKind.ORDER, Symbology.QR),
        ("]d1T0042", CodeKind.TOTE, Symbology.DATAMATRIX),
        ("]A0B1001", CodeKind.BADGE, Symbology.CODE39),
        ("]L0CTN-S", CodeKind.CARTON, Symbology.PDF417),
    ],
)
def test_floor_codes_with_aim_identifiers(text: str, kind: CodeKind, symbology: Symbology) -> None:
    code = classify(text)
    assert (code.kind, code.symbology) == (kind, symbology)


def test_unknown_identifier_still_classifies_the_content() -> None:
    code = classify("]X0T0001")
    assert (code.kind, code.symbology) == (CodeKind.TOTE, Symbology.UNKNOWN)


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\r\n", "\t", "]C1", "]E0\r\n", "]Q3 "])
def test_empty_scans(text: str) -> None:
    with pytest.raises(InvalidBarcode, match="empty scan") as info:
        classify(text)
    assert info.value.hint


@pytest.mark.parametrize(
    "text",
    ["\x00A03-12-2A", "A03\x07-12-2A", "T0001\x1b", "AB\nCD", "AB\tCD", "abc\x7f", "]C1\x0401"],
)
def test_control_characters_are_refused(text: str) -> None:
    with pytest.raises(InvalidBarcode, match="control characters"):
        classify(text)


@pytest.mark.parametrize(
    "text",
    [
        "HELLO",
        "A3-12-2A",  # aisle needs two digits
        "A03-12-2",  # no bin
        "T001",
        "B12",
        "SO-12",
        "CTN-",
        "PACK-1",
        "hello world",
        "AB\x1dCD",  # a separator outside a GS1 symbol
        "²²²²²²²²",  # superscript digits
        "４００６３８１３３３９３１",  # full-width digits
        "]X0",
    ],
)
def test_unknown_codes_are_refused(text: str) -> None:
    with pytest.raises(InvalidBarcode) as info:
        classify(text)
    assert info.value.reason


@pytest.mark.parametrize("length", [1, 5, 7, 9, 10, 11, 15, 16, 17, 19, 25])
def test_digit_strings_of_no_known_length(length: int) -> None:
    text = "9" * length
    with pytest.raises(InvalidBarcode, match=f"{length} digits"):
        classify(text)


def test_unknown_code_error_carries_a_hint() -> None:
    with pytest.raises(InvalidBarcode, match="unknown code 'HELLO'") as info:
        classify("HELLO")
    assert "label" in info.value.hint
