"""WedgeDecoder: scanner bursts become scans, a person's keys reach the field, in order."""

from __future__ import annotations

import pytest

from device_drivers.config import WedgeScannerConfig
from device_drivers.scan_rules import RejectReason
from device_drivers.wedge import (
    HumanKeys,
    WedgeDecoder,
    WedgeEvent,
    WedgeRejected,
    WedgeScan,
    normalise_key,
)
from floor_app.domain.symbology import Symbology

pytestmark = pytest.mark.unit

SCANNER_GAP = 0.004  # a scanner types a key every few ms
HUMAN_GAP = 0.15  # a person: 150 ms a key


def typed(decoder: WedgeDecoder, keys: list[str], start: float, gap: float) -> list[WedgeEvent]:
    events: list[WedgeEvent] = []
    t = start
    for key in keys:
        events += decoder.feed(key, t)
        t += gap
    return events


def human_text(events: list[WedgeEvent]) -> list[str]:
    return [k for e in events if isinstance(e, HumanKeys) for k in e.keys]


def scans(events: list[WedgeEvent]) -> list[str]:
    return [e.scan.text for e in events if isinstance(e, WedgeScan)]


def test_a_scanner_burst_with_enter_is_a_scan_and_types_nothing() -> None:
    d = WedgeDecoder()
    events = typed(d, [*"4006381333931", "enter"], 10.0, SCANNER_GAP)
    assert scans(events) == ["4006381333931"]
    assert human_text(events) == []
    assert d.deadline is None


def test_a_person_typing_a_quantity_gets_every_key_in_order() -> None:
    d = WedgeDecoder()
    events = typed(d, ["1", "2", "enter"], 10.0, HUMAN_GAP)
    assert scans(events) == []
    assert human_text(events) == ["1", "2", "enter"]


def test_held_key_is_released_by_flush_after_the_window() -> None:
    d = WedgeDecoder()
    assert d.feed("7", 10.0) == []
    assert d.deadline == pytest.approx(10.0 + d.config.max_interkey_s)
    assert d.flush(10.01) == []
    assert human_text(d.flush(10.1)) == ["7"]
    assert d.deadline is None


def test_the_quantity_field_never_swallows_a_barcode() -> None:
    """A person types 3 into the quantity field, then scans an item: the 3 goes to the field,
    the barcode does not, and the scan arrives whole."""
    d = WedgeDecoder()
    events = d.feed("3", 20.0)
    events += typed(d, [*"]C1T0901", "enter"], 20.4, SCANNER_GAP)
    assert human_text(events) == ["3"]
    assert scans(events) == ["T0901"]


def test_tab_terminates_and_aim_is_parsed() -> None:
    d = WedgeDecoder()
    events = typed(d, [*"]E04006381333931", "tab"], 1.0, SCANNER_GAP)
    (scan,) = [e.scan for e in events if isinstance(e, WedgeScan)]
    assert scan.symbology is Symbology.EAN13 and scan.aim == "]E0"


def test_group_separator_sent_as_ctrl_bracket_is_kept() -> None:
    d = WedgeDecoder()
    keys = [*"]C10109501101530003", "ctrl+right_square_bracket", *"21ABC", "\r"]
    assert scans(typed(d, keys, 1.0, SCANNER_GAP)) == ["0109501101530003\x1d21ABC"]


def test_short_fast_sequence_is_human_rollover_not_a_scan() -> None:
    d = WedgeDecoder()
    events = typed(d, ["1", "2", "enter"], 1.0, SCANNER_GAP)
    assert scans(events) == [] and human_text(events) == ["1", "2", "enter"]


def test_fast_burst_without_terminator_is_rejected_not_typed() -> None:
    d = WedgeDecoder()
    events = typed(d, list("4006381333931"), 1.0, SCANNER_GAP)
    events += d.flush(2.0)
    assert human_text(events) == [] and scans(events) == []
    (rejected,) = [e for e in events if isinstance(e, WedgeRejected)]
    assert rejected.rejection.reason is RejectReason.NO_TERMINATOR
    assert d.counters.rejected[RejectReason.NO_TERMINATOR] == 1


def test_without_terminators_configured_silence_ends_a_scan() -> None:
    d = WedgeDecoder(WedgeScannerConfig(terminators=[]))
    events = typed(d, list("4006381333931"), 1.0, SCANNER_GAP) + d.flush(2.0)
    assert scans(events) == ["4006381333931"]


def test_double_send_within_the_window_is_one_scan() -> None:
    d = WedgeDecoder(WedgeScannerConfig(dedupe_window_s=0.5))
    first = typed(d, [*"T0901", "enter"], 1.0, SCANNER_GAP)
    again = typed(d, [*"T0901", "enter"], 1.1, SCANNER_GAP)
    later = typed(d, [*"T0901", "enter"], 3.0, SCANNER_GAP)
    assert scans(first) == ["T0901"] and scans(again) == [] and scans(later) == ["T0901"]
    assert d.counters.duplicates == 1 and d.counters.scans == 2


def test_a_code_again_after_another_is_a_scan_of_its_own() -> None:
    d = WedgeDecoder(WedgeScannerConfig(dedupe_window_s=0.5))
    events = typed(d, [*"T0901", "enter"], 1.0, SCANNER_GAP)
    events += typed(d, [*"T0902", "enter"], 1.1, SCANNER_GAP)
    events += typed(d, [*"T0901", "enter"], 1.2, SCANNER_GAP)  # case A, case B, case A
    assert scans(events) == ["T0901", "T0902", "T0901"] and d.counters.duplicates == 0


def test_the_window_runs_from_the_scan_taken() -> None:
    d = WedgeDecoder(WedgeScannerConfig(dedupe_window_s=0.6))
    events: list[object] = []
    for n in range(6):  # the same case scanned every 0.5 s: a double send only at 0.5 s
        events += typed(d, [*"T0901", "enter"], 1.0 + n * 0.5, SCANNER_GAP)
    assert scans(events) == ["T0901"] * 3 and d.counters.duplicates == 3


def test_a_different_code_right_after_is_not_a_duplicate() -> None:
    d = WedgeDecoder()
    events = typed(d, [*"T0901", "enter"], 1.0, SCANNER_GAP)
    events += typed(d, [*"T0902", "enter"], 1.05, SCANNER_GAP)
    assert scans(events) == ["T0901", "T0902"]


def test_slow_terminator_after_a_fast_burst_is_not_a_scan() -> None:
    """The terminator must arrive within the window too: a person pressing Enter after a
    paste-like burst is typing."""
    d = WedgeDecoder()
    events = typed(d, list("ABCDEF"), 1.0, SCANNER_GAP)
    events += d.feed("enter", 1.5)
    assert scans(events) == []
    assert any(isinstance(e, WedgeRejected) for e in events)
    assert human_text(events) == ["enter"]


def test_non_character_key_releases_held_keys_first() -> None:
    d = WedgeDecoder()
    events = d.feed("5", 1.0) + d.feed("backspace", 1.01)
    assert human_text(events) == ["5", "backspace"]


def test_garbage_and_wrong_symbology_in_a_burst_are_rejected() -> None:
    d = WedgeDecoder(WedgeScannerConfig(symbologies=[Symbology.GS1_128]))
    events = typed(d, [*"]Q1HELLO", "enter"], 1.0, SCANNER_GAP)
    (rejected,) = [e for e in events if isinstance(e, WedgeRejected)]
    assert rejected.rejection.reason is RejectReason.WRONG_SYMBOLOGY
    events = typed(d, [*"]C1AB", "\x07", *"CD", "enter"], 2.0, SCANNER_GAP)
    (rejected,) = [e for e in events if isinstance(e, WedgeRejected)]
    assert rejected.rejection.reason is RejectReason.GARBAGE


def test_overlong_burst_is_rejected() -> None:
    d = WedgeDecoder(WedgeScannerConfig(max_length=20))
    events = typed(d, ["9"] * 100 + ["enter"], 1.0, SCANNER_GAP)
    (rejected,) = [e for e in events if isinstance(e, WedgeRejected)]
    assert rejected.rejection.reason is RejectReason.OVERLONG


@pytest.mark.parametrize(
    ("key", "normal"),
    [("\r", "enter"), ("\n", "enter"), ("\t", "tab"), ("Enter", "enter"), ("ctrl+]", "\x1d")],
)
def test_key_names(key: str, normal: str) -> None:
    assert normalise_key(key) == normal
