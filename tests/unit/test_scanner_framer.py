"""SerialFramer: frames at the suffix, partial frames dropped after silence, overlong bounded."""

from __future__ import annotations

import pytest

from device_drivers.config import Suffix
from device_drivers.scan_rules import Rejection, RejectReason
from device_drivers.serial_scanner import SUFFIX_BYTES, SerialFramer

pytestmark = pytest.mark.unit


def framer(suffix: Suffix = "CR", max_frame: int = 64) -> SerialFramer:
    return SerialFramer(SUFFIX_BYTES[suffix], max_frame=max_frame, inter_byte_timeout_s=0.2)


@pytest.mark.parametrize(
    ("suffix", "wire"),
    [("CR", b"ABC123\r"), ("LF", b"ABC123\n"), ("CRLF", b"ABC123\r\n"), ("TAB", b"ABC123\t")],
)
def test_each_suffix_ends_a_frame(suffix: Suffix, wire: bytes) -> None:
    assert framer(suffix).feed(wire, 0.0) == [b"ABC123"]


def test_frame_split_across_reads_and_two_frames_in_one_read() -> None:
    f = framer("CRLF")
    assert f.feed(b"AB", 0.0) == []
    assert f.feed(b"C\r", 0.01) == []
    assert f.feed(b"\nDEF\r\nGH", 0.02) == [b"ABC", b"DEF"]
    assert f.pending == 2


def test_group_separator_is_kept() -> None:
    assert framer().feed(b"]C1010950110153000310ABC\x1d21XYZ\r", 0.0) == [
        b"]C1010950110153000310ABC\x1d21XYZ"
    ]


def test_crlf_from_a_scanner_configured_for_cr_gives_no_empty_or_dirty_frame() -> None:
    f = framer("CR")
    assert f.feed(b"ONE\r\nTWO\r\n", 0.0) == [b"ONE", b"TWO"]


def test_half_a_frame_then_silence_is_dropped_not_joined_to_the_next() -> None:
    f = framer()
    assert f.feed(b"HALF", 0.0) == []
    assert f.expire(0.1) is None  # not silent long enough yet
    dropped = f.expire(0.5)
    assert isinstance(dropped, Rejection) and dropped.reason is RejectReason.PARTIAL
    assert f.feed(b"WHOLE\r", 0.6) == [b"WHOLE"]


def test_silence_noticed_when_the_next_bytes_arrive() -> None:
    f = framer()
    f.feed(b"HALF", 0.0)
    out = f.feed(b"WHOLE\r", 5.0)
    assert isinstance(out[0], Rejection) and out[0].reason is RejectReason.PARTIAL
    assert out[1:] == [b"WHOLE"]


def test_ten_thousand_byte_frame_is_rejected_once_with_bounded_memory() -> None:
    f = framer(max_frame=64)
    out: list[bytes | Rejection] = []
    for i in range(0, 10_000, 500):
        out += f.feed(b"9" * 500, i / 1e6)
        assert len(f._buffer) <= 64  # held bytes stay bounded while discarding
    out += f.feed(b"\rNEXT\r", 0.02)
    assert len(out) == 2
    assert isinstance(out[0], Rejection) and out[0].reason is RejectReason.OVERLONG
    assert "10000" in out[0].detail
    assert out[1] == b"NEXT"


def test_overlong_then_silence_is_one_overlong_rejection() -> None:
    f = framer(max_frame=16)
    f.feed(b"X" * 100, 0.0)
    dropped = f.expire(1.0)
    assert isinstance(dropped, Rejection) and dropped.reason is RejectReason.OVERLONG
    assert f.pending == 0


def test_crlf_suffix_split_exactly_at_the_discard_boundary() -> None:
    f = framer("CRLF", max_frame=8)
    out = f.feed(b"Y" * 20 + b"\r", 0.0) + f.feed(b"\nOK\r\n", 0.01)
    assert [type(o) for o in out] == [Rejection, bytes]
    assert out[1] == b"OK"


def test_drop_reports_a_frame_cut_by_unplugging() -> None:
    f = framer()
    f.feed(b"]E0400638", 0.0)
    dropped = f.drop("the port went away")
    assert dropped is not None and dropped.reason is RejectReason.PARTIAL
    assert "went away" in dropped.detail
    assert f.drop("again") is None


def test_empty_suffix_is_refused() -> None:
    with pytest.raises(ValueError):
        SerialFramer(b"", max_frame=10, inter_byte_timeout_s=0.1)
