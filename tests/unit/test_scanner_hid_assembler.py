"""HidCodeAssembler: key events to codes, with the same partial/overlong rules as serial."""

from __future__ import annotations

import pytest

from device_drivers.config import HidScannerConfig
from device_drivers.hid_scanner import PARTIAL_TIMEOUT_S, HidCodeAssembler
from device_drivers.keymaps import Layout, type_text
from device_drivers.scan_rules import Rejection, RejectReason

pytestmark = pytest.mark.unit


def run(
    assembler: HidCodeAssembler, text: str, layout: Layout = "us", t: float = 0.0
) -> list[object]:
    out: list[object] = []
    for code, value in type_text(text, layout):
        out += assembler.feed(code, value, t)
        t += 0.001
    return out


def test_enter_ends_a_code_in_the_configured_layout() -> None:
    a = HidCodeAssembler(HidScannerConfig(device="/dev/input/event3", layout="de"))
    assert run(a, "]C1Maß-42\r", "de") == ["]C1Maß-42".encode()]


def test_tab_terminator() -> None:
    a = HidCodeAssembler(HidScannerConfig(device="x", terminator="tab"))
    assert run(a, "T0901\t") == [b"T0901"]


def test_half_a_code_then_silence_is_dropped() -> None:
    a = HidCodeAssembler(HidScannerConfig(device="x"))
    assert run(a, "SO-10") == []
    dropped = a.expire(PARTIAL_TIMEOUT_S + 1.0)
    assert isinstance(dropped, Rejection) and dropped.reason is RejectReason.PARTIAL
    assert run(a, "T0901\r", t=5.0) == [b"T0901"]


def test_overlong_code_is_rejected() -> None:
    a = HidCodeAssembler(HidScannerConfig(device="x", max_length=10))
    out = run(a, "9" * 200 + "\r")
    assert len(out) == 1
    assert isinstance(out[0], Rejection) and out[0].reason is RejectReason.OVERLONG


def test_drop_when_the_device_goes_away_forgets_modifiers() -> None:
    a = HidCodeAssembler(HidScannerConfig(device="x"))
    a.feed(42, 1, 0.0)  # shift held when the cable was pulled
    assert run(a, "ab\r") == [b"AB"]
    a.feed(42, 1, 0.5)
    run(a, "cd", t=0.6)
    assert a.drop("gone") is not None
    assert run(a, "a\r", t=1.0) == [b"a"]
