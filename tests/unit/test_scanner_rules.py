"""ScanRules: what becomes a Scan and what is rejected, with the reason."""

from __future__ import annotations

import pytest

from device_drivers.base import Scan
from device_drivers.scan_rules import Rejection, RejectReason, ScannerCounters, ScanRules
from floor_app.domain.symbology import Symbology

pytestmark = pytest.mark.unit


def test_aim_identifier_split_off_and_gs_preserved() -> None:
    result = ScanRules().check_bytes(b"]d201095011010209171719050810ABCD1234\x1d2110", "s1")
    assert isinstance(result, Scan)
    assert result.aim == "]d2"
    assert result.symbology is Symbology.GS1_DATAMATRIX
    assert result.text == "01095011010209171719050810ABCD1234\x1d2110"
    assert result.raw.startswith(b"]d2")
    assert result.source == "s1"


def test_plain_code_without_aim_is_unknown_symbology() -> None:
    result = ScanRules().check_bytes(b"T0901", "s1")
    assert isinstance(result, Scan)
    assert result.symbology is Symbology.UNKNOWN and result.aim == ""


def test_iso15434_separators_are_allowed() -> None:
    result = ScanRules().check_text("[)>\x1e06\x1dP123\x1e\x04", "s1")
    assert isinstance(result, Scan)


@pytest.mark.parametrize("raw", [b"AB\x00CD", b"\x07\x08\x1b[2J", b"ABC\x7fD"])
def test_control_characters_are_garbage(raw: bytes) -> None:
    result = ScanRules().check_bytes(raw, "s1")
    assert isinstance(result, Rejection) and result.reason is RejectReason.GARBAGE
    assert "0x" in result.detail


def test_undecodable_bytes_are_garbage() -> None:
    result = ScanRules().check_bytes(b"\xff\xfe\x80ABC", "s1")
    assert isinstance(result, Rejection) and result.reason is RejectReason.GARBAGE
    assert "0xff" in result.detail


def test_other_encodings_by_config() -> None:
    result = ScanRules(encoding="gb18030").check_bytes("仓库A1".encode("gb18030"), "s1")
    assert isinstance(result, Scan) and result.text == "仓库A1"


def test_wrong_symbology_is_rejected_when_the_station_restricts() -> None:
    rules = ScanRules(symbologies=frozenset({Symbology.GS1_128, Symbology.EAN13}))
    assert isinstance(rules.check_text("]E04006381333931", "s1"), Scan)
    wrong = rules.check_text("]Q1https://example.invalid", "s1")
    assert isinstance(wrong, Rejection) and wrong.reason is RejectReason.WRONG_SYMBOLOGY
    assert "qr" in wrong.detail and "]Q1" in wrong.detail
    bare = rules.check_text("4006381333931", "s1")
    assert isinstance(bare, Rejection) and "no AIM" in bare.detail


def test_length_limits() -> None:
    rules = ScanRules(min_length=4, max_length=10)
    short = rules.check_text("]C1AB", "s1")
    assert isinstance(short, Rejection) and short.reason is RejectReason.TOO_SHORT
    long = rules.check_text("X" * 11, "s1")
    assert isinstance(long, Rejection) and long.reason is RejectReason.OVERLONG
    huge = rules.check_bytes(b"9" * 10_000, "s1")
    assert isinstance(huge, Rejection) and huge.reason is RejectReason.OVERLONG
    assert isinstance(rules.check_text("]C1ABCDEFGHIJ", "s1"), Scan)


def test_aim_identifier_alone_is_too_short() -> None:
    result = ScanRules().check_text("]C1", "s1")
    assert isinstance(result, Rejection) and result.reason is RejectReason.TOO_SHORT


def test_counters_flatten_for_diagnostics() -> None:
    counters = ScannerCounters(scans=3)
    counters.rejected[RejectReason.GARBAGE] += 2
    flat = counters.as_dict()
    assert flat["scans"] == 3 and flat["rejected"] == 2 and flat["rejected_garbage"] == 2
